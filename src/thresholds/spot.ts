/**
 * SPOT and DSPOT streaming thresholds (Siffer, Fouque, Termier, Largouet, "Anomaly Detection in
 * Streams with Extreme Value Theory", KDD 2017), for upper-tail anomalies.
 *
 * Peaks-over-threshold: the initial threshold t is the `level`-quantile (default 0.98) of the
 * calibration data (numpy-linear interpolation; the reference code takes the order statistic
 * sorted[floor(level n)], which differs by less than one sample gap). The excesses Y = X - t of
 * the N_t calibration values strictly above t are fitted with a Generalised Pareto Distribution
 *     P(Y > y) = (1 + gamma y / sigma)^(-1/gamma)    (exp(-y / sigma) when gamma = 0)
 * by maximum likelihood with Grimshaw's trick: the ML estimate satisfies x* = gamma/sigma with
 * w(x) = u(x) v(x) - 1 = 0, where u(x) = 1 + mean(log(1 + x Y_i)), v(x) = mean(1/(1 + x Y_i)),
 * and then gamma = u(x*) - 1, sigma = gamma / x*. Roots are searched on (-1/Y_max, 0) and on
 * (0, 2 (mean - Y_min) / Y_min^2] (Grimshaw's bounds) by a grid scan for sign changes refined by
 * the Illinois (regula falsi) method; every root, and the exponential solution gamma = 0, sigma = mean(Y), is a candidate
 * and the one with the highest log-likelihood wins. If that fails numerically (non-finite
 * parameters) the method of moments is used: gamma = (1 - m^2/s^2)/2, sigma = m (1 + m^2/s^2)/2
 * (m, s^2 the sample mean and unbiased variance of Y).
 *
 * The alarm threshold for risk q after n observations is
 *     z_q = t + sigma/gamma ((q n / N_t)^(-gamma) - 1)      (gamma != 0)
 *     z_q = t - sigma ln(q n / N_t)                          (gamma = 0)
 * Streaming (Algorithm 1 of the paper): a value x > z_q raises an alarm and is not learnt from
 * (n is not incremented); t < x <= z_q adds the peak x - t, increments n and N_t and refits; any
 * other value increments n. (Option `learnFromAlarms` also learns from alarms; see SpotOptions.)
 * Refits during streaming refine the previous root of w locally and rescan both intervals every
 * 32 refits (and whenever the local search fails or N_t < 256); the paper rescans every time.
 *
 * DSPOT (Algorithm 2): with depth d > 0, SPOT runs on the residuals x_i - M_i where M_i is the
 * mean of the last d values that raised no alarm. Calibration uses its first d values to start the
 * window and the remaining ones as residuals. Thresholds reported by `step`/`threshold` are in the
 * data's own units (z_q + M_i).
 *
 * The reference implementation's log-likelihood for gamma = 0 has a sign error
 * (n (1 + log mean) instead of -n (1 + log mean)); this code uses the correct value.
 */
import { VigilError } from '../core/errors.js';
import { checkInteger, checkRange, checkScores } from '../metrics/internal.js';
import { quantileThreshold } from './quantile.js';

export interface GpdFit {
  /** Shape (extreme value index). */
  gamma: number;
  /** Scale (> 0). */
  sigma: number;
  logLikelihood: number;
  /** Which estimate was kept: an ML root of Grimshaw's equation, the exponential (gamma = 0) ML solution, or the method of moments. */
  method: 'grimshaw' | 'exponential' | 'moments';
}

export type GpdMethod = 'grimshaw' | 'moments';

const GAMMA_ZERO = 1e-12;

