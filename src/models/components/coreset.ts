/**
 * Greedy k-center coreset selection (Gonzalez 1985; Sener & Savarese 2018), the memory-bank
 * subsampling of PatchCore (Roth et al. 2022): start from one point, then repeatedly add the point
 * whose distance to its nearest chosen point is largest. The chosen set covers every point within
 * the smallest radius the greedy rule can reach (a 2-approximation of the k-center optimum).
 *
 * The textbook loop updates every point's distance to its nearest center after each selection,
 * n * dim work per selection at memory speed. Here selections are made in blocks so that the work
 * becomes matrix multiplication (the engine's BatchMatMul / XNNPACK GEMM), with the same result:
 *
 * - all distances `minD` are exact at the start of a block; the B points with the largest minD
 *   are the candidates, and T, the next largest minD, bounds every other point's distance from
 *   above (adding centers only lowers distances);
 * - within the block, the candidate with the largest distance (updated with the candidate-to-
 *   candidate distance matrix as centers are added) is the greedy choice as long as that distance
 *   is at least T, since no other point can then be farther; otherwise the block ends;
 * - at the end of a block every point's minD is updated against the block's centers in one
 *   (n, dim) x (dim, s) product.
 *
 * Distances are float32 on the engine (|x|^2 + |c|^2 - 2 x.c); the engine must be initialised.
 */
import * as tf from '@tensorflow/tfjs-core';
import { VigilError } from '../../core/errors.js';

export interface KCenterOptions {
  /** Index of the first center (default 0). */
  start?: number;
  /** Called after every `progressEvery` selections with the number selected so far. */
  onProgress?: (selected: number) => void;
  progressEvery?: number;
  /** Candidates per block (default 1024). */
  block?: number;
}

/** Point rows per distance product, so that (rows, s) blocks stay within ~16M floats. */
function rowsPerProduct(s: number): number {
  return Math.max(256, Math.min(16384, Math.floor((16 * 1024 * 1024) / Math.max(1, s))));
}

/**
 * min over the given centers of the squared distance, for every point; lowers `minD` in place.
 * `x` (n, dim) holds the points on the engine, `xn` (n) their squared norms.
 */
function lowerDistances(x: tf.Tensor2D, xn: Float32Array, points: Float32Array, dim: number, centers: readonly number[], minD: Float32Array): void {
  const s = centers.length;
  const c = new Float32Array(s * dim);
  centers.forEach((j, i) => c.set(points.subarray(j * dim, (j + 1) * dim), i * dim));
  const n = x.shape[0];
  const step = rowsPerProduct(s);
  const [cT, cNorm] = tf.tidy(() => {
    const ct = tf.tensor2d(c, [s, dim]);
    return [tf.mul(tf.transpose(ct), -2) as tf.Tensor2D, tf.sum(tf.square(ct), 1) as tf.Tensor1D];
  });
  try {
    for (let r0 = 0; r0 < n; r0 += step) {
      const rows = Math.min(step, n - r0);
      // min over centers of |c|^2 - 2 x.c, plus |x|^2.
      const m = tf.tidy(() => tf.min(tf.add(tf.matMul(rows === n ? x : tf.slice(x, [r0, 0], [rows, dim]), cT!), cNorm!), 1));
      const vals = m.dataSync() as Float32Array;
      m.dispose();
      for (let i = 0; i < rows; i++) {
        const v = Math.max(vals[i]! + xn[r0 + i]!, 0);
        if (v < minD[r0 + i]!) minD[r0 + i] = v;
      }
    }
  } finally {
    cT!.dispose();
    cNorm!.dispose();
  }
}

