/**
 * Exact nearest-neighbour search in a fixed bank of vectors (PatchCore's memory bank) by matrix
 * multiplication: |q - b|^2 = |q|^2 + |b|^2 - 2 q.b, argmin over the bank per query, then the
 * winner's distance recomputed exactly in float64 (no cancellation).
 *
 * `searchAsync` runs the product and argmin as one small ONNX graph on ONNX Runtime (native GEMM,
 * about 7x the wasm backend at a 16,384-vector bank; bench/results/nearest.md), with the bank as a
 * constant of the graph. `search` (and `searchAsync` where ORT does not load, or VIGIL_INFERENCE=tfjs) uses TF.js:
 * the bank transposed, (dim, n) in column chunks, so that queries (m, dim) times a chunk is the
 * plain product the wasm backend hands to XNNPACK's GEMM. Queries go in row chunks so the (rows,
 * columns) distance block stays bounded. Each engine's copy of the bank is made on first use.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { VigilError } from '../../core/errors.js';
import { GraphBuilder } from '../../engine/onnx/graph.js';
import { resolveInferenceOptions } from '../../engine/onnx/options.js';
import { encodeModel, valueInfo } from '../../engine/onnx/proto.js';
import { OrtSession } from '../../engine/onnx/runtime.js';
import { VIGIL_VERSION } from '../../core/version.js';

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
  private readonly bankChunk: number;
  /** The ONNX Runtime session, null once it is known not to load (TF.js then). */
  private ort: Promise<OrtSession | null> | null = null;

  /** `bank` holds `size` rows of `dim` values, row-major; engines copy it when first used. */
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
    this.bankChunk = Math.max(1, opts.bankChunk ?? 8192);
  }

  /** The bank on the TF.js engine, in column chunks (made on first use). */
  private tfChunks(): BankChunk[] {
    if (this.chunks.length > 0) return this.chunks;
    const { bank, dim } = this;
    for (let start = 0; start < this.size; start += this.bankChunk) {
      const cols = Math.min(this.bankChunk, this.size - start);
      const [scaledT, norms] = tf.tidy(() => {
        const rows = tf.tensor2d(bank.subarray(start * dim, (start + cols) * dim), [cols, dim]);
        return [tf.mul(tf.transpose(rows), -2) as tf.Tensor2D, tf.sum(tf.square(rows), 1) as tf.Tensor1D];
      });
      this.chunks.push({ scaledT: scaledT!, norms: norms!, start, cols });
    }
    return this.chunks;
  }

  /**
   * ONNX graph: queries (m, dim) → argmin_j (|b_j|^2 - 2 q.b_j) as float32 (m), the bank a constant
   * (vigil reads float32 outputs).
   */
  private onnxModel(): Uint8Array {
    const { bank, dim, size } = this;
    const scaledT = new Float32Array(dim * size);
    const norms = new Float32Array(size);
    for (let j = 0; j < size; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) {
        const v = bank[j * dim + t]!;
        scaledT[t * size + j] = -2 * v;
        s += v * v;
      }
      norms[j] = s;
    }
    const g = new GraphBuilder();
    const q = g.reserve('queries');
    const out = g.reserve('nearest');
    const [product] = g.node('MatMul', [q, g.floats('bank_scaled_t', [dim, size], scaledT)]);
    const [ranked] = g.node('Add', [product!, g.floats('bank_norms', [size], norms)]);
    const [arg] = g.node('ArgMin', [ranked!], { axis: 1, keepdims: 0 });
    g.node('Cast', [arg!], { to: 1 /* FLOAT */ }, 'nearest', [out]);
    return encodeModel({
      graphName: 'nearest_neighbour',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [valueInfo(q, [null, dim])],
      outputs: [valueInfo(out, [null])],
      metadata: { what: 'vigil nearest-neighbour search' },
      producerVersion: VIGIL_VERSION,
    });
  }

  /** The ORT session (built once), or null where ORT is off or does not load. */
  private ortSession(): Promise<OrtSession | null> {
    this.ort ??= (async () => {
      // The graph returns indices as float32, exact up to 2^24 bank vectors.
      if (resolveInferenceOptions().backend === 'tfjs' || this.size > 2 ** 24) return null;
      // A large product: worth a second thread unless the user set the thread count.
      const threads = process.env.VIGIL_ORT_THREADS ? {} : { intraOpThreads: Math.min(2, os.availableParallelism()) };
      try {
        return await OrtSession.create(this.onnxModel(), 'nearest-neighbour search', threads);
      } catch (e) {
        if (e instanceof VigilError && e.code === 'E_UNSUPPORTED' && resolveInferenceOptions().backend === 'auto') return null;
        throw e;
      }
    })();
    return this.ort;
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

  /** Nearest bank vector of each of the `m` query rows in `queries` (row-major (m, dim)), on TF.js. */
  search(queries: Float32Array, m: number): NearestResult {
    this.checkQueries(queries, m);
    const best = new Float64Array(m).fill(Infinity);
    const indices = new Int32Array(m);
    for (let r0 = 0; r0 < m; r0 += this.queryChunk) {
      const rows = Math.min(this.queryChunk, m - r0);
      const q = tf.tensor2d(queries.subarray(r0 * this.dim, (r0 + rows) * this.dim), [rows, this.dim]);
      try {
        for (const chunk of this.tfChunks()) {
          // The plain product plus an add is faster on the wasm backend than tf.fused.matMul with a bias.
          const arg = tf.tidy(() => tf.argMin(tf.add(tf.matMul(q, chunk.scaledT), chunk.norms), 1));
          const args = arg.dataSync() as Int32Array;
          arg.dispose();
          for (let i = 0; i < rows; i++) this.keepIfNearer(queries, r0 + i, chunk.start + args[i]!, best, indices);
        }
      } finally {
        q.dispose();
      }
    }
    return { distances: Float32Array.from(best, Math.sqrt), indices };
  }

  /** As `search`, on ONNX Runtime where it loads (TF.js otherwise). */
  async searchAsync(queries: Float32Array, m: number): Promise<NearestResult> {
    const session = await this.ortSession();
    if (!session) return this.search(queries, m);
    this.checkQueries(queries, m);
    const best = new Float64Array(m).fill(Infinity);
    const indices = new Int32Array(m);
    for (let r0 = 0; r0 < m; r0 += this.queryChunk) {
      const rows = Math.min(this.queryChunk, m - r0);
      const { nearest } = await session.run({ queries: { data: queries.subarray(r0 * this.dim, (r0 + rows) * this.dim), shape: [rows, this.dim] } });
      for (let i = 0; i < rows; i++) this.keepIfNearer(queries, r0 + i, nearest!.data[i]!, best, indices);
    }
    return { distances: Float32Array.from(best, Math.sqrt), indices };
  }

  /** Records bank row `j` as query `i`'s nearest when its exact distance beats the best so far. */
  private keepIfNearer(queries: Float32Array, i: number, j: number, best: Float64Array, indices: Int32Array): void {
    const d = this.exact(queries, i, j);
    if (d < best[i]!) {
      best[i] = d;
      indices[i] = j;
    }
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
    const ort = this.ort;
    this.ort = null;
    void ort?.then((s) => s?.release()).catch(() => undefined);
  }
}
