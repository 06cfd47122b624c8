/**
 * Label-free thresholds from the scores of normal samples (flag iff score >= threshold).
 *
 * `quantile` is numpy's default (`method='linear'`, Hyndman & Fan type 7): with the n values
 * sorted ascending x_0 <= ... <= x_{n-1} and h = (n - 1) q,
 *     Q(q) = x_floor(h) + (h - floor(h)) (x_floor(h)+1 - x_floor(h)),
 * using numpy's two-sided lerp so that the result is exact at the sample points and monotone in q.
 */
import { VigilError } from '../core/errors.js';
import { checkRange, checkScores } from '../metrics/internal.js';

function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values as ArrayLike<number>).sort();
}

function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

function quantileSorted(x: Float64Array, q: number): number {
  const h = (x.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, x.length - 1);
  return lerp(x[lo]!, x[hi]!, h - lo);
}

/** The q-quantile of `values` (q in [0, 1]) with linear interpolation (numpy's default). */
export function quantile(values: ArrayLike<number>, q: number): number {
  checkScores(values, 'values');
  checkRange(q, 'q', 0, 1);
  return quantileSorted(sortedCopy(values), q);
}

/** Several quantiles of the same values with a single sort. */
export function quantiles(values: ArrayLike<number>, qs: readonly number[]): number[] {
  checkScores(values, 'values');
  if (!Array.isArray(qs)) throw new VigilError('E_CONFIG', 'qs: expected an array of quantile levels', { field: 'qs' });
  qs.forEach((q, i) => checkRange(q, `qs[${i}]`, 0, 1));
  const x = sortedCopy(values);
  return qs.map((q) => quantileSorted(x, q));
}

/**
 * Threshold at the q-quantile of the normal scores, e.g. q = 0.99 flags about 1% of normal
 * samples. Same as {@link quantile}.
 */
export function quantileThreshold(normalScores: ArrayLike<number>, q: number): number {
  checkScores(normalScores, 'normalScores');
  checkRange(q, 'q', 0, 1);
  return quantileSorted(sortedCopy(normalScores), q);
}

/** The smallest double greater than x (x finite). */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const b = new BigInt64Array(f.buffer);
  b[0] = b[0]! + (x > 0 ? 1n : -1n);
  return f[0]!;
}

/**
 * The lowest threshold whose empirical false-positive rate on `normalScores` does not exceed
 * `fpr`: with n normal scores and k = floor(fpr n), the result t is the smallest value such that
 * #{s >= t} <= k. It is one of the scores (so `score >= t` is exact), or, when even the largest
 * score cannot be flagged without exceeding k (k = 0, or ties at the top), the next double above
 * the largest score (nothing flagged). Ties are never split: tied scores are flagged together.
 */
export function thresholdForFalsePositiveRate(normalScores: ArrayLike<number>, fpr: number): number {
  checkScores(normalScores, 'normalScores');
  checkRange(fpr, 'fpr', 0, 1);
  const x = sortedCopy(normalScores);
  const n = x.length;
  const k = Math.min(n, Math.floor(fpr * n + 1e-9));
  if (k >= n) return x[0]!;
  if (k === 0) return nextUp(x[n - 1]!);
  let i = n - k; // x[i..n-1] are the k largest
  if (x[i - 1] === x[i]) {
    // The k-th largest is tied with values below it: flagging it would exceed k. Move up to the
    // next distinct value.
    const v = x[i]!;
    while (i < n && x[i] === v) i++;
    if (i === n) return nextUp(x[n - 1]!);
  }
  return x[i]!;
}
