/**
 * Online score normalisation by anomaly likelihood, as Numenta's HTM detector does on NAB
 * (Ahmad, Lavin, Purdy, Agha, "Unsupervised real-time anomaly detection for streaming data",
 * Neurocomputing 2017): the mean of the last `shortWindow` raw scores is compared with the normal
 * distribution of such means over the last `longWindow` points,
 *
 *     likelihood = Φ((m_short - μ_long) / σ_long)         (one-sided: low scores are not anomalous)
 *
 * and reported on NAB's log scale, log(1.0000000001 - L) / log(1e-10), which spreads the
 * interesting range (L > 0.999) over [0, 1]. The distribution is re-estimated every
 * `reestimateEvery` points; σ is floored at `minStdRatio` x |μ| and at `minStd` so that a flat stretch
 * does not turn the next tiny wiggle into certainty. Memory is fixed: two ring buffers.
 */
import { VigilError } from '../core/errors.js';

export interface LikelihoodOptions {
  /** Raw scores averaged into the short-term mean (default 10). */
  shortWindow?: number;
  /** Short-term means the distribution is estimated on (default 8640: 30 days of 5-minute data). */
  longWindow?: number;
  /** Points seen before the first estimate; the likelihood is 0.5 until then (default 100). */
  learningPeriod?: number;
  /** Re-estimate μ and σ every this many points (default 100). */
  reestimateEvery?: number;
  /** Floor of σ relative to |μ| (default 0.1). */
  minStdRatio?: number;
  /** Absolute floor of σ (default 1e-12). */
  minStd?: number;
}

export interface LikelihoodState {
  short: number[];
  long: number[];
  seen: number;
  mean: number;
  std: number;
  sinceEstimate: number;
}

/** Standard normal upper tail Q(z) = P(Z > z), relative error < 1.2e-7 (Numerical Recipes' erfcc). */
export function normalTail(z: number): number {
  const x = z / Math.SQRT2;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.5 * a);
  const erfc =
    t *
    Math.exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** NAB's log scale of a likelihood: log(1.0000000001 - L) / log(1e-10), in [0, 1]. */
export function logLikelihood(likelihood: number): number {
  return Math.min(1, Math.max(0, Math.log(1.0000000001 - likelihood) / -23.02585084720009));
}

/** Fixed-size ring of numbers with a running sum. */
class NumberRing {
  readonly data: Float64Array;
  private head = 0;
  count = 0;
  sum = 0;

  constructor(readonly capacity: number) {
    this.data = new Float64Array(capacity);
  }

  push(v: number): void {
    if (this.count === this.capacity) this.sum -= this.data[this.head]!;
    else this.count++;
    this.data[this.head] = v;
    this.sum += v;
    this.head = (this.head + 1) % this.capacity;
  }

  /** Values oldest first. */
  values(): number[] {
    const out: number[] = [];
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) out.push(this.data[(start + i) % this.capacity]!);
    return out;
  }

  load(values: readonly number[]): void {
    this.head = 0;
    this.count = 0;
    this.sum = 0;
    for (const v of values.slice(-this.capacity)) this.push(v);
  }

  /** Recomputed sum (removes floating drift of the running one). */
  exactSum(): number {
    let s = 0;
    for (let i = 0; i < this.count; i++) s += this.data[i]!;
    this.sum = s;
    return s;
  }
}

export class AnomalyLikelihood {
  readonly shortWindow: number;
  readonly longWindow: number;
  readonly learningPeriod: number;
  readonly reestimateEvery: number;
  readonly minStdRatio: number;
  readonly minStd: number;
  private readonly short: NumberRing;
  private readonly long: NumberRing;
  private seen = 0;
  private mean = Number.NaN;
  private std = Number.NaN;
  private sinceEstimate = 0;

  constructor(o: LikelihoodOptions = {}) {
    this.shortWindow = o.shortWindow ?? 10;
    this.longWindow = o.longWindow ?? 8640;
    this.learningPeriod = o.learningPeriod ?? 100;
    this.reestimateEvery = o.reestimateEvery ?? 100;
    this.minStdRatio = o.minStdRatio ?? 0.1;
    this.minStd = o.minStd ?? 1e-12;
    for (const [k, v] of Object.entries({ shortWindow: this.shortWindow, longWindow: this.longWindow, reestimateEvery: this.reestimateEvery })) {
      if (!Number.isInteger(v) || v < 1) throw new VigilError('E_CONFIG', `likelihood ${k}: ${v} must be a positive integer`, { field: k });
    }
    if (!Number.isInteger(this.learningPeriod) || this.learningPeriod < 2) throw new VigilError('E_CONFIG', `likelihood learningPeriod: ${this.learningPeriod} must be an integer >= 2`, { field: 'learningPeriod' });
    if (!(this.minStdRatio >= 0)) throw new VigilError('E_CONFIG', `likelihood minStdRatio: ${this.minStdRatio} must be >= 0`, { field: 'minStdRatio' });
    if (!(this.minStd > 0)) throw new VigilError('E_CONFIG', `likelihood minStd: ${this.minStd} must be > 0`, { field: 'minStd' });
    this.short = new NumberRing(this.shortWindow);
    this.long = new NumberRing(this.longWindow);
  }

  /** Numbers held (fixed): for memory checks. */
  get allocated(): number {
    return this.short.capacity + this.long.capacity;
  }

  get ready(): boolean {
    return Number.isFinite(this.mean);
  }

  private estimate(): void {
    const n = this.long.count;
    const mean = this.long.exactSum() / n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (this.long.data[i]! - mean) ** 2;
    const std = Math.sqrt(sq / Math.max(1, n - 1));
    this.mean = mean;
    this.std = Math.max(std, this.minStdRatio * Math.abs(mean), this.minStd);
    this.sinceEstimate = 0;
  }

  /** Feeds one raw score; returns the likelihood (0.5 while learning) of the current short-term mean. */
  update(raw: number): number {
    if (!Number.isFinite(raw)) throw new VigilError('E_VALUE', `likelihood: score ${raw} is not a finite number`, { value: String(raw) });
    this.short.push(raw);
    const m = this.short.sum / this.short.count;
    this.seen++;
    const likelihood = this.ready ? 1 - normalTail((m - this.mean) / this.std) : 0.5;
    this.long.push(m);
    if ((!this.ready && this.seen >= this.learningPeriod) || (this.ready && ++this.sinceEstimate >= this.reestimateEvery)) this.estimate();
    return likelihood;
  }

  /** The current distribution of short-term means (NaN before the first estimate). */
  get distribution(): { mean: number; std: number } {
    return { mean: this.mean, std: this.std };
  }

  state(): LikelihoodState {
    return { short: this.short.values(), long: this.long.values(), seen: this.seen, mean: this.mean, std: this.std, sinceEstimate: this.sinceEstimate };
  }

  restore(s: LikelihoodState): void {
    this.short.load(s.short);
    this.long.load(s.long);
    this.seen = s.seen;
    this.mean = s.mean ?? Number.NaN;
    this.std = s.std ?? Number.NaN;
    this.sinceEstimate = s.sinceEstimate;
  }
}
