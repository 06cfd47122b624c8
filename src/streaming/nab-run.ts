/**
 * Runs a sliding-window detector online over the NAB corpus, as NAB runs its detectors: each series
 * is fed point by point to a fresh {@link OnlineScorer} whose detector learns only from the series'
 * probationary period (NAB's first min(15%, 750) rows) and then scores every later point; the
 * emitted per-row score (0 during probation and inside an alarm's cooldown, else the normalised
 * score) goes through NAB's scorer (src/metrics/nab.ts: threshold sweep per profile, normalised
 * 0..100). Used by `vigil bench nab` and bench/nab.ts.
 */
import { getDetectorFactory } from '../core/detector.js';
import type { NabFile } from '../data/nab.js';
import { scoreNabCorpus, type NabCorpusResult, type NabProfileName, type NabSeries } from '../metrics/nab.js';
import { OnlineScorer, type OnlineScorerOptions } from './online-scorer.js';
import { isWindowDetector } from './window-model.js';
import { VigilError } from '../core/errors.js';

/** The conv1d-ae settings of the NAB benchmark (small network, quick to train on ≤ 750 rows). */
export const NAB_DEFAULT_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({ window: 32, depth: 2, filters: 16, latent: 16, epochs: 20, seed: 0 });

/** The online scorer settings of the NAB benchmark. */
export const NAB_DEFAULT_SCORER: Readonly<Omit<OnlineScorerOptions, 'probation'>> = Object.freeze({
  tail: 1,
  normalise: 'likelihood',
  likelihood: { shortWindow: 1 },
  cooldown: 200,
  rangeTolerance: 0.05,
});

export const NAB_PROFILE_NAMES: readonly NabProfileName[] = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];

export interface NabRunOptions {
  /** Detector kind (a sliding-window series detector) and its config. */
  detector: string;
  config: Record<string, unknown>;
  /** Scorer options; `probation` is set per series. */
  scorer: Omit<OnlineScorerOptions, 'probation'>;
  /** Called after each series with a one-line summary. */
  log?: (line: string) => void;
}

export interface NabSeriesRun {
  name: string;
  rows: number;
  probationaryRows: number;
  trainSeconds: number;
  scoreSeconds: number;
  alarms: number;
  skipped: number;
}

export interface NabRunResult {
  /** Normalised NAB scores per profile. */
  scores: Record<NabProfileName, number>;
  corpus: Record<NabProfileName, NabCorpusResult>;
  series: NabSeriesRun[];
  /** Every row pushed (probation included) and the time spent pushing them (training included). */
  points: number;
  seconds: number;
  /** Rows scored after probation, and the time spent on them (no training). */
  scoredPoints: number;
  scoreSeconds: number;
  trainSeconds: number;
  /** The emitted row scores of each series (NAB's input). */
  rowScores: Float64Array[];
}

/** NAB scores of per-row scores (row numbers as timestamps, windows as row ranges). */
export function scoreNabRows(corpus: readonly NabFile[], rowScores: readonly ArrayLike<number>[]): { scores: Record<NabProfileName, number>; corpus: Record<NabProfileName, NabCorpusResult> } {
  const series: NabSeries[] = corpus.map((f, i) => ({
    name: f.name,
    timestamps: Float64Array.from({ length: f.series.length }, (_, t) => t),
    scores: rowScores[i]!,
    windows: f.windowRows,
  }));
  const results = Object.fromEntries(NAB_PROFILE_NAMES.map((p) => [p, scoreNabCorpus(series, p)])) as Record<NabProfileName, NabCorpusResult>;
  const scores = Object.fromEntries(NAB_PROFILE_NAMES.map((p) => [p, results[p].score])) as Record<NabProfileName, number>;
  return { scores, corpus: results };
}

export async function runNabOnline(corpus: readonly NabFile[], opts: NabRunOptions): Promise<NabRunResult> {
  const factory = getDetectorFactory(opts.detector);
  const runs: NabSeriesRun[] = [];
  const rowScores: Float64Array[] = [];
  let points = 0;
  let seconds = 0;
  let scoredPoints = 0;
  let scoreSeconds = 0;
  let trainSeconds = 0;
  for (const f of corpus) {
    const detector = factory.create({ ...opts.config, columns: f.series.columns });
    if (!isWindowDetector(detector)) throw new VigilError('E_UNSUPPORTED', `${opts.detector} is not a sliding-window series detector; it cannot run online`, { field: 'detector' });
    try {
      const scorer = new OnlineScorer(detector, { ...opts.scorer, probation: f.probationaryRows });
      const out = new Float64Array(f.series.length);
      const C = f.series.channels;
      let alarms = 0;
      let skipped = 0;
      let train = 0;
      let scoring = 0;
      let total = 0;
      for (let t = 0; t < f.series.length; t++) {
        const t0 = performance.now();
        const p = await scorer.push(f.series.timestamps[t]!, f.series.values.subarray(t * C, (t + 1) * C));
        const dt = (performance.now() - t0) / 1000;
        total += dt;
        if (p.trained) train += dt;
        else if (t >= f.probationaryRows) scoring += dt;
        if (p.skipped) skipped++;
        if (p.anomalous) alarms++;
        out[t] = t < f.probationaryRows || p.normalized === null || p.suppressed ? 0 : p.normalized;
      }
      const run: NabSeriesRun = { name: f.name, rows: f.series.length, probationaryRows: f.probationaryRows, trainSeconds: train, scoreSeconds: scoring, alarms, skipped };
      runs.push(run);
      rowScores.push(out);
      points += f.series.length;
      scoredPoints += f.series.length - f.probationaryRows;
      trainSeconds += train;
      scoreSeconds += scoring;
      seconds += total;
      opts.log?.(`${f.name}: ${f.series.length} rows, trained ${train.toFixed(1)} s, scored ${(f.series.length - f.probationaryRows) / Math.max(scoring, 1e-9) | 0} points/s, ${alarms} alarm(s)`);
    } finally {
      detector.dispose();
    }
  }
  const scored = scoreNabRows(corpus, rowScores);
  return { ...scored, series: runs, points, seconds, scoredPoints, scoreSeconds, trainSeconds, rowScores };
}
