/**
 * F1-optimal threshold from labelled scores (1 = anomalous, flag iff score >= threshold).
 *
 * Sweeps every distinct score t from the highest down (tied scores switch together), computes
 * precision = TP/(TP+FP), recall = TP/P, F1 = 2PR/(P+R) at each, and returns the best. The
 * returned threshold is that distinct score itself, so `score >= threshold` reproduces exactly
 * the reported counts and F1. On equal F1 the higher threshold (fewer alarms) wins.
 * O(n log n) (one native sort per class).
 */
import { checkScored, groupScores } from '../metrics/internal.js';
import { VigilError } from '../core/errors.js';

export interface F1Threshold {
  threshold: number;
  f1: number;
  precision: number;
  recall: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** The threshold maximising F1 over all distinct scores; E_VALUE when no label is 1. */
export function f1OptimalThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>): F1Threshold {
  checkScored(scores, labels);
  const g = groupScores(scores, labels);
  if (g.totalPos === 0) {
    throw new VigilError('E_VALUE', `labels: all ${labels.length} labels are 0 (normal); an F1-optimal threshold needs anomalous samples`, {
      field: 'labels',
    });
  }
  let tp = 0;
  let fp = 0;
  let best: F1Threshold | null = null;
  for (let k = 0; k < g.count; k++) {
    tp += g.pos[k]!;
    fp += g.neg[k]!;
    const precision = tp / (tp + fp);
    const recall = tp / g.totalPos;
    const f1 = tp === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    if (best === null || f1 > best.f1) {
      best = { threshold: g.values[k]!, f1, precision, recall, tp, fp, fn: g.totalPos - tp, tn: g.totalNeg - fp };
    }
  }
  return best!;
}

/** Alias of {@link f1OptimalThreshold}. */
export const bestF1Threshold = f1OptimalThreshold;
