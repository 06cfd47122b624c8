/**
 * Exact nearest-neighbour search in a fixed bank of vectors (PatchCore's memory bank) by matrix
 * multiplication: |q - b|^2 = |q|^2 + |b|^2 - 2 q.b, with q.b from the engine's BatchMatMul.
 *
 * The bank is held on the engine transposed, (dim, n) in column chunks, so that queries (m, dim)
 * times a chunk is the plain untransposed product that the wasm backend hands to XNNPACK's GEMM
 * (XNNPACK packs each chunk once and keeps it). Queries are processed in row chunks so the
 * (rows, columns) distance block stays bounded; per-chunk minima are merged on the CPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { VigilError } from '../../core/errors.js';

export interface NearestResult {
  /** Euclidean distance of each query to its nearest bank vector, (m). */
  distances: Float32Array;
  /** Index of that bank vector, (m). */
  indices: Int32Array;
}

export interface NearestIndexOptions {
  /** Bank vectors per column chunk (default 8192). */
  bankChunk?: number;
  /** Query rows per product (default 1024). */
  queryChunk?: number;
}

interface BankChunk {
  /** (dim, cols): -2 times the bank rows start..start+cols, transposed. */
  scaledT: tf.Tensor2D;
  /** (cols): their squared norms. */
  norms: tf.Tensor1D;
  start: number;
  cols: number;
}

export class NearestNeighbourIndex {
  readonly size: number;
  private readonly chunks: BankChunk[] = [];
  private readonly queryChunk: number;

  /** `bank` holds `size` rows of `dim` values, row-major; it is copied to the engine. */
  constructor(
    private readonly bank: Float32Array,
    readonly dim: number,
    opts: NearestIndexOptions = {},
  ) {
    if (!Number.isInteger(dim) || dim < 1 || bank.length % dim !== 0 || bank.length === 0) {
      throw new VigilError('E_SHAPE', `nearest-neighbour bank: ${bank.length} values are not whole vectors of ${dim}`, { dim, values: bank.length });
    }
    this.size = bank.length / dim;
    this.queryChunk = Math.max(1, opts.queryChunk ?? 1024);
    const bankChunk = Math.max(1, opts.bankChunk ?? 8192);
    for (let start = 0; start < this.size; start += bankChunk) {
      const cols = Math.min(bankChunk, this.size - start);
      const [scaledT, norms] = tf.tidy(() => {
        const rows = tf.tensor2d(bank.subarray(start * dim, (start + cols) * dim), [cols, dim]);
        return [tf.mul(tf.transpose(rows), -2) as tf.Tensor2D, tf.sum(tf.square(rows), 1) as tf.Tensor1D];
      });
      this.chunks.push({ scaledT: scaledT!, norms: norms!, start, cols });
    }
  }

  /** The whole bank, (size, dim) row-major (not a copy: do not modify). */
  get vectors(): Float32Array {
    return this.bank;
  }

  /** Row `i` of the bank (a view). */
  vector(i: number): Float32Array {
    return this.bank.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** Squared distance between query row `i` of `queries` and bank row `j`, in float64. */
  private exact(queries: Float32Array, i: number, j: number): number {
    const o = i * this.dim;
    const b = j * this.dim;
    let s = 0;
    for (let t = 0; t < this.dim; t++) {
      const x = queries[o + t]! - this.bank[b + t]!;
      s += x * x;
    }
    return s;
  }

  /** Nearest bank vector of each of the `m` query rows in `queries` (row-major (m, dim)). */
  search(queries: Float32Array, m: number): NearestResult {
    this.checkQueries(queries, m);
    const best = new Float64Array(m).fill(Infinity);
    const indices = new Int32Array(m);
    for (let r0 = 0; r0 < m; r0 += this.queryChunk) {
      const rows = Math.min(this.queryChunk, m - r0);
      const q = tf.tensor2d(queries.subarray(r0 * this.dim, (r0 + rows) * this.dim), [rows, this.dim]);
      try {
        for (const chunk of this.chunks) {
          // argmin_j |b_j|^2 - 2 q.b_j (the query's own norm does not change the ranking); the
          // winner's distance is then recomputed exactly (no cancellation). The plain product plus
          // an add is faster on the wasm backend than tf.fused.matMul with a bias.
          const arg = tf.tidy(() => tf.argMin(tf.add(tf.matMul(q, chunk.scaledT), chunk.norms), 1));
          const args = arg.dataSync() as Int32Array;
          arg.dispose();
          for (let i = 0; i < rows; i++) {
            const j = chunk.start + args[i]!;
            const d = this.exact(queries, r0 + i, j);
            if (d < best[r0 + i]!) {
              best[r0 + i] = d;
              indices[r0 + i] = j;
            }
          }
        }
      } finally {
        q.dispose();
      }
    }
    return { distances: Float32Array.from(best, Math.sqrt), indices };
  }

  /**
   * The `k` bank vectors nearest to one query vector (`dim` values), nearest first (ties by index).
   * Distances are computed directly (no cancellation), since there is a single query.
   */
  nearestK(query: Float32Array, k: number): NearestResult {
    this.checkQueries(query, 1);
    const n = this.size;
    const kk = Math.max(0, Math.min(k, n));
    const d2 = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const o = j * this.dim;
      let s = 0;
      for (let t = 0; t < this.dim; t++) {
        const x = this.bank[o + t]! - query[t]!;
        s += x * x;
      }
      d2[j] = s;
    }
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => d2[a]! - d2[b]! || a - b).slice(0, kk);
    return { distances: Float32Array.from(order, (j) => Math.sqrt(d2[j]!)), indices: Int32Array.from(order) };
  }

  private checkQueries(q: Float32Array, m: number): void {
    if (q.length !== m * this.dim) {
      throw new VigilError('E_SHAPE', `nearest-neighbour query: ${q.length} values are not ${m} vectors of ${this.dim}`, { dim: this.dim, rows: m });
    }
  }

  /** Frees the engine copies of the bank. */
  dispose(): void {
    for (const c of this.chunks) {
      c.scaledT.dispose();
      c.norms.dispose();
    }
    this.chunks.length = 0;
  }
}
