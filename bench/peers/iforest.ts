/**
 * Isolation forest (Liu, Ting, Zhou, "Isolation Forest", ICDM 2008), compact, as the ODDS peer.
 *
 * Each of `trees` (100) trees is grown on a random subsample of ψ = `sampleSize` (256) rows without
 * replacement, to height limit ceil(log2 ψ): a node picks a random feature among those not constant
 * in it and a split value uniform in (min, max). The path length of x in a tree is the depth of the
 * leaf it reaches plus c(size of that leaf), with c(n) = 2 H(n - 1) - 2 (n - 1) / n the average
 * path length of an unsuccessful BST search (H(i) ≈ ln i + 0.5772156649; c(1) = 0, c(2) = 1).
 * Anomaly score s(x) = 2^(-E[h(x)] / c(ψ)) in (0, 1], higher = more anomalous.
 *
 * Rows are (N, D) row-major Float32Array.
 */
import { createRng, type Rng } from '../../src/data/random.js';

export interface IsolationForestOptions {
  trees?: number;
  sampleSize?: number;
  seed?: number;
}

type Node = { leaf: true; size: number } | { leaf: false; feature: number; split: number; left: Node; right: Node };

const EULER = 0.5772156649;

/** Average path length of an unsuccessful search in a BST of n points. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER) - (2 * (n - 1)) / n;
}

function grow(x: Float32Array, d: number, rows: number[], depth: number, limit: number, rng: Rng): Node {
  if (depth >= limit || rows.length <= 1) return { leaf: true, size: rows.length };
  const lo = new Float64Array(d).fill(Infinity);
  const hi = new Float64Array(d).fill(-Infinity);
  for (const r of rows) {
    for (let j = 0; j < d; j++) {
      const v = x[r * d + j]!;
      if (v < lo[j]!) lo[j] = v;
      if (v > hi[j]!) hi[j] = v;
    }
  }
  const candidates: number[] = [];
  for (let j = 0; j < d; j++) if (hi[j]! > lo[j]!) candidates.push(j);
  if (candidates.length === 0) return { leaf: true, size: rows.length };
  const feature = candidates[rng.int(candidates.length)]!;
  const split = rng.uniform(lo[feature]!, hi[feature]!);
  const left: number[] = [];
  const right: number[] = [];
  for (const r of rows) (x[r * d + feature]! < split ? left : right).push(r);
  return { leaf: false, feature, split, left: grow(x, d, left, depth + 1, limit, rng), right: grow(x, d, right, depth + 1, limit, rng) };
}

function pathLength(node: Node, x: Float32Array, offset: number): number {
  let depth = 0;
  let n = node;
  while (!n.leaf) {
    n = x[offset + n.feature]! < n.split ? n.left : n.right;
    depth++;
  }
  return depth + averagePathLength(n.size);
}

export class IsolationForest {
  private forest: Node[] = [];
  private psi = 0;
  readonly trees: number;
  readonly sampleSize: number;
  readonly seed: number;

  constructor(o: IsolationForestOptions = {}) {
    this.trees = o.trees ?? 100;
    this.sampleSize = o.sampleSize ?? 256;
    this.seed = o.seed ?? 0;
  }

  fit(x: Float32Array, n: number, d: number): this {
    const rng = createRng(this.seed);
    this.psi = Math.min(this.sampleSize, n);
    const limit = Math.ceil(Math.log2(Math.max(2, this.psi)));
    const all = Array.from({ length: n }, (_, i) => i);
    this.forest = [];
    for (let t = 0; t < this.trees; t++) {
      // Partial Fisher-Yates: the first psi entries are a sample without replacement.
      for (let i = 0; i < this.psi; i++) {
        const j = i + rng.int(n - i);
        const tmp = all[i]!;
        all[i] = all[j]!;
        all[j] = tmp;
      }
      this.forest.push(grow(x, d, all.slice(0, this.psi), 0, limit, rng));
    }
    return this;
  }

  /** Anomaly scores (N) of rows x (N, D). */
  score(x: Float32Array, n: number, d: number): Float64Array {
    const out = new Float64Array(n);
    const c = averagePathLength(this.psi);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (const tree of this.forest) sum += pathLength(tree, x, i * d);
      out[i] = Math.pow(2, -sum / this.forest.length / c);
    }
    return out;
  }
}