/** Log-likelihood of excesses under GPD(gamma, sigma); -Infinity outside the support. */
export function gpdLogLikelihood(excesses: ArrayLike<number>, gamma: number, sigma: number): number {
  const n = excesses.length;
  if (!(sigma > 0) || !Number.isFinite(gamma)) return -Infinity;
  if (Math.abs(gamma) < GAMMA_ZERO) {
    let s = 0;
    for (let i = 0; i < n; i++) s += excesses[i]!;
    return -n * Math.log(sigma) - s / sigma;
  }
  const tau = gamma / sigma;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const z = tau * excesses[i]!;
    if (!(z > -1)) return -Infinity;
    s += Math.log1p(z);
  }
  return -n * Math.log(sigma) - (1 + 1 / gamma) * s;
}

function stats(y: ArrayLike<number>): { n: number; mean: number; min: number; max: number; variance: number } {
  const n = y.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (y[i]! - mean) ** 2;
  return { n, mean, min, max, variance: n > 1 ? ss / (n - 1) : 0 };
}

/** Method-of-moments GPD estimate; null when it is undefined (fewer than 2 excesses, zero variance). */
export function fitGpdMoments(excesses: ArrayLike<number>): GpdFit | null {
  const { n, mean, variance } = stats(excesses);
  if (n < 2 || !(variance > 0) || !(mean > 0)) return null;
  const r = (mean * mean) / variance;
  const gamma = 0.5 * (1 - r);
  const sigma = 0.5 * mean * (1 + r);
  return { gamma, sigma, logLikelihood: gpdLogLikelihood(excesses, gamma, sigma), method: 'moments' };
}

/** Grimshaw's w(x) = u(x) v(x) - 1, computed as a + b + a b from small terms to avoid cancellation. */
function grimshawW(y: ArrayLike<number>, x: number): number {
  const n = y.length;
  let su = 0;
  let sv = 0;
  for (let i = 0; i < n; i++) {
    const xy = x * y[i]!;
    su += Math.log1p(xy);
    sv += xy / (1 + xy);
  }
  const a = su / n; // u - 1
  const b = -sv / n; // v - 1
  return a + b + a * b;
}

/**
 * Root of w in the bracket [a, b] (w(a), w(b) of opposite signs) by the Illinois variant of
 * regula falsi (superlinear, never leaves the bracket).
 */
function illinois(y: ArrayLike<number>, a: number, b: number, fa: number, fb: number): number {
  for (let it = 0; it < 100; it++) {
    let c = (a * fb - b * fa) / (fb - fa);
    if (!(c > Math.min(a, b) && c < Math.max(a, b))) c = 0.5 * (a + b);
    const fc = grimshawW(y, c);
    if (fc === 0 || !Number.isFinite(fc)) return c;
    if (fc < 0 !== fb < 0) {
      a = b;
      fa = fb;
    } else fa /= 2;
    b = c;
    fb = fc;
    if (Math.abs(b - a) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b))) return b;
  }
  return b;
}

/** Roots of w on the increasing grid xs (sign changes between consecutive points). */
function rootsOnGrid(y: ArrayLike<number>, xs: number[]): number[] {
  const roots: number[] = [];
  let prevX = xs[0]!;
  let prevW = grimshawW(y, prevX);
  for (let k = 1; k < xs.length; k++) {
    const x = xs[k]!;
    const w = grimshawW(y, x);
    if (Number.isFinite(prevW) && Number.isFinite(w)) {
      if (w === 0) roots.push(x);
      else if (prevW !== 0 && prevW < 0 !== w < 0) roots.push(illinois(y, prevX, x, prevW, w));
    }
    prevX = x;
    prevW = w;
  }
  return roots;
}

/** Grimshaw's search interval for the positive root: (0, 2 (mean - min) / min^2]. */
function rightBound(mean: number, min: number): number {
  return (2 * (mean - min)) / (min * min);
}

