/**
 * Threshold-based classification metrics.
 *
 * Conventions: scores are `ArrayLike<number>` (Float32Array or number[]), higher = more anomalous;
 * labels are 0 (normal) / 1 (anomalous). A sample is *predicted anomalous iff score >= threshold*.
 * "Positive" means anomalous.
 *
 * Definitions (counts from the confusion matrix):
 *   precision = TP / (TP + FP)      recall (TPR) = TP / (TP + FN)
 *   F1        = 2 P R / (P + R)     accuracy     = (TP + TN) / n
 *   FPR       = FP / (FP + TN)
 * Any ratio whose denominator is 0 is defined as 0 (e.g. precision when nothing is flagged,
 * recall when there is no anomaly, F1 when P = R = 0, FPR when there is no normal sample).
 */
import { checkLabels, checkSameLength, checkScored, checkScores, checkThreshold, safeDiv } from './internal.js';

export interface ConfusionMatrix {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface PrecisionRecallF1 extends ConfusionMatrix {
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassificationMetrics extends PrecisionRecallF1 {
  accuracy: number;
  falsePositiveRate: number;
}

/**
 * Confusion matrix of binary predictions (0/1) against labels (0/1).
 * Throws E_VALUE when either holds something other than 0/1, E_SHAPE on a length mismatch,
 * E_EMPTY when empty.
 */
export function confusionMatrix(pred: ArrayLike<number>, labels: ArrayLike<number>): ConfusionMatrix {
  checkLabels(pred, 'pred');
  checkLabels(labels, 'labels');
  checkSameLength(pred, 'pred', labels, 'labels');
  return countConfusion(pred, labels);
}

/** Unchecked confusion counts (inputs already validated). */
export function countConfusion(pred: ArrayLike<number>, labels: ArrayLike<number>): ConfusionMatrix {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (pred[i] === 1) {
      if (labels[i] === 1) tp++;
      else fp++;
    } else if (labels[i] === 1) fn++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}

/** Binary predictions: 1 where score >= threshold. */
export function binarize(scores: ArrayLike<number>, threshold: number): Uint8Array {
  checkScores(scores, 'scores');
  checkThreshold(threshold);
  const out = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i]! >= threshold ? 1 : 0;
  return out;
}

/** Precision, recall, F1 (and the counts) from a confusion matrix; 0/0 = 0. */
export function precisionRecallF1FromCounts(cm: ConfusionMatrix): PrecisionRecallF1 {
  const precision = safeDiv(cm.tp, cm.tp + cm.fp);
  const recall = safeDiv(cm.tp, cm.tp + cm.fn);
  const f1 = safeDiv(2 * precision * recall, precision + recall);
  return { tp: cm.tp, fp: cm.fp, tn: cm.tn, fn: cm.fn, precision, recall, f1 };
}

/** Every figure in this module from a confusion matrix; 0/0 = 0. */
export function metricsFromCounts(cm: ConfusionMatrix): ClassificationMetrics {
  const n = cm.tp + cm.fp + cm.tn + cm.fn;
  return {
    ...precisionRecallF1FromCounts(cm),
    accuracy: safeDiv(cm.tp + cm.tn, n),
    falsePositiveRate: safeDiv(cm.fp, cm.fp + cm.tn),
  };
}

function confusionAt(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ConfusionMatrix {
  checkScored(scores, labels);
  checkThreshold(threshold);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i]! >= threshold) {
      if (labels[i] === 1) tp++;
      else fp++;
    } else if (labels[i] === 1) fn++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}

/** Confusion matrix of `score >= threshold` against labels. */
export function confusionAtThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ConfusionMatrix {
  return confusionAt(scores, labels, threshold);
}

/** Precision, recall and F1 of `score >= threshold` (0/0 = 0), with the confusion counts. */
export function precisionRecallF1(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): PrecisionRecallF1 {
  return precisionRecallF1FromCounts(confusionAt(scores, labels, threshold));
}

/** All figures (precision, recall, F1, accuracy, FPR, counts) of `score >= threshold`. */
export function classificationMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ClassificationMetrics {
  return metricsFromCounts(confusionAt(scores, labels, threshold));
}

/** (TP + TN) / n of `score >= threshold`. */
export function accuracy(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): number {
  return metricsFromCounts(confusionAt(scores, labels, threshold)).accuracy;
}

/** FP / (FP + TN) of `score >= threshold`; 0 when there is no normal sample. */
export function falsePositiveRate(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): number {
  return metricsFromCounts(confusionAt(scores, labels, threshold)).falsePositiveRate;
}
