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
export const NAB_DEFAULT_CONFIG: Readonly<Record<string, unknown>> = Object.freeze({ window: 64, depth: 3, filters: 16, latent: 16, epochs: 20, seed: 0 });

/**
 * The online scorer settings of the NAB benchmark: the newest point's error, normalised by the
 * running peak of the last 4000 scores (a new peak scores above 0.5), HTM's range rule with 5%
 * tolerance, and 100 points without new alarms after each alarm.
 */
export const NAB_DEFAULT_SCORER: Readonly<Omit<OnlineScorerOptions, 'probation'>> = Object.freeze({
  tail: 1,
  normalise: 'peak',
  peakWindow: 4000,
  cooldown: 100,
  rangeTolerance: 0.05,
});

export const NAB_PROFILE_NAMES: readonly NabProfileName[] = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];

export interface NabVariant {
  name: string;
  /** Scorer options; `probation` is set per series. */
  scorer: Omit<OnlineScorerOptions, 'probation'>;
}

export interface NabRunOptions {
  /** Detector kind (a sliding-window series detector) and its config. */
  detector: string;
  config: Record<string, unknown>;
  /**
   * Scorer variants sharing one trained detector per series: the first learns from the probation
   * through its own `push`; the others are primed with the same probationary rows (same seeding).
   */
  variants: NabVariant[];
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

export interface NabVariantResult {
  name: string;
  /** Normalised NAB scores per profile. */
  scores: Record<NabProfileName, number>;
  corpus: Record<NabProfileName, NabCorpusResult>;
  series: NabSeriesRun[];
  /** Rows scored after probation, and the time spent pushing them (no training). */
  scoredPoints: number;
  scoreSeconds: number;
  /** The emitted row scores of each series (NAB's input). */
  rowScores: Float64Array[];
}

export interface NabRunResult {
  variants: NabVariantResult[];
  /** Rows in the corpus, and the time spent training (once per series). */
  points: number;
  trainSeconds: number;
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

/** Pushes rows [from, T) of a series through a scorer; returns the emitted row scores and counts. */
async function pushRows(scorer: OnlineScorer, f: NabFile, from: number, out: Float64Array): Promise<{ train: number; scoring: number; alarms: number; skipped: number }> {
  const C = f.series.channels;
  let train = 0;
  let scoring = 0;
  let alarms = 0;
  let skipped = 0;
  for (let t = from; t < f.series.length; t++) {
    const t0 = performance.now();
    const p = await scorer.push(f.series.timestamps[t]!, f.series.values.subarray(t * C, (t + 1) * C));
    const dt = (performance.now() - t0) / 1000;
    if (p.trained) train += dt;
    else if (t >= f.probationaryRows) scoring += dt;
    if (p.skipped) skipped++;
    if (p.anomalous) alarms++;
    out[t] = t < f.probationaryRows || p.normalized === null || p.suppressed ? 0 : p.normalized;
  }
  return { train, scoring, alarms, skipped };
}

export async function runNabOnline(corpus: readonly NabFile[], opts: NabRunOptions): Promise<NabRunResult> {
  if (opts.variants.length === 0) throw new VigilError('E_CONFIG', 'runNabOnline: no scorer variant given', { field: 'variants' });
  const factory = getDetectorFactory(opts.detector);
  const perVariant = opts.variants.map(() => ({ series: [] as NabSeriesRun[], rowScores: [] as Float64Array[], scoredPoints: 0, scoreSeconds: 0 }));
  let points = 0;
  let trainSeconds = 0;
  for (const f of corpus) {
    const detector = factory.create({ ...opts.config, columns: f.series.columns });
    if (!isWindowDetector(detector)) throw new VigilError('E_UNSUPPORTED', `${opts.detector} is not a sliding-window series detector; it cannot run online`, { field: 'detector' });
    try {
      const P = f.probationaryRows;
      const C = f.series.channels;
      const lines: string[] = [];
      for (const [k, v] of opts.variants.entries()) {
        const scorer = new OnlineScorer(detector, { ...v.scorer, probation: P });
        const out = new Float64Array(f.series.length);
        let r: Awaited<ReturnType<typeof pushRows>>;
        if (k === 0) r = await pushRows(scorer, f, 0, out);
        else {
          scorer.prime(f.series.timestamps.subarray(0, P), f.series.values.subarray(0, P * C));
          r = await pushRows(scorer, f, P, out);
        }
        if (k === 0) trainSeconds += r.train;
        const acc = perVariant[k]!;
        acc.series.push({ name: f.name, rows: f.series.length, probationaryRows: P, trainSeconds: r.train, scoreSeconds: r.scoring, alarms: r.alarms, skipped: r.skipped });
        acc.rowScores.push(out);
        acc.scoredPoints += f.series.length - P;
        acc.scoreSeconds += r.scoring;
        lines.push(`${k === 0 ? `trained ${r.train.toFixed(1)} s, ` : ''}${v.name}: ${((f.series.length - P) / Math.max(r.scoring, 1e-9)) | 0} points/s, ${r.alarms} alarm(s)`);
      }
      points += f.series.length;
      opts.log?.(`${f.name} (${f.series.length} rows): ${lines.join('; ')}`);
    } finally {
      detector.dispose();
    }
  }
  const variants = opts.variants.map((v, k) => {
    const acc = perVariant[k]!;
    return { name: v.name, ...scoreNabRows(corpus, acc.rowScores), ...acc };
  });
  return { variants, points, trainSeconds };
}
