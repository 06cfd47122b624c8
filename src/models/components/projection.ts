/**
 * Seeded random dimensionality reduction: a dense Gaussian random projection (Johnson-Lindenstrauss:
 * pairwise distances are kept up to a small factor, which is all the k-center coreset search needs)
 * and a random channel subset (PaDiM's dimension reduction).
 */
import * as tf from '@tensorflow/tfjs-core';
import { VigilError } from '../../core/errors.js';
import { createRng } from '../../data/random.js';

/** `k` distinct indices from [0, n), chosen by a seeded shuffle and returned ascending. */
export function randomSubset(n: number, k: number, seed: number): Int32Array {
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new VigilError('E_CONFIG', `random subset: cannot choose ${k} of ${n} (expected 1..${n})`, { field: 'dims', value: k, available: n });
  }
  const order = Array.from({ length: n }, (_, i) => i);
  createRng(seed).shuffle(order);
  return Int32Array.from(order.slice(0, k)).sort();
}

/**
 * x (rows, inDim) → x R (rows, outDim) with R a fixed (inDim, outDim) matrix of N(0, 1/outDim)
 * entries drawn from `seed`, so that E|xR|^2 = |x|^2. Holds R as one tensor until disposed.
 */
export class RandomProjection {
  private readonly matrix: tf.Tensor2D;

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    seed: number,
  ) {
    if (!Number.isInteger(inDim) || inDim < 1 || !Number.isInteger(outDim) || outDim < 1) {
      throw new VigilError('E_CONFIG', `random projection ${inDim} → ${outDim}: dimensions must be positive integers`, { inDim, outDim });
    }
    const rng = createRng(seed);
    const r = new Float32Array(inDim * outDim);
    const s = 1 / Math.sqrt(outDim);
    for (let i = 0; i < r.length; i++) r[i] = rng.normal() * s;
    this.matrix = tf.tensor2d(r, [inDim, outDim]);
  }

  /** Projects `rows` rows of `x` (row-major (rows, inDim)) → (rows, outDim), on the active backend. */
  apply(x: Float32Array, rows: number): Float32Array {
    if (x.length !== rows * this.inDim) {
      throw new VigilError('E_SHAPE', `random projection: ${x.length} values are not ${rows} rows of ${this.inDim}`, { rows, dims: this.inDim });
    }
    const out = tf.tidy(() => tf.matMul(tf.tensor2d(x, [rows, this.inDim]), this.matrix));
    try {
      return out.dataSync() as Float32Array;
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.matrix.dispose();
  }
}
