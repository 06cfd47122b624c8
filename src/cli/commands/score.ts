import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadDetector } from '../../core/detector.js';
import type { ImageSample, ScoreResult, Series } from '../../core/types.js';
import type { SeriesScoreResult } from '../../data/series.js';
import { seriesStepLines } from '../../pipeline/series-input.js';
import { writeHeatmapPng } from '../../data/images.js';
import '../../models/index.js';
import '../../pipeline/adapters.js';
import { inputAdapter } from '../../pipeline/inputs.js';
import { terminalProgress } from '../progress.js';

interface ScoreCliOptions {
  maps?: string;
  boxes?: boolean;
}

/** Value range shared by all maps of a run, so that colours compare across images. */
export function mapRange(results: ScoreResult[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const r of results) {
    if (!r.map) continue;
    for (const v of r.map.values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 1 };
}

/** `good/001.png` under `root` → `good_001.heatmap.png`: unique per input, flat in one folder. */
export function heatmapName(source: string, root: string): string {
  const rel = path.relative(root, path.resolve(source));
  const name = rel && !rel.startsWith('..') ? rel : path.basename(source);
  return `${name.replace(/\.[^.]+$/, '').split(path.sep).join('_')}.heatmap.png`;
}

export async function writeHeatmaps(dir: string, samples: ImageSample[], results: ScoreResult[], root: string): Promise<void> {
  const range = mapRange(results);
  const base = path.resolve(root);
  for (let i = 0; i < samples.length; i++) {
    const map = results[i]!.map;
    if (map) await writeHeatmapPng(path.join(dir, heatmapName(samples[i]!.source, base)), samples[i]!.image, map.values, { ...range, alpha: 0.5 });
  }
}

export async function runScore(modelDir: string, input: string, o: ScoreCliOptions, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<void> {
  const detector = await loadDetector(modelDir);
  try {
    const summary = detector.summary();
    const samples = await inputAdapter(detector.inputKind).loadForScoring(input, summary.input, terminalProgress());
    const results = await detector.score(samples);
    const threshold = detector.postprocess.threshold;
    if (detector.inputKind === 'series') {
      // One line per time step, with the channels that drove it.
      results.forEach((r, i) => {
        for (const line of seriesStepLines(samples[i] as unknown as Series, r as SeriesScoreResult, detector.postprocess)) out(JSON.stringify(line));
      });
      return;
    }
    results.forEach((r, i) => {
      const line: Record<string, unknown> = {
        file: samples[i]!.source,
        score: r.score,
        threshold,
        anomalous: threshold === null ? null : r.score >= threshold,
        normalized: detector.postprocess.normalise(r.score),
        reason: r.reason?.summary,
      };
      if (r.reason?.top) line.top = r.reason.top;
      if (o.boxes) line.boxes = r.reason?.boxes ?? [];
      out(JSON.stringify(line));
    });
    if (o.maps && detector.inputKind === 'image') {
      const stats = await stat(input);
      await writeHeatmaps(o.maps, samples as ImageSample[], results, stats.isDirectory() ? input : path.dirname(input));
    }
  } finally {
    detector.dispose();
  }
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('score files with a trained model: one JSON line per input {"file","score","threshold","anomalous"}')
    .argument('<model-dir>', 'a model folder written by vigil train')
    .argument('<input>', 'an image (or data file) or a folder of them')
    .option('--maps <dir>', 'write heatmap PNGs overlaid on the inputs to this folder')
    .option('--boxes', 'add bounding boxes of the anomalous regions to each line')
    .action(async (modelDir: string, input: string, o: ScoreCliOptions) => runScore(modelDir, input, o));
}
