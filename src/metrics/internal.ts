/**
 * Shared input checks and sort helpers for the metrics and thresholds modules. Not part of the
 * public API (index.ts does not re-export it).
 *
 * Error conventions (every message starts with the name of the offending argument):
 *   - E_EMPTY   an array that must hold data is empty;
 *   - E_SHAPE   two arrays that must pair up element by element differ in length;
 *   - E_VALUE   a data value is wrong (NaN/±Infinity score, label other than 0/1, a single class);
 *   - E_CONFIG  an option/parameter is out of its documented range.
 */
import { VigilError } from '../core/errors.js';

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { length?: unknown }).length === 'number';
}

/** Throws unless `values` is a non-empty array-like of finite numbers. */
export function checkScores(values: ArrayLike<number>, field: string): void {
  if (!isArrayLike(values)) {
    throw new VigilError('E_VALUE', `${field}: expected an array of numbers, got ${values === null ? 'null' : typeof values}`, { field });
  }
  if (values.length === 0) throw new VigilError('E_EMPTY', `${field}: is empty, expected at least one value`, { field });
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new VigilError('E_VALUE', `${field}: element ${i} is ${String(v)}, expected a finite number`, { field, index: i, value: String(v) });
    }
  }
}

/** Throws unless `labels` is a non-empty array-like whose elements are all exactly 0 or 1. */
export function checkLabels(labels: ArrayLike<number>, field: string): void {
  if (!isArrayLike(labels)) {
    throw new VigilError('E_VALUE', `${field}: expected an array of 0/1 labels, got ${labels === null ? 'null' : typeof labels}`, { field });
  }
  if (labels.length === 0) throw new VigilError('E_EMPTY', `${field}: is empty, expected at least one label`, { field });
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v !== 0 && v !== 1) {
      throw new VigilError('E_VALUE', `${field}: element ${i} is ${String(v)}, expected 0 (normal) or 1 (anomalous)`, { field, index: i, value: String(v) });
    }
  }
}

export function checkSameLength(a: ArrayLike<unknown>, aField: string, b: ArrayLike<unknown>, bField: string): void {
  if (a.length !== b.length) {
    throw new VigilError('E_SHAPE', `${bField}: has ${b.length} elements but ${aField} has ${a.length}; they must pair up one to one`, {
      field: bField,
      expected: a.length,
      actual: b.length,
    });
  }
}

/** Scores + labels of equal, non-zero length; scores finite, labels 0/1. */
export function checkScored(scores: ArrayLike<number>, labels: ArrayLike<number>, scoresField = 'scores', labelsField = 'labels'): void {
  checkScores(scores, scoresField);
  checkLabels(labels, labelsField);
  checkSameLength(scores, scoresField, labels, labelsField);
}

/** A threshold must be a number and not NaN (±Infinity are allowed: flag everything / nothing). */
export function checkThreshold(threshold: number, field = 'threshold'): void {
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) {
    throw new VigilError('E_VALUE', `${field}: is ${String(threshold)}, expected a number`, { field, value: String(threshold) });
  }
}

/** Option in [lo, hi] (inclusive unless told otherwise), else E_CONFIG naming it. */
export function checkRange(
  value: number,
  field: string,
  lo: number,
  hi: number,
  { loOpen = false, hiOpen = false }: { loOpen?: boolean; hiOpen?: boolean } = {},
): void {
  const ok =
    typeof value === 'number' && Number.isFinite(value) && (loOpen ? value > lo : value >= lo) && (hiOpen ? value < hi : value <= hi);
  if (!ok) {
    const range = `${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
    throw new VigilError('E_CONFIG', `${field}: is ${String(value)}, expected a number in ${range}`, { field, value: String(value) });
  }
}

export function checkInteger(value: number, field: string, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new VigilError('E_CONFIG', `${field}: is ${String(value)}, expected an integer >= ${min}`, { field, value: String(value) });
  }
}

/** Counts of each class; throws E_VALUE naming `labelsField` unless both are present. */
export function requireBothClasses(labels: ArrayLike<number>, labelsField: string, what: string): { pos: number; neg: number } {
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i]!;
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) {
    const only = pos === 0 ? '0 (normal)' : '1 (anomalous)';
    throw new VigilError('E_VALUE', `${labelsField}: all ${labels.length} labels are ${only}; ${what} needs both normal and anomalous samples`, {
      field: labelsField,
      positives: pos,
      negatives: neg,
    });
  }
  return { pos, neg };
}

/** 0/0 is defined as 0 throughout the metrics (documented per function). */
export function safeDiv(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

/**
 * Scores grouped by distinct value, highest first: `values[g]` is the g-th largest distinct score,
 * `pos[g]`/`neg[g]` how many anomalous/normal samples have exactly that score. Built with two
 * native typed-array sorts (no comparator), O(n log n) time, O(n) memory.
 */
export interface ScoreGroups {
  values: Float64Array;
  pos: Float64Array;
  neg: Float64Array;
  /** Number of groups (the arrays may be longer). */
  count: number;
  totalPos: number;
  totalNeg: number;
}

export function groupScores(scores: ArrayLike<number>, labels: ArrayLike<number>): ScoreGroups {
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) nPos += labels[i]!;
  const p = new Float64Array(nPos);
  const q = new Float64Array(labels.length - nPos);
  let ip = 0;
  let iq = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] === 1) p[ip++] = scores[i]!;
    else q[iq++] = scores[i]!;
  }
  return groupSorted(p.sort(), q.sort());
}

/** Walks two ascending-sorted arrays from the top, grouping equal values (=== so -0 and 0 tie). */
export function groupSorted(p: Float64Array | Float32Array, q: Float64Array | Float32Array): ScoreGroups {
  const cap = p.length + q.length;
  const values = new Float64Array(cap);
  const pos = new Float64Array(cap);
  const neg = new Float64Array(cap);
  let i = p.length - 1;
  let j = q.length - 1;
  let g = 0;
  while (i >= 0 || j >= 0) {
    const a = i >= 0 ? p[i]! : -Infinity;
    const b = j >= 0 ? q[j]! : -Infinity;
    const v = i < 0 ? b : j < 0 ? a : a > b ? a : b;
    let dp = 0;
    let dn = 0;
    while (i >= 0 && p[i] === v) {
      dp++;
      i--;
    }
    while (j >= 0 && q[j] === v) {
      dn++;
      j--;
    }
    values[g] = v;
    pos[g] = dp;
    neg[g] = dn;
    g++;
  }
  return { values, pos, neg, count: g, totalPos: p.length, totalNeg: q.length };
}

/**
 * Rank of each value among the distinct values (ascending): `uniq` is sorted ascending without
 * duplicates and `uniq[rank[i]] === values[i]`. One native sort plus a binary search per value.
 */
export function rankValues(values: ArrayLike<number>): { uniq: Float64Array; rank: Uint32Array } {
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const u = uniqueSortedInPlace(sorted);
  const rank = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) rank[i] = lowerBound(u, values[i]!);
  return { uniq: u, rank };
}

/** Compacts an ascending array in place; returns the subarray of distinct values. */
export function uniqueSortedInPlace<T extends Float64Array | Float32Array>(sorted: T): T {
  if (sorted.length === 0) return sorted;
  let w = 1;
  for (let r = 1; r < sorted.length; r++) {
    if (sorted[r] !== sorted[w - 1]) sorted[w++] = sorted[r]!;
  }
  return sorted.subarray(0, w) as T;
}

/** First index k with a[k] >= x (a ascending). */
export function lowerBound(a: Float64Array | Float32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
