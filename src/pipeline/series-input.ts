/**
 * Time-series input for the CLI, the benchmarks and the service: CSV files, folders of CSV files and
 * the NAB corpus, read in the columns a model was trained on; plus the per-step report lines of
 * `vigil score` and the per-step figures of `vigil evaluate` for series models.
 *
 * Paths:
 *  - a `.csv` file: one series (timestamp column detected, value columns = the model's or all;
 *    a `label`/`is_anomaly` column gives per-step labels);
 *  - a folder: every `.csv` in it, sorted by name (not recursive);
 *  - a NAB corpus root (`data/` + `labels/combined_windows.json`): every series with labels from
 *    the windows; for training, only each series' probationary period (NAB's first
 *    min(15%, 750) rows) is used.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../core/errors.js';
import type { ProgressSink, Series } from '../core/types.js';
import { readSeriesCsv, type SeriesCsvReport } from '../data/csv.js';
import { isNabCorpus, loadNabCorpus } from '../data/nab.js';
import { formatTime, sliceSeries, type SeriesScoreResult } from '../data/series.js';
import { auprc, auroc, extractSegments, pointAdjustedPrecisionRecallF1, pointwisePrecisionRecallF1, rangePrecisionRecallF1, scoreNabCorpus } from '../metrics/index.js';
import type { PrecisionRecallF1, RangeMetrics } from '../metrics/index.js';
import type { PostProcessor } from '../scoring/postprocess.js';
import { f1OptimalThreshold } from '../thresholds/index.js';
import { registerInputAdapter, type InputAdapter, type InputDescription } from './inputs.js';

/** A loaded series with what the reader noticed (missing values filled, irregular steps…). */
export type LoadedSeries = Series & { load?: SeriesCsvReport };

export interface SeriesInput {
  window: number | null;
  /** The model's value columns; empty = every value column. */
  columns: string[];
  timestampColumn: string | null;
  missing: 'ffill' | 'error';
}

export function seriesInput(input: InputDescription): SeriesInput {
  const i = input as Partial<SeriesInput>;
  return {
    window: typeof i.window === 'number' ? i.window : null,
    columns: Array.isArray(i.columns) ? i.columns.filter((c): c is string => typeof c === 'string') : [],
    timestampColumn: typeof i.timestampColumn === 'string' && i.timestampColumn ? i.timestampColumn : null,
    missing: i.missing === 'error' ? 'error' : 'ffill',
  };
}

async function kindOf(p: string): Promise<'file' | 'dir'> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'file';
  } catch {
    throw new VigilError('E_NOT_FOUND', `${p}: no such file or folder`, { path: p });
  }
}

/** One-line notes on a loaded series (filled values, irregular steps), empty when clean. */
export function seriesLoadNotes(r: SeriesCsvReport): string[] {
  const notes: string[] = [];
  if (r.filledTotal > 0) notes.push(`${r.source}: ${r.filledTotal} missing value(s) forward-filled (${Object.entries(r.filled).map(([c, n]) => `${c}: ${n}`).join(', ')})`);
  if (r.nudged > 0) notes.push(`${r.source}: ${r.nudged} repeated or backward timestamp(s) moved 1 ms past the previous row`);
  if (r.irregularSteps > 0 && r.medianStepMs !== null) {
    notes.push(`${r.source}: ${r.irregularSteps} irregular step(s) (median step ${r.medianStepMs} ms, largest ${r.largestStepMs} ms)`);
  }
  return notes;
}

async function readOne(file: string, input: SeriesInput): Promise<LoadedSeries> {
  const { series, report } = await readSeriesCsv(file, {
    ...(input.columns.length > 0 ? { valueColumns: input.columns } : {}),
    ...(input.timestampColumn ? { timestampColumn: input.timestampColumn } : {}),
    missing: input.missing,
  });
  if (input.window !== null && series.length < input.window) {
    throw new VigilError('E_SHAPE', `${file}: ${series.length} row(s), fewer than the model's window of ${input.window}`, { file, length: series.length, window: input.window });
  }
  return { ...series, source: path.resolve(file), load: report };
}

/** Series from a CSV file, a folder of CSV files or a NAB corpus (see the module comment). */
export async function loadSeries(p: string, input: SeriesInput, opts: { nabProbationOnly?: boolean; progress?: ProgressSink } = {}): Promise<{ series: LoadedSeries[]; layout: string }> {
  if ((await kindOf(p)) === 'file') return { series: [await readOne(p, input)], layout: 'csv' };
  if (await isNabCorpus(p)) {
    const corpus = await loadNabCorpus(p);
    const series = corpus.map((f) => {
      const s: LoadedSeries = { ...(opts.nabProbationOnly ? sliceSeries(f.series, 0, f.probationaryRows) : f.series), source: f.name, load: f.report };
      if (input.columns.length > 0 && !input.columns.every((c) => s.columns.includes(c))) {
        throw new VigilError('E_SHAPE', `${p}: NAB series have the column "value"; the model takes ${input.columns.join(', ')}`, { path: p });
      }
      return s;
    });
    return { series, layout: opts.nabProbationOnly ? 'nab (probationary rows)' : 'nab' };
  }
  const files = (await readdir(p)).filter((f) => /\.csv$/i.test(f)).sort();
  if (files.length === 0) throw new VigilError('E_EMPTY', `${p}: no .csv files in this folder`, { path: p });
  const series: LoadedSeries[] = [];
  opts.progress?.start(files.length, 'read');
  for (const [i, f] of files.entries()) {
    series.push(await readOne(path.join(p, f), input));
    opts.progress?.update(i + 1);
  }
  opts.progress?.stop();
  return { series, layout: 'csv folder' };
}

