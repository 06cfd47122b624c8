/**
 * Greedy k-center coreset selection (Gonzalez 1985; Sener & Savarese 2018), the memory-bank
 * subsampling of PatchCore (Roth et al. 2022): start from one point, then repeatedly add the point
 * whose distance to its nearest chosen point is largest. The chosen set covers every point within
 * the smallest radius the greedy rule can reach (a 2-approximation of the k-center optimum).
 *
 * Exact, but accelerated with the triangle inequality so that it stays usable on 10^5 points on a
 * CPU. Every point remembers its nearest center (its cluster) and the distance to it; a new center
 * c can only take a point j away from center m if d(c, m) < 2 d(j, m), so whole clusters with
 * d(c, m) >= 2 * radius(m) are skipped, and d(c, m) itself is skipped when a cheap lower bound
 * (distances to the origin and to the first center) already rules the cluster out. Late in the
 * selection clusters are small and almost every cluster is skipped, so the cost falls from
 * k * n * dim to about k^2 / 2 bound checks plus the points actually examined.
 */
import { VigilError } from '../../core/errors.js';

export interface KCenterOptions {
  /** Index of the first center (default 0). */
  start?: number;
  /** Called after every `progressEvery` selections with the number selected so far. */
  onProgress?: (selected: number) => void;
  progressEvery?: number;
}

/** Squared Euclidean distance between rows a and b of a row-major (n, dim) matrix. */
function dist2(p: Float32Array, dim: number, a: number, b: number): number {
  const oa = a * dim;
  const ob = b * dim;
  let s = 0;
  for (let t = 0; t < dim; t++) {
    const d = p[oa + t]! - p[ob + t]!;
    s += d * d;
  }
  return s;
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

  const centers = new Int32Array(want);
  const minD = new Float64Array(count); // squared distance to the nearest center
  const radius = new Float64Array(want); // squared: largest minD in each cluster
  const far = new Int32Array(want); // the member at that distance
  const members: Int32Array[] = [];
  // Lower-bound helpers: |x| and d(x, start), exact distances to two fixed pivots.
  const norm = new Float64Array(count);
  const toStart = new Float64Array(count);

  const all = new Int32Array(count);
  let r0 = 0;
  let f0 = start;
  for (let j = 0; j < count; j++) {
    all[j] = j;
    let s = 0;
    const o = j * dim;
    for (let t = 0; t < dim; t++) s += points[o + t]! * points[o + t]!;
    norm[j] = Math.sqrt(s);
    const d = dist2(points, dim, j, start);
    minD[j] = d;
    toStart[j] = Math.sqrt(d);
    if (d > r0) {
      r0 = d;
      f0 = j;
    }
  }
  centers[0] = start;
  members.push(all);
  radius[0] = r0;
  far[0] = f0;
  let chosen = 1;
  const scratchKeep = new Int32Array(count);
  const scratchMoved = new Int32Array(count);

  while (chosen < want) {
    let best = 0;
    for (let m = 1; m < chosen; m++) if (radius[m]! > radius[best]!) best = m;
    if (!(radius[best]! > 0)) break; // every point coincides with a center
    const c = far[best]!;
    const t = chosen;
    centers[t] = c;
    let moved = 0;
    for (let m = 0; m < t; m++) {
      const rm = radius[m]!;
      if (!(rm > 0)) continue;
      const cm = centers[m]!;
      const lb = Math.max(Math.abs(norm[c]! - norm[cm]!), Math.abs(toStart[c]! - toStart[cm]!));
      if (lb * lb >= 4 * rm) continue;
      const dmc = dist2(points, dim, c, cm);
      if (dmc >= 4 * rm) continue;
      const list = members[m]!;
      let kept = 0;
      let newR = 0;
      let newFar = cm;
      for (let i = 0; i < list.length; i++) {
        const j = list[i]!;
        const mj = minD[j]!;
        if (dmc < 4 * mj) {
          const d = dist2(points, dim, j, c);
          if (d < mj) {
            minD[j] = d;
            scratchMoved[moved++] = j;
            continue;
          }
        }
        scratchKeep[kept++] = j;
        if (mj > newR) {
          newR = mj;
          newFar = j;
        }
      }
      if (kept !== list.length) members[m] = scratchKeep.slice(0, kept);
      radius[m] = newR;
      far[m] = newFar;
    }
    const mine = scratchMoved.slice(0, moved);
    let rt = 0;
    let ft = c;
    for (let i = 0; i < moved; i++) {
      const j = mine[i]!;
      if (minD[j]! > rt) {
        rt = minD[j]!;
        ft = j;
      }
    }
    members.push(mine);
    radius[t] = rt;
    far[t] = ft;
    chosen++;
    if (opts.onProgress && chosen % every === 0) opts.onProgress(chosen);
  }
  opts.onProgress?.(chosen);
  return chosen === want ? centers : centers.slice(0, chosen);
}
