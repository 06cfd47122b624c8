/**
 * The threshold method, chosen after the model: each candidate is fitted the way the model would fit
 * it (label-free ones on the model's own held-out normal scores, FitReport.validationScores) and
 * judged by its F1 on the selection set (held-out normal vs synthetic or labelled anomalies).
 *
 * Candidates: quantile thresholds at false-positive rates 0.1-5%, SPOT at risks 1e-2..1e-4, and, with
 * a labelled validation set holding at least 4 anomalies, the F1-optimal threshold (judged by 2-fold
 * cross-fitting: fitted on one half, scored on the other, so that it does not win by fitting the set
 * it is judged on). A method the user fixes (a false-alarm target, say) is a requirement, not a candidate.
 * Ties go to the candidate listed first (fewer alarms).
 */
import type { Detector } from '../core/detector.js';
import { VigilError } from '../core/errors.js';
import type { ThresholdSpec } from '../scoring/postprocess.js';
import { applyFalseAlarmThreshold, falseAlarmThreshold, type AlarmUnit } from '../thresholds/false-alarm.js';
import { f1OptimalThreshold, quantileThreshold, SpotDetector } from '../thresholds/index.js';
import type { Ranked } from './synthetic.js';

export type ThresholdChoice =
  | { method: 'quantile'; fpr: number }
  | { method: 'spot'; risk: number }
  | { method: 'f1' }
  | { method: 'false-alarm-rate'; rate: number; per: AlarmUnit; intervalSeconds?: number };

export const LABEL_FREE_CANDIDATES: readonly ThresholdChoice[] = Object.freeze([
  { method: 'quantile', fpr: 0.001 },
  { method: 'quantile', fpr: 0.005 },
  { method: 'quantile', fpr: 0.01 },
  { method: 'quantile', fpr: 0.02 },
  { method: 'quantile', fpr: 0.05 },
  { method: 'spot', risk: 1e-4 },
  { method: 'spot', risk: 1e-3 },
  { method: 'spot', risk: 1e-2 },
]);

export interface CandidateResult {
  choice: ThresholdChoice;
  /** Threshold in raw score units on the trial model (null for f1, which is cross-fitted). */
  threshold: number | null;
  f1: number;
}

export interface ThresholdDecision {
  choice: ThresholdChoice;
  f1: number;
  candidates: CandidateResult[];
}

export function describeChoice(c: ThresholdChoice): string {
  switch (c.method) {
    case 'quantile':
      return `quantile (fpr ${c.fpr})`;
    case 'spot':
      return `SPOT (risk ${c.risk})`;
    case 'f1':
      return 'F1-optimal on the labelled set';
    case 'false-alarm-rate':
      return `false-alarm rate ${c.rate} per ${c.per === 'thousand' ? '1,000' : c.per}`;
  }
}

/** The threshold a label-free choice gives on normal scores (as PostProcessor.fitNormal computes it). */
export function labelFreeThreshold(choice: ThresholdChoice, normalScores: readonly number[]): number {
  switch (choice.method) {
    case 'quantile':
      return quantileThreshold(normalScores, 1 - choice.fpr);
    case 'spot':
      return new SpotDetector({ q: choice.risk }).fit(normalScores).threshold;
    case 'false-alarm-rate':
      return falseAlarmThreshold(normalScores, choice).threshold;
    default:
      throw new VigilError('E_CONFIG', `threshold ${choice.method} needs labels`);
  }
}

