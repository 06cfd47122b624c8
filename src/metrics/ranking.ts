/**
 * Threshold-free ranking metrics: ROC / AUROC and precision-recall / average precision.
 *
 * All functions sort once (two native typed-array sorts, O(n log n)) and group *tied scores into a
 * single operating point*: a threshold t flags every sample with score >= t, so samples with equal
 * scores are always flagged together. Both classes must be present (E_VALUE naming `labels`
 * otherwise).
 *
 * Definitions, with P anomalous and N normal samples and thresholds running over the distinct
 * scores from the highest down:
 *   TPR(t) = #{anomalous, score >= t} / P        FPR(t) = #{normal, score >= t} / N
 *   precision(t) = TP(t) / (TP(t) + FP(t))       recall(t) = TPR(t)
 *
 *   AUROC = Mann-Whitney U / (P N) = P(score_anomalous > score_normal) + 1/2 P(equal),
 *           i.e. each (anomalous, normal) pair with tied scores earns half credit. This equals
 *           the trapezoidal area under the tie-grouped ROC curve.
 *   AUPRC = average precision (scikit-learn's `average_precision_score`):
 *           AP = sum_n (R_n - R_{n-1}) P_n over the distinct thresholds, R_0 = 0 — a step-wise
 *           sum, NOT the trapezoidal area (which is optimistic for PR curves).
 */
import { checkScored, groupScores, requireBothClasses, type ScoreGroups } from './internal.js';

export interface RocCurve {
  /** FPR at each operating point, non-decreasing, starting at 0 and ending at 1. */
  fpr: Float64Array;
  /** TPR at each operating point, non-decreasing, starting at 0 and ending at 1. */
  tpr: Float64Array;
  /**
   * The threshold of each point (flag iff score >= threshold), decreasing. thresholds[0] is
   * +Infinity (nothing flagged: the (0, 0) point); the rest are the distinct scores.
   */
  thresholds: Float64Array;
}

export interface PrCurve {
  /** Precision at each distinct threshold. */
  precision: Float64Array;
  /** Recall at each distinct threshold, non-decreasing, ending at 1. */
  recall: Float64Array;
  /**
   * The distinct scores, decreasing (flag iff score >= threshold). Unlike scikit-learn there is no
   * appended (recall 0, precision 1) point: every point here is a real threshold.
   */
  thresholds: Float64Array;
}

function grouped(scores: ArrayLike<number>, labels: ArrayLike<number>, what: string): ScoreGroups {
  checkScored(scores, labels);
  requireBothClasses(labels, 'labels', what);
  return groupScores(scores, labels);
}

/** AUROC from tie-grouped counts: sum over groups of neg_g * (TP above g + pos_g / 2) / (P N). */
export function aurocFromGroups(g: ScoreGroups): number {
  let tp = 0;
  let acc = 0;
  for (let k = 0; k < g.count; k++) {
    acc += g.neg[k]! * (tp + g.pos[k]! / 2);
    tp += g.pos[k]!;
  }
  // acc counts (anomalous ranked above normal) pairs from the normal side: pairs where the
  // anomalous score is higher contribute 1, ties 1/2.
  return acc / (g.totalPos * g.totalNeg);
}

/**
 * Area under the ROC curve = Mann-Whitney U / (P N) with half credit for ties.
 * Example: scores [0.1, 0.4, 0.35, 0.8], labels [0, 0, 1, 1] gives 0.75.
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return aurocFromGroups(grouped(scores, labels, 'AUROC'));
}

/** ROC curve with one point per distinct score (ties grouped) plus the leading (0, 0) point. */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  const g = grouped(scores, labels, 'a ROC curve');
  const fpr = new Float64Array(g.count + 1);
  const tpr = new Float64Array(g.count + 1);
  const thresholds = new Float64Array(g.count + 1);
  thresholds[0] = Infinity;
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < g.count; k++) {
    tp += g.pos[k]!;
    fp += g.neg[k]!;
    fpr[k + 1] = fp / g.totalNeg;
    tpr[k + 1] = tp / g.totalPos;
    thresholds[k + 1] = g.values[k]!;
  }
  return { fpr, tpr, thresholds };
}

/** Average precision from tie-grouped counts (see the module comment). */
export function averagePrecisionFromGroups(g: ScoreGroups): number {
  let tp = 0;
  let fp = 0;
  let ap = 0;
  for (let k = 0; k < g.count; k++) {
    const dp = g.pos[k]!;
    tp += dp;
    fp += g.neg[k]!;
    // (R_n - R_{n-1}) = dp / P; P_n = tp / (tp + fp) (tp + fp > 0 after the first group).
    if (dp > 0) ap += (dp / g.totalPos) * (tp / (tp + fp));
  }
  return ap;
}

/**
 * Area under the precision-recall curve as average precision, AP = sum_n (R_n - R_{n-1}) P_n
 * (scikit-learn's definition; step-wise, not trapezoidal).
 * Example: scores [0.1, 0.4, 0.35, 0.8], labels [0, 0, 1, 1] gives 0.5*1 + 0.5*(2/3) = 0.8333.
 */
export function auprc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  return averagePrecisionFromGroups(grouped(scores, labels, 'average precision'));
}

/** Alias of {@link auprc}. */
export const averagePrecision = auprc;

/** Precision-recall curve, one point per distinct score, thresholds decreasing. */
export function prCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): PrCurve {
  const g = grouped(scores, labels, 'a precision-recall curve');
  const precision = new Float64Array(g.count);
  const recall = new Float64Array(g.count);
  const thresholds = new Float64Array(g.count);
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < g.count; k++) {
    tp += g.pos[k]!;
    fp += g.neg[k]!;
    precision[k] = tp / (tp + fp);
    recall[k] = tp / g.totalPos;
    thresholds[k] = g.values[k]!;
  }
  return { precision, recall, thresholds };
}
