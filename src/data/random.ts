/**
 * A small seeded pseudo-random generator, so that every split, shuffle and synthetic data set is
 * reproducible from one integer. The state is a 32-bit counter advanced by a Weyl step and mixed with
 * mulberry32's output function; seeds (numbers or strings) are first scrambled with a splitmix-style
 * hash so that nearby seeds (1, 2, 3 …) give unrelated streams.
 */
import { VigilError } from '../core/errors.js';

export interface Rng {
  /** The seed this generator was created from (after validation), for reports. */
  readonly seed: number;
  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number;
  /** Uniform integer in [0, n); `n` a positive integer ≤ 2^32. */
  int(n: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Normal deviate (Box–Muller), mean 0 and standard deviation 1 unless given. */
  normal(mean?: number, std?: number): number;
  /** True with probability `p`. */
  bool(p?: number): boolean;
  /** Fisher–Yates shuffle **in place**; returns the same array. */
  shuffle<T>(array: T[]): T[];
  /** One element chosen uniformly; E_EMPTY on an empty array. */
  pick<T>(array: readonly T[]): T;
  /** An independent generator derived from this one's stream (for per-item streams). */
  fork(): Rng;
}

/** 32-bit hash of an integer (the finaliser of MurmurHash3 / splitmix32). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function seedToState(seed: number | string): { seed: number; state: number } {
  if (typeof seed === 'string') {
    // FNV-1a over UTF-16 code units, then mixed.
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
    const s = h >>> 0;
    return { seed: s, state: mix32(s ^ 0x9e3779b9) };
  }
  if (!Number.isSafeInteger(seed)) {
    throw new VigilError('E_VALUE', `seed: ${seed} is not an integer (expected a safe integer or a string)`, { field: 'seed', value: String(seed) });
  }
  // Fold the high bits in so that seeds beyond 2^32 still differ.
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x100000000) >>> 0;
  return { seed, state: mix32(lo ^ mix32(hi + 0x9e3779b9)) };
}

class Mulberry32 implements Rng {
  readonly seed: number;
  private state: number;
  private spare: number | null = null;

  constructor(seed: number, state: number) {
    this.seed = seed;
    this.state = state >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new VigilError('E_VALUE', `rng.int: n = ${n}, expected an integer in [1, 2^32]`, { field: 'n', value: n });
    }
    return Math.floor(this.next() * n);
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = array[i]!;
      array[i] = array[j]!;
      array[j] = tmp;
    }
    return array;
  }

  pick<T>(array: readonly T[]): T {
    if (array.length === 0) throw new VigilError('E_EMPTY', 'rng.pick: the array is empty');
    return array[Math.floor(this.next() * array.length)]!;
  }

  fork(): Rng {
    const s = Math.floor(this.next() * 4294967296);
    return new Mulberry32(s, mix32(s ^ 0x632be5ab));
  }
}

/** A generator for `seed` (a safe integer or any string); the same seed always gives the same stream. */
export function createRng(seed: number | string): Rng {
  const { seed: s, state } = seedToState(seed);
  return new Mulberry32(s, state);
}
