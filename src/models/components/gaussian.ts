/**
 * Multivariate Gaussians per feature-grid position (PaDiM, Defard et al. 2020): streaming mean and
 * covariance in float64, regularised inversion by Cholesky, Mahalanobis distances, and the packed
 * upper-triangle layout used to store symmetric matrices at half the size.
 *
 * Layouts (row-major): features of one image (P, d); means (P, d); full matrices (P, d, d); packed
 * matrices (P, d(d+1)/2) holding row u's entries u..d-1 one row after another.
 */
import { VigilError } from '../../core/errors.js';

/** Entries in the packed upper triangle of a d x d symmetric matrix. */
export function packedSize(d: number): number {
  return (d * (d + 1)) / 2;
}

/** Packs the upper triangle of each of `count` (d, d) matrices in `full`. */
export function packSymmetric(full: ArrayLike<number>, d: number, count: number): Float32Array {
  const out = new Float32Array(count * packedSize(d));
  let o = 0;
  for (let p = 0; p < count; p++) {
    const base = p * d * d;
    for (let u = 0; u < d; u++) for (let v = u; v < d; v++) out[o++] = full[base + u * d + v]!;
  }
  return out;
}

/** Inverse of {@link packSymmetric}: `count` full (d, d) symmetric matrices. */
export function unpackSymmetric(packed: Float32Array, d: number, count: number): Float32Array {
  if (packed.length !== count * packedSize(d)) {
    throw new VigilError('E_SHAPE', `packed symmetric matrices: ${packed.length} values, ${count} of ${d}x${d} need ${count * packedSize(d)}`, { d, count });
  }
  const out = new Float32Array(count * d * d);
  let o = 0;
  for (let p = 0; p < count; p++) {
    const base = p * d * d;
    for (let u = 0; u < d; u++) {
      for (let v = u; v < d; v++) {
        const x = packed[o++]!;
        out[base + u * d + v] = x;
        out[base + v * d + u] = x;
      }
    }
  }
  return out;
}

/**
 * Inverse of a symmetric positive-definite d x d matrix (row-major, float64) by Cholesky:
 * A = L L^T, A^-1 = L^-T L^-1. Throws E_VALUE when A is not positive definite.
 */
export function invertSpd(a: Float64Array, d: number, what = 'matrix'): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= L[i * d + k]! * L[j * d + k]!;
      if (i === j) {
        if (!(s > 0)) throw new VigilError('E_VALUE', `${what}: not positive definite (pivot ${i} is ${s})`, { pivot: i });
        L[i * d + i] = Math.sqrt(s);
      } else {
        L[i * d + j] = s / L[j * d + j]!;
      }
    }
  }
  // M = L^-1 (lower triangular), by forward substitution column by column.
  const M = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    M[j * d + j] = 1 / L[j * d + j]!;
    for (let i = j + 1; i < d; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= L[i * d + k]! * M[k * d + j]!;
      M[i * d + j] = s / L[i * d + i]!;
    }
  }
  // A^-1 = M^T M; (i, j) = sum_k M[k, i] M[k, j] over k >= max(i, j).
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = j; k < d; k++) s += M[k * d + i]! * M[k * d + j]!;
      inv[i * d + j] = s;
      inv[j * d + i] = s;
    }
  }
  return inv;
}

/** A fitted Gaussian per position: means (P, d) and inverse covariances (P, d, d), float32. */
export interface PositionGaussians {
  positions: number;
  dims: number;
  mean: Float32Array;
  inverse: Float32Array;
}

/**
 * Streaming mean and covariance of `dims`-dimensional features at each of `positions` positions.
 * Sums are taken in float64 around a shift (the first sample), so that E[xx^T] - mu mu^T does not
 * cancel catastrophically. Memory: positions * (2 d + d(d+1)/2) float64.
 */
export class GaussianAccumulator {
  private shift: Float64Array | null = null;
  private readonly s1: Float64Array;
  private readonly s2: Float64Array;
  private n = 0;
  private readonly diff: Float64Array;

