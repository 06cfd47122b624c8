/**
 * Online score normalisation by rank: a raw score becomes the fraction of the last `window` raw
 * scores that are strictly below it (an empirical CDF, in [0, 1]). Fixed memory: a ring of the last
 * `window` scores and the same scores kept sorted (O(window) per update by binary search + shift).
 */
import { VigilError } from '../core/errors.js';

export class RollingRank {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0;
  private count = 0;

  constructor(readonly window = 2000) {
    if (!Number.isInteger(window) || window < 2) throw new VigilError('E_CONFIG', `rolling rank window ${window} must be an integer >= 2`, { field: 'window' });
    this.ring = new Float64Array(window);
    this.sorted = new Float64Array(window);
  }

  get allocated(): number {
    return this.ring.length + this.sorted.length;
  }

  get size(): number {
    return this.count;
  }

  /** Index of the first sorted value >= v (or > v with `strict`). */
  private bound(v: number, strict: boolean): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < v || (strict && this.sorted[mid]! === v)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Rank of `v` among the held scores (before adding it): fraction strictly below, 0.5 when empty. */
  rank(v: number): number {
    if (this.count === 0) return 0.5;
    return this.bound(v, false) / this.count;
  }

  /** Returns the rank of `v`, then adds it (dropping the oldest once full). */
  update(v: number): number {
    if (!Number.isFinite(v)) throw new VigilError('E_VALUE', `rolling rank: score ${v} is not a finite number`, { value: String(v) });
    const r = this.rank(v);
    if (this.count === this.window) {
      const old = this.ring[this.head]!;
      const i = this.bound(old, false);
      this.sorted.copyWithin(i, i + 1, this.count);
      this.count--;
    }
    this.ring[this.head] = v;
    this.head = (this.head + 1) % this.window;
    const j = this.bound(v, true);
    this.sorted.copyWithin(j + 1, j, this.count);
    this.sorted[j] = v;
    this.count++;
    return r;
  }

  values(): number[] {
    const out: number[] = [];
    const start = (this.head - this.count + this.window) % this.window;
    for (let i = 0; i < this.count; i++) out.push(this.ring[(start + i) % this.window]!);
    return out;
  }

  load(values: readonly number[]): void {
    this.head = 0;
    this.count = 0;
    for (const v of values.slice(-this.window)) this.update(v);
  }
}
