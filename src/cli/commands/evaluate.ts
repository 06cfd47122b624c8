import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadDetector } from '../../core/detector.js';
import { VigilError } from '../../core/errors.js';
import type { ImageSample, Series } from '../../core/types.js';
import type { SeriesScoreResult } from '../../data/series.js';
import { evaluateSeries, type SeriesEvaluation } from '../../pipeline/series-input.js';
import '../../models/index.js';
import { evaluateScores, labelScores, type Evaluation } from '../../pipeline/evaluate.js';
import '../../pipeline/adapters.js';
import { inputAdapter } from '../../pipeline/inputs.js';
import { terminalProgress } from '../progress.js';
import { writeHeatmaps } from './score.js';

interface EvaluateCliOptions {
  json?: string;
  maps?: string;
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : (100 * v).toFixed(1));

export function formatEvaluation(e: Evaluation): string {
  const i = e.image;
  const lines = [
    `image  AUROC ${pct(i.auroc)}  AUPRC ${pct(i.auprc)}  F1 ${pct(i.f1)}  precision ${pct(i.precision)}  recall ${pct(i.recall)}  (threshold ${i.threshold.toPrecision(5)})`,
    `       confusion: TP ${i.confusion.tp}  FP ${i.confusion.fp}  TN ${i.confusion.tn}  FN ${i.confusion.fn}  (${i.samples} samples, ${i.anomalies} anomalous); best F1 over thresholds ${pct(i.bestF1.f1)}`,
  ];
  if (e.pixel) lines.push(`pixel  AUROC ${pct(e.pixel.auroc)}  PRO(30% FPR) ${pct(e.pixel.pro)}`);
  lines.push('category        samples  AUROC  detected');
  for (const [cat, c] of Object.entries(e.perCategory)) {
    lines.push(`${cat.padEnd(15)} ${String(c.samples).padStart(7)}  ${pct(c.auroc).padStart(5)}  ${String(c.detected).padStart(8)}`);
  }
  return lines.join('\n');
}

/** The JSON contract of `vigil evaluate --json`. */
export function evaluationJson(e: Evaluation): Record<string, unknown> {
  const { auroc, auprc, f1, precision, recall, threshold, confusion } = e.image;
  return {
    image: { auroc, auprc, f1, precision, recall, threshold, confusion },
    pixel: e.pixel ? { auroc: e.pixel.auroc, pro: e.pixel.pro } : null,
    perCategory: e.perCategory,
  };
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, JSON.stringify(value, null, 2) + '\n');
}

export function formatSeriesEvaluation(e: SeriesEvaluation): string {
  const f = (m: { precision: number; recall: number; f1: number }) => `P ${pct(m.precision)} R ${pct(m.recall)} F1 ${pct(m.f1)}`;
  return [
    `steps  AUROC ${pct(e.auroc)}  AUPRC ${pct(e.auprc)}  (${e.steps} steps, ${e.anomalousSteps} anomalous in ${e.segments} segment(s); threshold ${e.threshold.toPrecision(5)})`,
    `       point-wise ${f(e.pointwise)} | point-adjusted ${f(e.pointAdjusted)} | range ${f(e.range)}; best point-wise F1 ${pct(e.bestF1.f1)}`,
    ...(e.nab ? [`NAB    standard ${e.nab.standard.toFixed(1)}  low FP ${e.nab.lowFP.toFixed(1)}  low FN ${e.nab.lowFN.toFixed(1)}`] : []),
  ].join('\n');
}

export async function runEvaluate(modelDir: string, dataset: string, o: EvaluateCliOptions, out: (text: string) => void = (t) => process.stdout.write(t + '\n')): Promise<Evaluation | SeriesEvaluation> {
  const detector = await loadDetector(modelDir);
  try {
    const threshold = detector.postprocess.threshold;
    if (threshold === null) throw new VigilError('E_NOT_FITTED', `${modelDir}: the model has no threshold`);
    const samples = await inputAdapter(detector.inputKind).loadTest(dataset, detector.summary().input, terminalProgress());
    const results = await detector.score(samples);
    if (detector.inputKind === 'series') {
      // Series are evaluated per time step (point-wise, point-adjusted, range F1, AUROC, NAB).
      const ev = evaluateSeries(samples as unknown as Series[], results as SeriesScoreResult[], threshold);
      out(formatSeriesEvaluation(ev));
      if (o.json) await writeJson(o.json, ev);
      return ev;
    }
    const evaluation = evaluateScores(labelScores(samples as ImageSample[], results), threshold);
    out(formatEvaluation(evaluation));
    if (o.json) await writeJson(o.json, evaluationJson(evaluation));
    if (o.maps && detector.inputKind === 'image') await writeHeatmaps(o.maps, samples as ImageSample[], results, dataset);
    return evaluation;
  } finally {
    detector.dispose();
  }
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('score the labelled test split of a data set and print precision, recall, F1, AUROC, AUPRC (and pixel AUROC / PRO with masks)')
    .argument('<model-dir>', 'a model folder written by vigil train')
    .argument('<dataset>', 'data set folder with a labelled test split')
    .option('--json <file>', 'also write the figures as JSON')
    .option('--maps <dir>', 'write heatmap PNGs of the test images to this folder')
    .action(async (modelDir: string, dataset: string, o: EvaluateCliOptions) => {
      await runEvaluate(modelDir, dataset, o);
    });
}