  constructor(
    readonly positions: number,
    readonly dims: number,
  ) {
    this.s1 = new Float64Array(positions * dims);
    this.s2 = new Float64Array(positions * packedSize(dims));
    this.diff = new Float64Array(dims);
  }

  /** Samples added so far. */
  get count(): number {
    return this.n;
  }

  /** Adds `count` samples, each `positions * dims` values (P, d), packed one after another. */
  add(values: Float32Array, count: number): void {
    const { positions: P, dims: d } = this;
    const size = P * d;
    if (values.length !== count * size) {
      throw new VigilError('E_SHAPE', `Gaussian accumulator: ${values.length} values are not ${count} samples of ${P}x${d}`, { positions: P, dims: d });
    }
    if (!this.shift && count > 0) this.shift = Float64Array.from(values.subarray(0, size));
    const shift = this.shift!;
    const { s1, s2, diff } = this;
    const ps = packedSize(d);
    for (let n = 0; n < count; n++) {
      const base = n * size;
      for (let p = 0; p < P; p++) {
        const o = p * d;
        for (let u = 0; u < d; u++) {
          const x = values[base + o + u]! - shift[o + u]!;
          diff[u] = x;
          s1[o + u]! += x;
        }
        let q = p * ps;
        for (let u = 0; u < d; u++) {
          const du = diff[u]!;
          for (let v = u; v < d; v++) s2[q++]! += du * diff[v]!;
        }
      }
    }
    this.n += count;
  }

  /**
   * Mean and inverse of (covariance + epsilon I) per position. The covariance is the unbiased one
   * (divided by n - 1; by n when there is a single sample).
   */
  finish(epsilon: number): PositionGaussians {
    const { positions: P, dims: d, n } = this;
    if (n === 0 || !this.shift) throw new VigilError('E_EMPTY', 'Gaussian fit: no samples were added');
    const mean = new Float32Array(P * d);
    const inverse = new Float32Array(P * d * d);
    const cov = new Float64Array(d * d);
    const ps = packedSize(d);
    const div = n > 1 ? n - 1 : n;
    for (let p = 0; p < P; p++) {
      const o = p * d;
      for (let u = 0; u < d; u++) mean[o + u] = this.shift[o + u]! + this.s1[o + u]! / n;
      let q = p * ps;
      for (let u = 0; u < d; u++) {
        const su = this.s1[o + u]!;
        for (let v = u; v < d; v++) {
          const c = (this.s2[q++]! - (su * this.s1[o + v]!) / n) / div;
          cov[u * d + v] = c;
          cov[v * d + u] = c;
        }
        cov[u * d + u]! += epsilon;
      }
      inverse.set(invertSpd(cov, d, `covariance at position ${p}`), p * d * d);
    }
    return { positions: P, dims: d, mean, inverse };
  }
}

/**
 * Mahalanobis distance sqrt((x - mu)^T S^-1 (x - mu)) at each position, for one sample's features
 * x (P, d) against `g`. Returns (P).
 */
export function mahalanobis(x: Float32Array, g: PositionGaussians): Float32Array {
  const { positions: P, dims: d, mean, inverse } = g;
  if (x.length !== P * d) throw new VigilError('E_SHAPE', `Mahalanobis: ${x.length} values, expected ${P}x${d}`, { positions: P, dims: d });
  const out = new Float32Array(P);
  const diff = new Float64Array(d);
  for (let p = 0; p < P; p++) {
    const o = p * d;
    for (let u = 0; u < d; u++) diff[u] = x[o + u]! - mean[o + u]!;
    const m = p * d * d;
    let s = 0;
    for (let u = 0; u < d; u++) {
      const row = m + u * d;
      let r = 0;
      for (let v = 0; v < d; v++) r += inverse[row + v]! * diff[v]!;
      s += diff[u]! * r;
    }
    out[p] = Math.sqrt(Math.max(s, 0));
  }
  return out;
}
