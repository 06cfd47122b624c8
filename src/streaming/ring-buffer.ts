/**
 * Fixed-capacity ring buffer of multichannel points (capacity x C), the constant-memory state of a
 * stream: pushing never allocates, the oldest point is overwritten once full.
 */
import { VigilError } from '../core/errors.js';

export class RingBuffer {
  /** Storage (capacity, C), row-major; allocated once. */
  private readonly data: Float32Array;
  private head = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    readonly channels: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new VigilError('E_CONFIG', `ring buffer capacity ${capacity} must be a positive integer`);
    if (!Number.isInteger(channels) || channels < 1) throw new VigilError('E_CONFIG', `ring buffer channels ${channels} must be a positive integer`);
    this.data = new Float32Array(capacity * channels);
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Floats held (fixed): for memory checks. */
  get allocated(): number {
    return this.data.length;
  }

  /** Appends one point (C values), overwriting the oldest when full. */
  push(values: ArrayLike<number>): void {
    this.data.set(values as ArrayLike<number>, this.head * this.channels);
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The last `n` points (default all held), oldest first, into `out` (n, C) (allocated if absent). */
  latest(n = this.count, out?: Float32Array): Float32Array {
    if (n > this.count) throw new VigilError('E_SHAPE', `ring buffer holds ${this.count} point(s), ${n} requested`);
    const C = this.channels;
    const dst = out ?? new Float32Array(n * C);
    const start = (this.head - n + this.capacity) % this.capacity;
    const first = Math.min(n, this.capacity - start);
    dst.set(this.data.subarray(start * C, (start + first) * C), 0);
    if (first < n) dst.set(this.data.subarray(0, (n - first) * C), first * C);
    return dst;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  /** The held points oldest first, for saving. */
  toJSON(): { capacity: number; channels: number; values: number[] } {
    return { capacity: this.capacity, channels: this.channels, values: Array.from(this.latest()) };
  }

  /** Refills from {@link toJSON} output (keeping at most `capacity` of the newest points). */
  load(values: ArrayLike<number>): void {
    if (values.length % this.channels !== 0) throw new VigilError('E_SHAPE', `ring buffer state: ${values.length} values is not a multiple of ${this.channels} channels`);
    this.clear();
    const n = values.length / this.channels;
    for (let i = Math.max(0, n - this.capacity); i < n; i++) this.push(Array.prototype.slice.call(values, i * this.channels, (i + 1) * this.channels) as number[]);
  }
}
