/**
 * Time-series detection metrics on per-step scores and 0/1 labels (1 = the step is inside a true
 * anomaly). A step is predicted anomalous iff score >= threshold.
 *
 * - Point-wise P/R/F1: every step is a sample ({@link precisionRecallF1}).
 * - Point-adjusted P/R/F1 (Xu et al., "Unsupervised Anomaly Detection via Variational
 *   Auto-Encoder for Seasonal KPIs in Web Applications", WWW 2018): if any step of a true anomaly
 *   segment is predicted, every step of that segment counts as predicted; steps outside true
 *   segments keep their prediction; then point-wise P/R/F1. (Known to inflate scores; report it
 *   next to the point-wise and range-based figures, not alone.)
 * - Range-based P/R/F1 (Tatbul, Lee, Zdonik, Alam, Gottschlich, "Precision and Recall for Time
 *   Series", NeurIPS 2018). With real ranges R_1..R_Nr (label segments) and predicted ranges
 *   P_1..P_Np (prediction segments):
 *     Recall_T    = (1/Nr) sum_i [ alpha * Existence(R_i) + (1 - alpha) * Overlap(R_i) ]
 *     Existence(R_i) = 1 if R_i overlaps any P_j, else 0
 *     Overlap(R_i)   = CardinalityFactor(R_i) * sum_j omega(R_i, R_i ∩ P_j, delta)
 *     Precision_T = (1/Np) sum_j CardinalityFactor(P_j) * sum_i omega(P_j, P_j ∩ R_i, delta)
 *                   (no existence term: alpha applies to recall only)
 *     omega(A, O, delta) = sum_{k in O} delta(k - start(A) + 1, |A|) / sum_{k=1..|A|} delta(k, |A|)
 *     F1_T = 2 Precision_T Recall_T / (Precision_T + Recall_T)
 *   Parameters: `alpha` in [0, 1] (existence reward weight, default 0); positional bias `bias`
 *   (delta, used for recall and precision alike) 'flat' (default, delta = 1), 'front'
 *   (delta(k, l) = l - k + 1), 'back' (delta = k), 'middle' (k <= l/2 ? k : l - k + 1);
 *   overlap cardinality `cardinality` 'one' (default: the factor is 1, fragmented detection is
 *   not penalised) or 'reciprocal' (1/x when the range overlaps x > 1 ranges of the other kind).
 *   With the defaults, Recall_T(R_i) = |R_i ∩ predicted| / |R_i| and
 *   Precision_T(P_j) = |P_j ∩ anomalous| / |P_j|.
 * 0/0 is 0 everywhere: no real range gives recall 0, no predicted range gives precision 0.
 */
import { VigilError } from '../core/errors.js';
import { binarize, countConfusion, precisionRecallF1, precisionRecallF1FromCounts, type PrecisionRecallF1 } from './classification.js';
import { checkLabels, checkRange, checkSameLength, checkScored, checkThreshold, safeDiv } from './internal.js';

/** A run of consecutive 1s, inclusive at both ends (step indices). */
export interface Segment {
  start: number;
  end: number;
}

export type PositionalBias = 'flat' | 'front' | 'back' | 'middle';
export type CardinalityFactor = 'one' | 'reciprocal';

export interface RangeOptions {
  /** Existence reward weight for recall, in [0, 1] (default 0). */
  alpha?: number;
  /** Positional bias delta (default 'flat'). */
  bias?: PositionalBias;
  /** Overlap cardinality factor (default 'one', i.e. the constant 1). */
  cardinality?: CardinalityFactor;
}

export interface RangeMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of label segments (Nr) and prediction segments (Np). */
  realRanges: number;
  predictedRanges: number;
}

/** Maximal runs of 1s in a 0/1 array, in order, inclusive bounds. */
export function extractSegments(binary: ArrayLike<number>): Segment[] {
  checkLabels(binary, 'binary');
  return segmentsOf(binary);
}

function segmentsOf(binary: ArrayLike<number>): Segment[] {
  const out: Segment[] = [];
  let start = -1;
  for (let i = 0; i < binary.length; i++) {
    if (binary[i] === 1) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      out.push({ start, end: i - 1 });
      start = -1;
    }
  }
  if (start >= 0) out.push({ start, end: binary.length - 1 });
  return out;
}

/** Point-wise precision, recall and F1 of `score >= threshold` (0/0 = 0). */
export function pointwisePrecisionRecallF1(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): PrecisionRecallF1 {
  return precisionRecallF1(scores, labels, threshold);
}

/**
 * Point adjustment: a copy of `pred` where every step of a true segment (run of 1s in `labels`) is
 * set to 1 if any step of that segment is 1 in `pred`. Steps outside true segments are unchanged.
 */
export function pointAdjust(pred: ArrayLike<number>, labels: ArrayLike<number>): Uint8Array {
  checkLabels(pred, 'pred');
  checkLabels(labels, 'labels');
  checkSameLength(pred, 'pred', labels, 'labels');
  return adjust(pred, labels);
}

