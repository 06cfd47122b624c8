/**
 * Online score normalisation by the running peak: a raw score s (>= 0) becomes s / (s + M), where M
 * is the highest raw score among the last `window` points. 0.5 means "as high as the highest recent
 * score", above 0.5 a new peak; heavy-tailed score distributions need no Gaussian assumption (which
 * the likelihood makes). Fixed memory: a monotonic deque of at most `window` (index, score) pairs.
 */
import { VigilError } from '../core/errors.js';

export class RollingMax {
  private readonly idx: Float64Array;
  private readonly val: Float64Array;
  private head = 0;
  private size = 0;
  private seen = 0;

  constructor(readonly window = 8640) {
    if (!Number.isInteger(window) || window < 1) throw new VigilError('E_CONFIG', `rolling max window ${window} must be a positive integer`, { field: 'window' });
    this.idx = new Float64Array(window);
    this.val = new Float64Array(window);
  }

  get allocated(): number {
    return this.idx.length + this.val.length;
  }

  get count(): number {
    return Math.min(this.seen, this.window);
  }

  /** The highest of the last `window` values (-Infinity when empty). */
  get max(): number {
    return this.size > 0 ? this.val[this.head]! : -Infinity;
  }

  /** s / (s + M) against the current peak M (0.5 before any value; 0 when both are 0), then adds s. */
  update(s: number): number {
    if (!Number.isFinite(s) || s < 0) throw new VigilError('E_VALUE', `rolling max: score ${s} must be a finite number >= 0`, { value: String(s) });
    const m = this.max;
    const normalised = this.size === 0 ? 0.5 : s + m > 0 ? s / (s + m) : 0;
    this.push(s);
    return normalised;
  }

  private push(s: number): void {
    const cap = this.window;
    // Drop the front when it leaves the window, and smaller values from the back.
    if (this.size > 0 && this.idx[this.head]! <= this.seen - cap) {
      this.head = (this.head + 1) % cap;
      this.size--;
    }
    while (this.size > 0 && this.val[(this.head + this.size - 1) % cap]! <= s) this.size--;
    const at = (this.head + this.size) % cap;
    this.idx[at] = this.seen;
    this.val[at] = s;
    this.size++;
    this.seen++;
  }

  /** The deque as [index offset from now, value] pairs, oldest first, for saving. */
  toJSON(): { seen: number; entries: [number, number][] } {
    const entries: [number, number][] = [];
    for (let i = 0; i < this.size; i++) {
      const k = (this.head + i) % this.window;
      entries.push([this.seen - this.idx[k]!, this.val[k]!]);
    }
    return { seen: this.seen, entries };
  }

  load(state: { seen: number; entries: [number, number][] }): void {
    this.head = 0;
    this.size = 0;
    this.seen = state.seen;
    for (const [age, v] of state.entries.slice(-this.window)) {
      this.idx[this.size] = this.seen - age;
      this.val[this.size] = v;
      this.size++;
    }
  }
}