/** The GPD candidate of a root x of w: gamma = u(x) - 1, sigma = gamma / x; null if invalid. */
function candidateAt(y: ArrayLike<number>, x: number): GpdFit | null {
  const n = y.length;
  let su = 0;
  for (let i = 0; i < n; i++) su += Math.log1p(x * y[i]!);
  const gamma = su / n;
  const sigma = gamma / x;
  if (!(sigma > 0) || !Number.isFinite(gamma)) return null;
  return { gamma, sigma, logLikelihood: gpdLogLikelihood(y, gamma, sigma), method: 'grimshaw' };
}

interface GrimshawResult {
  fit: GpdFit;
  /** The root (x = gamma / sigma) of the best non-trivial candidate, even if the exponential won. */
  root: number | null;
}

/** ML fit by Grimshaw's trick; the fit may be non-finite for pathological data. */
function fitGrimshaw(y: ArrayLike<number>): GrimshawResult {
  const { n, mean, min, max } = stats(y);
  let best: GpdFit = { gamma: 0, sigma: mean, logLikelihood: -n * (1 + Math.log(mean)), method: 'exponential' };
  if (n < 2 || max === min) return { fit: best, root: null };
  const roots: number[] = [];
  // Left interval (-1/Y_max, 0): x = -t / Y_max with t on a logistic grid in (0, 1).
  const left: number[] = [];
  const G = 24;
  for (let k = G; k >= -G; k--) left.push(-1 / (1 + Math.exp((-16 * k) / G)) / max);
  roots.push(...rootsOnGrid(y, left));
  // Right interval (0, 2 (mean - min) / min^2]: log-spaced in x * mean from 1e-5 up.
  const upper = rightBound(mean, min);
  const lo = 1e-5 / mean;
  if (!Number.isFinite(upper)) return { fit: { gamma: NaN, sigma: NaN, logLikelihood: NaN, method: 'grimshaw' }, root: null };
  if (upper > lo) {
    const right: number[] = [];
    const steps = 48;
    const ratio = Math.log(upper / lo);
    for (let k = 0; k <= steps; k++) right.push(lo * Math.exp((ratio * k) / steps));
    roots.push(...rootsOnGrid(y, right));
  }
  let bestRoot: number | null = null;
  let bestRootLl = -Infinity;
  for (const x of roots) {
    const c = candidateAt(y, x);
    if (!c) continue;
    if (c.logLikelihood > bestRootLl) {
      bestRootLl = c.logLikelihood;
      bestRoot = x;
    }
    if (c.logLikelihood > best.logLikelihood) best = c;
  }
  return { fit: best, root: bestRoot };
}

/**
 * Refines a previously found root x0 after the sample changed a little: brackets a sign change of
 * w near x0 (inside Grimshaw's interval) and converges with Illinois. Null when none is found.
 */
function localRoot(y: ArrayLike<number>, x0: number, lo: number, hi: number): number | null {
  const f0 = grimshawW(y, x0);
  if (!Number.isFinite(f0)) return null;
  if (f0 === 0) return x0;
  // Relative steps below 1 keep the bracket on x0's side of 0 (the trivial root).
  for (let k = 0; k < 4; k++) {
    const d = 0.01 * 4 ** k;
    const a = Math.max(x0 - Math.abs(x0) * d, lo + (hi - lo) * 1e-12);
    const b = Math.min(x0 + Math.abs(x0) * d, hi);
    const fa = grimshawW(y, a);
    const fb = grimshawW(y, b);
    if (Number.isFinite(fa) && fa !== 0 && fa < 0 !== f0 < 0) return illinois(y, a, x0, fa, f0);
    if (Number.isFinite(fb) && fb !== 0 && fb < 0 !== f0 < 0) return illinois(y, x0, b, f0, fb);
    if (fa === 0) return a;
    if (fb === 0) return b;
  }
  return null;
}

/**
 * Fits a GPD to positive excesses. 'grimshaw' (default): maximum likelihood by Grimshaw's trick,
 * falling back to the method of moments if the result is not finite, and to the exponential fit
 * if the moments are undefined. 'moments': method of moments (exponential fit when undefined).
 */