function adjust(pred: ArrayLike<number>, labels: ArrayLike<number>): Uint8Array {
  const out = Uint8Array.from(pred as ArrayLike<number>);
  for (const s of segmentsOf(labels)) {
    let hit = false;
    for (let i = s.start; i <= s.end && !hit; i++) hit = pred[i] === 1;
    if (hit) out.fill(1, s.start, s.end + 1);
  }
  return out;
}

/** Point-adjusted precision, recall and F1 of `score >= threshold` (Xu et al. 2018). */
export function pointAdjustedPrecisionRecallF1(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): PrecisionRecallF1 {
  checkScored(scores, labels);
  checkThreshold(threshold);
  const adjusted = adjust(binarize(scores, threshold), labels);
  return precisionRecallF1FromCounts(countConfusion(adjusted, labels));
}

function delta(bias: PositionalBias, k: number, len: number): number {
  switch (bias) {
    case 'flat':
      return 1;
    case 'front':
      return len - k + 1;
    case 'back':
      return k;
    case 'middle':
      return k <= len / 2 ? k : len - k + 1;
  }
}

/** omega(A, O, delta): bias-weighted share of range A covered by the (disjoint) overlaps O. */
function omega(range: Segment, overlaps: Segment[], bias: PositionalBias): number {
  const len = range.end - range.start + 1;
  if (bias === 'flat') {
    let covered = 0;
    for (const o of overlaps) covered += o.end - o.start + 1;
    return covered / len;
  }
  let max = 0;
  for (let k = 1; k <= len; k++) max += delta(bias, k, len);
  let mine = 0;
  for (const o of overlaps) for (let t = o.start; t <= o.end; t++) mine += delta(bias, t - range.start + 1, len);
  return mine / max;
}

/**
 * Per-range rewards of `ranges` against `others` (both sorted, disjoint): the mean over `ranges`
 * of alpha * existence + (1 - alpha) * cardinality * omega.
 */
function meanRangeReward(ranges: Segment[], others: Segment[], alpha: number, bias: PositionalBias, cardinality: CardinalityFactor): number {
  if (ranges.length === 0) return 0;
  let j = 0;
  let sum = 0;
  for (const r of ranges) {
    while (j < others.length && others[j]!.end < r.start) j++;
    const overlaps: Segment[] = [];
    for (let k = j; k < others.length && others[k]!.start <= r.end; k++) {
      overlaps.push({ start: Math.max(r.start, others[k]!.start), end: Math.min(r.end, others[k]!.end) });
    }
    const existence = overlaps.length > 0 ? 1 : 0;
    const factor = cardinality === 'reciprocal' && overlaps.length > 1 ? 1 / overlaps.length : 1;
    sum += alpha * existence + (1 - alpha) * factor * omega(r, overlaps, bias);
  }
  return sum / ranges.length;
}

function resolveRangeOptions(options: RangeOptions): Required<RangeOptions> {
  const alpha = options.alpha ?? 0;
  checkRange(alpha, 'alpha', 0, 1);
  const bias = options.bias ?? 'flat';
  if (bias !== 'flat' && bias !== 'front' && bias !== 'back' && bias !== 'middle') {
    throw new VigilError('E_CONFIG', `bias: is ${String(bias)}, expected 'flat', 'front', 'back' or 'middle'`, { field: 'bias' });
  }
  const cardinality = options.cardinality ?? 'one';
  if (cardinality !== 'one' && cardinality !== 'reciprocal') {
    throw new VigilError('E_CONFIG', `cardinality: is ${String(cardinality)}, expected 'one' or 'reciprocal'`, { field: 'cardinality' });
  }
  return { alpha, bias, cardinality };
}

/** Range-based precision/recall/F1 (Tatbul et al. 2018) of 0/1 predictions against 0/1 labels. */
export function rangePrecisionRecallF1FromPredictions(pred: ArrayLike<number>, labels: ArrayLike<number>, options: RangeOptions = {}): RangeMetrics {
  checkLabels(pred, 'pred');
  checkLabels(labels, 'labels');
  checkSameLength(pred, 'pred', labels, 'labels');
  const { alpha, bias, cardinality } = resolveRangeOptions(options);
  const real = segmentsOf(labels);
  const predicted = segmentsOf(pred);
  const recall = meanRangeReward(real, predicted, alpha, bias, cardinality);
  const precision = meanRangeReward(predicted, real, 0, bias, cardinality);
  return {
    precision,
    recall,
    f1: safeDiv(2 * precision * recall, precision + recall),
    realRanges: real.length,
    predictedRanges: predicted.length,
  };
}

/** Range-based precision/recall/F1 (Tatbul et al. 2018) of `score >= threshold`. */
export function rangePrecisionRecallF1(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
  options: RangeOptions = {},
): RangeMetrics {
  checkScored(scores, labels);
  checkThreshold(threshold);
  return rangePrecisionRecallF1FromPredictions(binarize(scores, threshold), labels, options);
}