export const seriesAdapter: InputAdapter<LoadedSeries> = {
  kind: 'series',
  async loadTrain(p, input, progress) {
    const { series, layout } = await loadSeries(p, seriesInput(input), { nabProbationOnly: true, progress });
    return { normal: series, anomalies: [], layout };
  },
  async loadTest(p, input, progress) {
    const { series } = await loadSeries(p, seriesInput(input), { progress });
    for (const s of series) {
      if (!s.labels) throw new VigilError('E_VALUE', `${s.source}: no label column (label, is_anomaly, anomaly…) to evaluate against`, { file: s.source });
    }
    return series;
  },
  async loadForScoring(p, input, progress) {
    return (await loadSeries(p, seriesInput(input), { progress })).series;
  },
};

registerInputAdapter(seriesAdapter);

// ---------------------------------------------------------------------------------------------
// Per-step output
// ---------------------------------------------------------------------------------------------

/** One line of `vigil score` for a series model: one per step. */
export interface StepLine {
  file: string;
  step: number;
  timestamp: string;
  score: number;
  threshold: number | null;
  anomalous: boolean | null;
  normalized: number;
  /** Channels' shares of the step's error, highest first. */
  top: { name: string; contribution: number }[];
  label?: 0 | 1;
}

/** The per-step lines of one scored series (`topK` channels each). */
export function seriesStepLines(sample: Series, result: SeriesScoreResult, post: PostProcessor, topK = 3): StepLine[] {
  const C = result.columns.length;
  const threshold = post.threshold;
  const lines: StepLine[] = [];
  for (let t = 0; t < result.map.width; t++) {
    const score = result.map.values[t]!;
    let total = 0;
    for (let c = 0; c < C; c++) total += result.stepChannels[t * C + c]!;
    const top = result.columns
      .map((name, c) => ({ name, contribution: total > 0 ? result.stepChannels[t * C + c]! / total : 0 }))
      .sort((a, b) => b.contribution - a.contribution)
      .slice(0, topK);
    lines.push({
      file: sample.source,
      step: t,
      timestamp: formatTime(sample.timestamps[t]!),
      score,
      threshold,
      anomalous: threshold === null ? null : score >= threshold,
      normalized: post.normalise(score),
      top,
      ...(sample.labels ? { label: (sample.labels[t] ? 1 : 0) as 0 | 1 } : {}),
    });
  }
  return lines;
}

/** Per-step detection figures over every step of every labelled series. */
export interface SeriesEvaluation {
  steps: number;
  anomalousSteps: number;
  /** Labelled anomaly segments (runs of 1s). */
  segments: number;
  threshold: number;
  auroc: number;
  auprc: number;
  pointwise: PrecisionRecallF1;
  pointAdjusted: PrecisionRecallF1;
  /** Range-based precision/recall/F1 (Tatbul et al. 2018, flat bias, alpha 0). */
  range: RangeMetrics;
  /** The best point-wise F1 any threshold reaches (upper bound for the chosen threshold). */
  bestF1: { threshold: number; f1: number };
  /**
   * NAB scores of the batch step scores with the label segments as windows and NAB's own
   * threshold sweep (not an online run; see bench/nab.ts for that). Null without segments.
   */
  nab: { standard: number; lowFP: number; lowFN: number } | null;
}

export function evaluateSeries(samples: readonly Series[], results: readonly SeriesScoreResult[], threshold: number): SeriesEvaluation {
  const scores: number[] = [];
  const labels: number[] = [];
  let segments = 0;
  const nabSeries = samples.map((s, i) => {
    if (!s.labels) throw new VigilError('E_VALUE', `${s.source}: no per-step labels to evaluate against`, { file: s.source });
    const r = results[i]!;
    for (let t = 0; t < s.length; t++) {
      scores.push(r.map.values[t]!);
      labels.push(s.labels[t]!);
    }
    const segs = extractSegments(s.labels);
    segments += segs.length;
    return {
      name: s.source,
      timestamps: Float64Array.from({ length: s.length }, (_, t) => t),
      scores: r.map.values,
      windows: segs.map((g) => [g.start, g.end] as const),
    };
  });
  const anomalousSteps = labels.reduce((a, b) => a + b, 0);
  if (anomalousSteps === 0 || anomalousSteps === labels.length) {
    throw new VigilError('E_EMPTY', `evaluation needs both normal and anomalous steps (got ${labels.length - anomalousSteps} normal, ${anomalousSteps} anomalous)`);
  }
  const best = f1OptimalThreshold(scores, labels);
  let nab: SeriesEvaluation['nab'] = null;
  if (segments > 0) {
    const nabOf = (p: 'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate') => scoreNabCorpus(nabSeries, p).score;
    nab = { standard: nabOf('standard'), lowFP: nabOf('reward_low_FP_rate'), lowFN: nabOf('reward_low_FN_rate') };
  }
  return {
    steps: labels.length,
    anomalousSteps,
    segments,
    threshold,
    auroc: auroc(scores, labels),
    auprc: auprc(scores, labels),
    pointwise: pointwisePrecisionRecallF1(scores, labels, threshold),
    pointAdjusted: pointAdjustedPrecisionRecallF1(scores, labels, threshold),
    range: rangePrecisionRecallF1(scores, labels, threshold),
    bestF1: { threshold: best.threshold, f1: best.f1 },
    nab,
  };
}
