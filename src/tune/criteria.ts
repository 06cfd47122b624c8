/**
 * Selection criteria: how a trained trial is judged, in the three label situations.
 *
 *  (a) label-free: held-out normal samples and synthetic anomalies made from them (synthetic.ts).
 *      Criterion: AUROC of the clean vs the altered copies (how reliably an anomaly raises the
 *      score); tie-break: the separation d' = (mean anomalous - mean normal) / std normal, which
 *      keeps ranking models once several reach AUROC 1. A model that learnt nothing (constant or
 *      noisy scores) sits near AUROC 0.5, one that diverged fails outright.
 *  (b) a few labelled anomalies: the mean of the AUROC of held-out normal vs those anomalies and the
 *      synthetic AUROC of (a); the few labels steer, the synthetic set steadies the estimate.
 *  (c) a labelled validation set: its AUROC, AUPRC or best F1 (`metric`); tie-break AUPRC (AUROC
 *      when AUPRC is the metric). Series with step labels are judged step by step.
 */
import { VigilError } from '../core/errors.js';
import type { Detector } from '../core/detector.js';
import type { FitReport, ScoreResult } from '../core/types.js';
import { auprc, auroc } from '../metrics/index.js';
import { f1OptimalThreshold } from '../thresholds/index.js';
import { rankedScores, type Ranked } from './synthetic.js';

export type SelectionMode = 'label-free' | 'few-labels' | 'labelled';
export type SelectionMetric = 'auroc' | 'auprc' | 'f1';
export const SELECTION_MODES: readonly SelectionMode[] = ['label-free', 'few-labels', 'labelled'];
export const SELECTION_METRICS: readonly SelectionMetric[] = ['auroc', 'auprc', 'f1'];

/** The samples a trial is judged on. */
export interface SelectionSet<S> {
  mode: SelectionMode;
  metric: SelectionMetric;
  /** Held-out normal samples (a, b). */
  normal: S[];
  /** Synthetic anomalies paired with `normal` (a; b when they can be made). */
  synthetic: S[];
  /** (b) the labelled anomalies; (c) the labelled validation samples. */
  labelled: S[];
  /** Labels of `labelled` (all 1 in b). */
  labelledLabels: number[];
  /** (c) on series with step labels: judge steps, not series. */
  stepLevel: boolean;
}

export interface TrialEvaluation {
  criterion: number;
  tieBreak: number;
  metrics: Record<string, number | null>;
  /** The scores and labels the threshold choice is made on. */
  ranked: Ranked;
}

function mean(v: readonly number[]): number {
  return v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
}

function std(v: readonly number[]): number {
  const m = mean(v);
  return Math.sqrt(mean(v.map((x) => (x - m) ** 2)));
}

/** d' = (mean anomalous - mean normal) / std normal (a tiny floor keeps it finite). */
export function separation(normal: readonly number[], anomalous: readonly number[]): number {
  const s = std(normal);
  const d = mean(anomalous) - mean(normal);
  return d / Math.max(s, 1e-12 * Math.max(1, Math.abs(mean(normal))));
}

/**
 * Fraction of altered copies that score above their clean original (ties count half); copy i is
 * paired with original i mod n.
 */
export function pairedWinRate(normal: readonly number[], anomalous: readonly number[]): number {
  const n = normal.length;
  if (n === 0 || anomalous.length === 0) return Number.NaN;
  let w = 0;
  anomalous.forEach((a, i) => {
    const o = normal[i % n]!;
    w += a > o ? 1 : a === o ? 0.5 : 0;
  });
  return w / anomalous.length;
}

function finiteScores(results: ScoreResult[], what: string): number[] {
  const s = results.map((r) => r.score);
  const bad = s.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new VigilError('E_VALUE', `${what}: score ${bad} is ${s[bad]}, the model is broken (diverged?)`);
  return s;
}

/** Last finite validation (else training) loss of a fit, for the journal. */
export function lastLoss(report: FitReport | null): number | null {
  const last = report?.history.at(-1);
  if (!last) return null;
  const v = last.valLoss ?? last.loss;
  return Number.isFinite(v) ? v : null;
}

/** Scores a trained trial on the selection set and computes its criterion. */
export async function evaluateTrial<S>(detector: Detector<S>, set: SelectionSet<S>): Promise<TrialEvaluation> {
  const metrics: Record<string, number | null> = {};
  if (set.mode === 'labelled') {
    const results = await detector.score(set.labelled);
    finiteScores(results, 'validation set');
    const ranked = rankedScores(set.labelled, results, set.labelledLabels, set.stepLevel);
    const a = auroc(ranked.scores, ranked.labels);
    const p = auprc(ranked.scores, ranked.labels);
    const f = f1OptimalThreshold(ranked.scores, ranked.labels).f1;
    Object.assign(metrics, { auroc: a, auprc: p, bestF1: f });
    const criterion = set.metric === 'auroc' ? a : set.metric === 'auprc' ? p : f;
    return { criterion, tieBreak: set.metric === 'auprc' ? a : p, metrics, ranked };
  }
  const normal = finiteScores(await detector.score(set.normal), 'held-out normal samples');
  const scores = [...normal];
  const labels = normal.map(() => 0);
  let criterion: number;
  let tieBreak: number;
  let synth: number[] = [];
  if (set.synthetic.length > 0) {
    synth = finiteScores(await detector.score(set.synthetic), 'synthetic anomalies');
    const sa = auroc([...normal, ...synth], [...normal.map(() => 0), ...synth.map(() => 1)]);
    Object.assign(metrics, { syntheticAuroc: sa, separation: separation(normal, synth), pairedWinRate: pairedWinRate(normal, synth) });
    // Per kind of synthetic anomaly (category `synthetic-<kind>`), when there are several.
    const kinds = [...new Set(set.synthetic.map((s) => (s as { category?: string }).category ?? 'synthetic'))];
    if (kinds.length > 1) {
      for (const k of kinds) {
        const idx = set.synthetic.flatMap((s, i) => (((s as { category?: string }).category ?? 'synthetic') === k ? [i] : []));
        const ks = idx.map((i) => synth[i]!);
        metrics[`auroc:${k.replace(/^synthetic-/, '')}`] = auroc([...normal, ...ks], [...normal.map(() => 0), ...ks.map(() => 1)]);
      }
    }
    criterion = sa;
    tieBreak = separation(normal, synth);
  } else if (set.mode === 'label-free') {
    throw new VigilError('E_EMPTY', 'label-free selection needs synthetic anomalies, and none could be made');
  } else {
    criterion = Number.NaN;
    tieBreak = Number.NaN;
  }
  if (set.mode === 'few-labels') {
    const few = finiteScores(await detector.score(set.labelled), 'labelled anomalies');
    const la = auroc([...normal, ...few], [...normal.map(() => 0), ...few.map(() => 1)]);
    metrics.labelledAuroc = la;
    metrics.labelledSeparation = separation(normal, few);
    criterion = Number.isNaN(criterion) ? la : (la + criterion) / 2;
    tieBreak = separation(normal, few);
    scores.push(...few);
    labels.push(...few.map(() => 1));
  } else {
    scores.push(...synth);
    labels.push(...synth.map(() => 1));
  }
  metrics.normalMean = mean(normal);
  return { criterion, tieBreak, metrics, ranked: { scores, labels } };
}