export function fitGpd(excesses: ArrayLike<number>, options: { method?: GpdMethod } = {}): GpdFit {
  checkScores(excesses, 'excesses');
  for (let i = 0; i < excesses.length; i++) {
    if (!(excesses[i]! > 0)) {
      throw new VigilError('E_VALUE', `excesses: element ${i} is ${excesses[i]}, expected a positive excess over the threshold`, {
        field: 'excesses',
        index: i,
      });
    }
  }
  const method = options.method ?? 'grimshaw';
  if (method !== 'grimshaw' && method !== 'moments') {
    throw new VigilError('E_CONFIG', `method: is ${String(method)}, expected 'grimshaw' or 'moments'`, { field: 'method' });
  }
  const { n, mean } = stats(excesses);
  const exponential: GpdFit = { gamma: 0, sigma: mean, logLikelihood: -n * (1 + Math.log(mean)), method: 'exponential' };
  if (method === 'moments') return fitGpdMoments(excesses) ?? exponential;
  const ml = fitGrimshaw(excesses).fit;
  if (Number.isFinite(ml.gamma) && Number.isFinite(ml.sigma) && ml.sigma > 0) return ml;
  return fitGpdMoments(excesses) ?? exponential;
}

/**
 * z_q = t + sigma/gamma ((q n / N_t)^(-gamma) - 1), or t - sigma ln(q n / N_t) when gamma = 0:
 * the value exceeded with probability q, given that a fraction N_t / n of the data exceeds t.
 */
export function gpdQuantileThreshold(t: number, gamma: number, sigma: number, q: number, n: number, peaks: number): number {
  const r = (q * n) / peaks;
  if (Math.abs(gamma) < GAMMA_ZERO) return t - sigma * Math.log(r);
  return t + (sigma / gamma) * (Math.pow(r, -gamma) - 1);
}

export interface SpotOptions {
  /** Risk: the probability of a normal value exceeding the alarm threshold (default 1e-4). */
  q?: number;
  /** Quantile level of the initial threshold t (default 0.98). */
  level?: number;
  /** DSPOT moving-average depth d; 0 (default) runs plain SPOT. */
  depth?: number;
  /** GPD estimator (default 'grimshaw'). */
  method?: GpdMethod;
  /**
   * Also learn from values that raise an alarm (add x - t as a peak and count the observation),
   * as the reference code's `run(with_alarm=False)` learns, while still reporting the alarm.
   * Default false, as in the paper's
   * Algorithm 1, which never learns from alarms. Because the peaks above z_q are then censored,
   * the paper's rule lets z_q drift down on stationary data (the GPD is fitted to a tail that
   * stops at z_q); at q = 1e-3 and level 0.98 the alarm rate on stationary exponential data settles near 2q. Set this
   * when alarms are expected to be mostly false (monitoring normal data): the estimate is then
   * the plain peaks-over-threshold one and the alarm rate stays near q.
   */
  learnFromAlarms?: boolean;
}

export interface SpotStep {
  /** The alarm threshold x was compared with (data units). */
  threshold: number;
  /** x > threshold. */
  alarm: boolean;
}

/** Streaming SPOT (depth 0) / DSPOT (depth > 0) detector; see the module comment. */
export class SpotDetector {
  readonly q: number;
  readonly level: number;
  readonly depth: number;
  readonly method: GpdMethod;
  readonly learnFromAlarms: boolean;

  private t = NaN;
  private z = NaN;
  private n = 0;
  private nt = 0;
  private peakBuf = new Float64Array(0);
  private peakSum = 0;
  private peakMin = Infinity;
  private peakMax = -Infinity;
  private fit_: GpdFit | null = null;
  // Streaming refits: the tracked root of Grimshaw's equation and refits since the last full scan.
  private warmRoot: number | null = null;
  private sinceScan = 0;
  // DSPOT moving window of the last `depth` non-alarm values.
  private win = new Float64Array(0);
  private winPos = 0;
  private winSum = 0;
  private sinceResum = 0;