/** Squared distances between the given points, (b, b) row-major. */
function pairwiseDistances(points: Float32Array, dim: number, idx: Int32Array): Float32Array {
  const b = idx.length;
  const sub = new Float32Array(b * dim);
  idx.forEach((j, i) => sub.set(points.subarray(j * dim, (j + 1) * dim), i * dim));
  const out = tf.tidy(() => {
    const a = tf.tensor2d(sub, [b, dim]);
    const norms = tf.sum(tf.square(a), 1);
    const prod = tf.matMul(a, tf.transpose(a));
    return tf.relu(tf.add(tf.sub(tf.reshape(norms, [b, 1]), tf.mul(prod, 2)), tf.reshape(norms, [1, b])));
  });
  try {
    return out.dataSync() as Float32Array;
  } finally {
    out.dispose();
  }
}

/**
 * Selects up to `k` of the `count` points (rows of `dim` values in `points`, row-major) by greedy
 * k-center. Returns their indices in the order chosen: the first is `opts.start`, each later one the
 * point farthest from all chosen before it. Returns fewer than `k` when every remaining point
 * coincides with a chosen one.
 */
export function kCenterGreedy(points: Float32Array, count: number, dim: number, k: number, opts: KCenterOptions = {}): Int32Array {
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(dim) || dim < 1 || points.length < count * dim) {
    throw new VigilError('E_SHAPE', `kCenterGreedy: ${points.length} values cannot hold ${count} points of ${dim} dims`, { count, dim, values: points.length });
  }
  if (!Number.isInteger(k) || k < 0) throw new VigilError('E_VALUE', `kCenterGreedy: k = ${k}, expected a non-negative integer`, { field: 'k', value: k });
  const want = Math.min(k, count);
  const start = opts.start ?? 0;
  if (want === 0) return new Int32Array(0);
  if (!Number.isInteger(start) || start < 0 || start >= count) {
    throw new VigilError('E_VALUE', `kCenterGreedy: start = ${start}, expected an index in [0, ${count})`, { field: 'start', value: start });
  }
  const every = Math.max(1, opts.progressEvery ?? 256);
  const B = Math.max(1, Math.min(count, opts.block ?? 1024));

  const centers = new Int32Array(want);
  centers[0] = start;
  let chosen = 1;
  const minD = new Float32Array(count).fill(Infinity);
  const x = tf.tensor2d(points.subarray(0, count * dim), [count, dim]);
  const xNorm = tf.tidy(() => tf.sum(tf.square(x), 1));
  const xn = xNorm.dataSync() as Float32Array;
  xNorm.dispose();
  try {
    lowerDistances(x, xn, points, dim, [start], minD);
    minD[start] = 0;
    const order = new Int32Array(count);
    while (chosen < want) {
      // Candidates: the B largest distances; T bounds everyone else's.
      for (let i = 0; i < count; i++) order[i] = i;
      const sorted = order.sort((a, b) => minD[b]! - minD[a]! || a - b);
      const cand = sorted.slice(0, B);
      const T = count > B ? minD[sorted[B]!]! : -Infinity;
      if (!(minD[cand[0]!]! > 0)) break; // every point coincides with a center
      const pair = pairwiseDistances(points, dim, cand);
      const v = Float32Array.from(cand, (j) => minD[j]!);
      const picked: number[] = [];
      while (chosen < want) {
        let best = -1;
        for (let i = 0; i < cand.length; i++) if (v[i]! >= 0 && (best < 0 || v[i]! > v[best]!)) best = i;
        if (best < 0 || !(v[best]! > 0) || (picked.length > 0 && v[best]! < T)) break;
        picked.push(cand[best]!);
        centers[chosen++] = cand[best]!;
        v[best] = -1;
        const row = best * cand.length;
        for (let i = 0; i < cand.length; i++) if (v[i]! > pair[row + i]!) v[i] = pair[row + i]!;
        if (opts.onProgress && chosen % every === 0) opts.onProgress(chosen);
      }
      if (picked.length === 0) break;
      lowerDistances(x, xn, points, dim, picked, minD);
      for (const j of picked) minD[j] = 0;
    }
  } finally {
    x.dispose();
  }
  opts.onProgress?.(chosen);
  return chosen === want ? centers : centers.slice(0, chosen);
}