/** F1 of "score >= threshold" against labels. */
export function f1At(scores: readonly number[], labels: readonly number[], threshold: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  scores.forEach((s, i) => {
    const flagged = s >= threshold;
    if (labels[i]) {
      if (flagged) tp++;
      else fn++;
    } else if (flagged) fp++;
  });
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** F1 of the F1-optimal threshold by 2-fold cross-fitting (stratified halves by alternation). */
export function crossFittedF1(r: Ranked): number {
  const halves: [Ranked, Ranked] = [
    { scores: [], labels: [] },
    { scores: [], labels: [] },
  ];
  const seen = [0, 0];
  r.scores.forEach((s, i) => {
    const l = r.labels[i]! ? 1 : 0;
    const h = halves[seen[l]!++ % 2]!;
    h.scores.push(s);
    h.labels.push(l);
  });
  let total = 0;
  for (const [fit, judge] of [
    [halves[0], halves[1]],
    [halves[1], halves[0]],
  ] as const) {
    total += f1At(judge.scores, judge.labels, f1OptimalThreshold(fit.scores, fit.labels).threshold);
  }
  return total / 2;
}

/**
 * Chooses the threshold method for a trial model. `validationScores`: its held-out normal scores;
 * `ranked`: selection-set scores and labels; `labelled`: whether `ranked` holds real labels (case c).
 */
export function chooseThreshold(o: { validationScores: readonly number[]; ranked: Ranked; labelled: boolean; fixed?: ThresholdChoice }): ThresholdDecision {
  const candidates: CandidateResult[] = [];
  const anomalies = o.ranked.labels.filter((l) => l).length;
  const canCrossFit = o.labelled && anomalies >= 4 && o.ranked.labels.length - anomalies >= 4;
  if (o.fixed?.method === 'f1') {
    if (!o.labelled) throw new VigilError('E_CONFIG', 'threshold method f1 needs a labelled validation set (selection "labelled")', { field: 'threshold.method' });
    const f1 = canCrossFit ? crossFittedF1(o.ranked) : f1OptimalThreshold(o.ranked.scores, o.ranked.labels).f1;
    return { choice: o.fixed, f1, candidates: [{ choice: o.fixed, threshold: null, f1 }] };
  }
  const list: ThresholdChoice[] = o.fixed ? [o.fixed] : [...LABEL_FREE_CANDIDATES];
  for (const choice of list) {
    let threshold: number;
    try {
      threshold = labelFreeThreshold(choice, o.validationScores);
    } catch (e) {
      if (o.fixed) throw e;
      continue; // e.g. too few scores for a SPOT tail fit
    }
    if (!Number.isFinite(threshold)) continue;
    candidates.push({ choice, threshold, f1: f1At(o.ranked.scores, o.ranked.labels, threshold) });
  }
  if (!o.fixed && canCrossFit) {
    candidates.push({ choice: { method: 'f1' }, threshold: null, f1: crossFittedF1(o.ranked) });
  }
  if (candidates.length === 0) throw new VigilError('E_EMPTY', `no threshold could be fitted on ${o.validationScores.length} held-out normal scores`);
  let best = candidates[0]!;
  for (const c of candidates) if (c.f1 > best.f1) best = c;
  return { choice: best.choice, f1: best.f1, candidates };
}

/** The `threshold` section of a detector config for a label-free choice (null for f1 / false-alarm-rate). */
export function thresholdSpecOf(choice: ThresholdChoice): ThresholdSpec | null {
  if (choice.method === 'quantile') return { method: 'quantile', fpr: choice.fpr, risk: 0.001 };
  if (choice.method === 'spot') return { method: 'spot', fpr: 0.01, risk: choice.risk };
  return null;
}

/**
 * Applies a choice to a fitted detector's post-processor. Label-free choices refit on its held-out
 * normal scores; 'f1' needs `labelled` (scores of a labelled set by this detector, and labels);
 * 'false-alarm-rate' sets the threshold through thresholds/false-alarm.ts.
 */
export function applyThresholdChoice<S>(detector: Detector<S>, choice: ThresholdChoice, labelled?: Ranked): void {
  const normal = detector.summary().training?.validationScores ?? [];
  const pp = detector.postprocess;
  switch (choice.method) {
    case 'quantile':
    case 'spot':
      pp.fitNormal(normal, thresholdSpecOf(choice)!);
      return;
    case 'f1':
      if (!labelled) throw new VigilError('E_CONFIG', 'threshold method f1 needs labelled scores');
      pp.fitLabelled(labelled.scores, labelled.labels);
      return;
    case 'false-alarm-rate':
      if (normal.length === 0) throw new VigilError('E_EMPTY', 'a false-alarm-rate threshold needs the held-out normal scores of training');
      applyFalseAlarmThreshold(pp, normal, choice);
      return;
  }
}