  constructor(options: SpotOptions = {}) {
    this.q = options.q ?? 1e-4;
    this.level = options.level ?? 0.98;
    this.depth = options.depth ?? 0;
    this.method = options.method ?? 'grimshaw';
    this.learnFromAlarms = options.learnFromAlarms ?? false;
    checkRange(this.q, 'q', 0, 1, { loOpen: true, hiOpen: true });
    checkRange(this.level, 'level', 0, 1, { loOpen: true, hiOpen: true });
    checkInteger(this.depth, 'depth', 0);
    if (this.method !== 'grimshaw' && this.method !== 'moments') {
      throw new VigilError('E_CONFIG', `method: is ${String(this.method)}, expected 'grimshaw' or 'moments'`, { field: 'method' });
    }
  }

  /** Calibrates on `calibration` (normal data): sets t, fits the GPD and computes z_q. */
  fit(calibration: ArrayLike<number>): this {
    checkScores(calibration, 'calibration');
    const d = this.depth;
    let base: ArrayLike<number> = calibration;
    if (d > 0) {
      if (calibration.length <= d) {
        throw new VigilError('E_VALUE', `calibration: has ${calibration.length} values, DSPOT with depth ${d} needs more than ${d}`, {
          field: 'calibration',
        });
      }
      this.win = Float64Array.from({ length: d }, (_, i) => calibration[i]!);
      this.winPos = 0;
      this.winSum = this.win.reduce((a, b) => a + b, 0);
      this.sinceResum = 0;
      const residuals = new Float64Array(calibration.length - d);
      for (let i = d; i < calibration.length; i++) {
        residuals[i - d] = calibration[i]! - this.winSum / d;
        this.push(calibration[i]!);
      }
      base = residuals;
    }
    const t = quantileThreshold(base, this.level);
    let nt = 0;
    for (let i = 0; i < base.length; i++) if (base[i]! > t) nt++;
    if (nt === 0) {
      throw new VigilError('E_VALUE', `calibration: no value exceeds the initial threshold t = ${t} (level ${this.level}); SPOT needs more, or more varied, calibration data`, {
        field: 'calibration',
      });
    }
    if ((this.q * base.length) / nt >= 1) {
      throw new VigilError('E_CONFIG', `q: risk ${this.q} is not below the calibration's peak fraction ${nt}/${base.length}; use a smaller q or a lower level`, {
        field: 'q',
      });
    }
    this.peakBuf = new Float64Array(Math.max(16, nt * 2));
    this.nt = 0;
    this.peakSum = 0;
    this.peakMin = Infinity;
    this.peakMax = -Infinity;
    for (let i = 0; i < base.length; i++) if (base[i]! > t) this.addPeak(base[i]! - t);
    this.t = t;
    this.n = base.length;
    this.fullRefit();
    return this;
  }

  private addPeak(y: number): void {
    if (this.nt === this.peakBuf.length) {
      const grown = new Float64Array(this.peakBuf.length * 2);
      grown.set(this.peakBuf);
      this.peakBuf = grown;
    }
    this.peakBuf[this.nt++] = y;
    this.peakSum += y;
    if (y < this.peakMin) this.peakMin = y;
    if (y > this.peakMax) this.peakMax = y;
  }

  private setFit(fit: GpdFit): void {
    this.fit_ = fit;
    this.z = gpdQuantileThreshold(this.t, fit.gamma, fit.sigma, this.q, this.n, this.nt);
  }

  /** Full estimate (every root of Grimshaw's equation searched). */
  private fullRefit(): void {
    const y = this.peakBuf.subarray(0, this.nt);
    this.sinceScan = 0;
    if (this.method === 'grimshaw') {
      const g = fitGrimshaw(y);
      this.warmRoot = g.root;
      if (Number.isFinite(g.fit.gamma) && Number.isFinite(g.fit.sigma) && g.fit.sigma > 0) {
        this.setFit(g.fit);
        return;
      }
    }
    this.setFit(fitGpd(y, { method: this.method }));
  }

  /**
   * Refit after one new peak. Small samples, the method of moments and every 32nd refit use the
   * full estimate; otherwise the previously best root is refined locally (a few O(N_t) passes
   * instead of a scan of both intervals) and compared with the exponential solution.
   */
  private refit(): void {
    if (this.method !== 'grimshaw' || this.nt < 256 || ++this.sinceScan >= 32) {
      this.fullRefit();
      return;
    }
    const y = this.peakBuf.subarray(0, this.nt);
    const mean = this.peakSum / this.nt;
    let best: GpdFit = { gamma: 0, sigma: mean, logLikelihood: -this.nt * (1 + Math.log(mean)), method: 'exponential' };
    if (this.warmRoot !== null) {
      const x0 = this.warmRoot;
      const root = x0 < 0 ? localRoot(y, x0, -1 / this.peakMax, 0) : localRoot(y, x0, 0, rightBound(mean, this.peakMin));
      const c = root === null ? null : candidateAt(y, root);
      if (c === null) {
        this.fullRefit();
        return;
      }
      this.warmRoot = root;
      if (c.logLikelihood > best.logLikelihood) best = c;
    }
    this.setFit(best);
  }

  private push(x: number): void {
    const d = this.depth;
    this.winSum += x - this.win[this.winPos]!;
    this.win[this.winPos] = x;
    this.winPos = (this.winPos + 1) % d;
    if (++this.sinceResum >= 64 * d) {
      this.winSum = this.win.reduce((a, b) => a + b, 0);
      this.sinceResum = 0;
    }
  }

  private requireFitted(): void {
    if (this.fit_ === null) throw new VigilError('E_NOT_FITTED', 'SpotDetector: call fit(calibration) before using it');
  }

  private get level0(): number {
    return this.depth > 0 ? this.winSum / this.depth : 0;
  }

  /** Processes one value of the stream. */
  step(x: number): SpotStep {
    this.requireFitted();
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new VigilError('E_VALUE', `x: is ${String(x)}, expected a finite number`, { field: 'x', value: String(x) });
    }
    const m = this.level0;
    const r = x - m;
    const threshold = this.z + m;
    const alarm = r > this.z;
    if (alarm && !this.learnFromAlarms) return { threshold, alarm };
    if (r > this.t) {
      this.addPeak(r - this.t);
      this.n++;
      this.refit();
    } else this.n++;
    if (this.depth > 0) this.push(x);
    return { threshold, alarm };
  }

  /** Runs `step` over a stream; returns the threshold each value was compared with and the alarm indices. */
  run(stream: ArrayLike<number>): { thresholds: Float64Array; alarms: number[] } {
    this.requireFitted();
    checkScores(stream, 'stream');
    const thresholds = new Float64Array(stream.length);
    const alarms: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      const s = this.step(stream[i]!);
      thresholds[i] = s.threshold;
      if (s.alarm) alarms.push(i);
    }
    return { thresholds, alarms };
  }

  /** The current alarm threshold in data units (z_q, plus the moving average for DSPOT). */
  get threshold(): number {
    this.requireFitted();
    return this.z + this.level0;
  }

  /** The initial (peaks-over) threshold t, in residual units for DSPOT. */
  get initialThreshold(): number {
    this.requireFitted();
    return this.t;
  }

  /** The current GPD fit of the peaks. */
  get gpd(): GpdFit {
    this.requireFitted();
    return { ...this.fit_! };
  }

  /** Number of peaks N_t and of observations n used in z_q. */
  get peakCount(): number {
    return this.nt;
  }

  get observations(): number {
    return this.n;
  }

  get fitted(): boolean {
    return this.fit_ !== null;
  }
}
