/**
 * Stateful, constant-memory scoring of one stream, one point at a time, with a sliding-window
 * detector (conv1d-ae / conv1d-vae): what the real-time service calls per stream.
 *
 *   const scorer = new OnlineScorer(detector, { probation: 750 });
 *   const p = await scorer.push(timestamp, [v1, v2]);   // { score, normalized, anomalous, threshold, contributions, … }
 *
 * Per point:
 *  1. The point is checked. A NaN / ±Infinity value, a wrong number of values, or a timestamp that is
 *     not after the previous accepted one never throws mid-stream (with the default `invalid: 'skip'`):
 *     the point is left out of every buffer and returned with `skipped` saying why and `score: null`.
 *     `invalid: 'error'` throws a VigilError (E_VALUE / E_SHAPE) instead.
 *  2. Probation: an untrained detector learns from the first `probation` accepted points (buffered;
 *     the only memory that grows, bounded by `probation`); the push that completes it trains the
 *     model, then seeds the normaliser and threshold with the probation's own streaming scores.
 *  3. Scoring: the last W points (ring buffer) form one window; its reconstruction error over the last
 *     `tail` positions, per channel, gives `contributions` and their mean the raw `score`
 *     (what {@link streamScoresBatch} gives for the same windows, up to float summation order: the
 *     engine's kernels sum in a batch-size-dependent order, relative differences ~1e-7).
 *  4. Normalisation (`normalise`): 'likelihood' (default; HTM-style anomaly likelihood of the
 *     short-window mean under the long-window distribution, on NAB's log scale), 'rank' (fraction of
 *     the last `rankWindow` raw scores below this one), 'peak' (s / (s + the highest of the last
 *     `peakWindow` raw scores): above 0.5 = a new peak), or 'none' (the model's own normalisation).
 *  5. Alarm (`threshold`): normalized >= value (default), raw >= the model's threshold ('model'), or
 *     SPOT / DSPOT on the raw scores ('spot', 'dspot'; calibrated on the probation scores or on the
 *     first `calibration` scores, re-calibrated on the recent scores when its peak set has doubled, so
 *     memory stays bounded). After an alarm, `cooldown` points raise no new alarm (`suppressed`).
 *     Optionally (`rangeTolerance`), a value outside the range seen so far is an alarm by itself.
 *  6. Retraining (optional `retrain: { every, history }`): every `every` scored points the model is
 *     retrained on the last `history` points, leaving out the windows around points that raised an
 *     alarm, and the normaliser is re-seeded with the new model's scores of that history. The push
 *     that triggers it awaits the training.
 *
 * Memory after probation is fixed: the window ring (W x C), the optional history ring, the
 * normaliser's rings and the recent-score ring; see {@link OnlineScorer.memory}.
 * `state()` / `restore()` save and resume a stream (JSON); `prime()` seeds a scorer whose detector is
 * already trained with past points in one batch (resuming from stored history, sharing a model).
 */
import { VigilError } from '../core/errors.js';
import type { FitOptions, Series } from '../core/types.js';
import { quantileThreshold, SpotDetector } from '../thresholds/index.js';
import { tailError } from './batch.js';
import { AnomalyLikelihood, logLikelihood, type LikelihoodOptions, type LikelihoodState } from './likelihood.js';
import { RingBuffer } from './ring-buffer.js';
import { RollingMax } from './rolling-max.js';
import { RollingRank } from './rolling-quantile.js';
import type { WindowErrorEngine } from './window-engine.js';
import type { WindowDetector } from './window-model.js';

export type OnlineNormalise = 'likelihood' | 'rank' | 'peak' | 'none';

export type OnlineThreshold =
  | { method: 'normalized'; value: number }
  | { method: 'model' }
  | { method: 'spot' | 'dspot'; risk?: number; depth?: number; level?: number };

export interface OnlineScorerOptions {
  /** Points to learn from when the detector is untrained (default 0: it must be trained). */
  probation?: number;
  /** Newest window positions averaged into a point's score (1 = the newest point only; default 1). */
  tail?: number;
  normalise?: OnlineNormalise;
  likelihood?: LikelihoodOptions;
  /** Scores the 'rank' normaliser ranks against (default 2000). */
  rankWindow?: number;
  /** Scores whose maximum the 'peak' normaliser compares with (default 8640). */
  peakWindow?: number;
  /** Default: normalized >= 0.5 for 'likelihood' (L >= 1 - 1e-5), 'peak' (a new peak) and 'none'; 0.999 for 'rank'. */
  threshold?: OnlineThreshold;
  /** Points after an alarm that raise no new alarm (default 0). */
  cooldown?: number;
  /**
   * HTM's "spatial anomaly" rule (NAB's numenta detector): a value outside the range of every value
   * accepted so far, widened by this fraction of the range on each side, gets `normalized` 1 and
   * raises an alarm (subject to the cooldown). Off (null) by default. Keeps 2 x C numbers.
   */
  rangeTolerance?: number | null;
  /** Periodic retraining on recent points; off by default. */
  retrain?: { every: number; history: number } | null;
  /** Invalid points: 'skip' (default, flagged in the result) or 'error' (throw). */
  invalid?: 'skip' | 'error';
  /** Recent raw scores kept for SPOT re-calibration (default 1000). */
  calibration?: number;
  /** Options for (re)training: seed, validation split. */
  fit?: Pick<FitOptions<Series>, 'seed' | 'validationSplit'>;
}

export type OnlinePhase = 'learning' | 'warming' | 'scoring';

/** What `push` returns for each point. */
export interface OnlinePoint {
  /** Points pushed so far, this one included (skipped ones count too). */
  index: number;
  timestamp: number;
  phase: OnlinePhase;
  /** Raw score (model units), null while learning/warming or when skipped. */
  score: number | null;
  /** Normalised score in [0, 1], null while learning/warming or when skipped. */
  normalized: number | null;
  /** What `anomalous` compared against (normalized units, or raw units for 'model' / SPOT). */
  threshold: number | null;
  anomalous: boolean;
  /** Channels' shares of the point's error, highest first (empty when not scored). */
  contributions: { name: string; contribution: number }[];
  /** Inside the cooldown after an earlier alarm: no alarm can be raised. */
  suppressed: boolean;
  /** The value left the range seen so far (see `rangeTolerance`). */
  outOfRange?: boolean;
  /** Why the point was skipped (non-finite value, wrong length, timestamp not increasing). */
  skipped?: string;
  /** This push trained or retrained the model. */
  trained?: boolean;
}

export interface OnlineScorerState {
  version: 1;
  pushed: number;
  accepted: number;
  scored: number;
  lastTimestamp: number | null;
  cooldownLeft: number;
  sinceRetrain: number;
  range: { min: number[]; max: number[] } | null;
  window: number[];
  history: number[] | null;
  probation: number[] | null;
  recentScores: number[];
  likelihood: LikelihoodState | null;
  rank: number[] | null;
  peak?: { seen: number; entries: [number, number][] } | null;
}

const DEFAULT_RISK = 1e-3;

/** Window values computed per engine call in {@link OnlineScorer.pushBatch} at most (bounds its memory). */
const BATCH_WINDOW_FLOATS = 1 << 20;

export class OnlineScorer {
  readonly channels: number;
  readonly window: number;
  readonly tail: number;
  readonly normalise: OnlineNormalise;
  readonly thresholdSpec: OnlineThreshold;
  readonly cooldown: number;
  readonly rangeTolerance: number | null;
  private readonly rangeMin: Float64Array;
  private readonly rangeMax: Float64Array;
  private readonly invalid: 'skip' | 'error';
  private readonly ring: RingBuffer;
  /** Recent points plus an alarm flag per point (C + 1 channels), for retraining. */
  private readonly history: RingBuffer | null;
  private probationBuf: Float32Array | null;
  private probationCount = 0;
  private readonly probation: number;
  private readonly likelihood: AnomalyLikelihood | null;
  private readonly rank: RollingRank | null;
  private readonly peak: RollingMax | null;
  private readonly recent: RingBuffer;
  private spot: SpotDetector | null = null;
  private spotPeaks0 = 0;
  private staticThreshold: number | null = null;
  private readonly windowBuf: Float32Array;
  private readonly perChannel: Float32Array;
  private readonly historyRow: Float32Array;
  private pushed = 0;
  private accepted = 0;
  private scored = 0;
  private lastTimestamp: number | null = null;
  private cooldownLeft = 0;
  private sinceRetrain = 0;
  private busy = false;

  constructor(
    readonly detector: WindowDetector,
    private readonly opts: OnlineScorerOptions = {},
  ) {
    this.probation = opts.probation ?? 0;
    if (!Number.isInteger(this.probation) || this.probation < 0) throw new VigilError('E_CONFIG', `probation: ${this.probation} must be a non-negative integer`, { field: 'probation' });
    if (!detector.trained && this.probation === 0) {
      throw new VigilError('E_NOT_FITTED', `${detector.kind}: the detector is not trained; give a probation period to learn from the stream's first points`, { field: 'probation' });
    }
    if (detector.columns.length === 0) throw new VigilError('E_CONFIG', `${detector.kind}: the detector has no columns; configure them (columns) or train it first`, { field: 'columns' });
    this.window = detector.window;
    this.channels = detector.columns.length;
    if (this.probation > 0 && !detector.trained && this.probation < 2 * this.window) {
      throw new VigilError('E_CONFIG', `probation: ${this.probation} point(s) is too short to train a window of ${this.window}; give at least ${2 * this.window}`, { field: 'probation' });
    }
    this.tail = opts.tail ?? 1;
    if (!Number.isInteger(this.tail) || this.tail < 1 || this.tail > this.window) throw new VigilError('E_CONFIG', `tail: ${this.tail} must be an integer from 1 to the window (${this.window})`, { field: 'tail' });
    this.normalise = opts.normalise ?? 'likelihood';
    this.thresholdSpec = opts.threshold ?? { method: 'normalized', value: this.normalise === 'rank' ? 0.999 : 0.5 };
    this.cooldown = opts.cooldown ?? 0;
    if (!Number.isInteger(this.cooldown) || this.cooldown < 0) throw new VigilError('E_CONFIG', `cooldown: ${this.cooldown} must be a non-negative integer`, { field: 'cooldown' });
    this.rangeTolerance = opts.rangeTolerance ?? null;
    if (this.rangeTolerance !== null && !(this.rangeTolerance >= 0)) throw new VigilError('E_CONFIG', `rangeTolerance: ${this.rangeTolerance} must be >= 0`, { field: 'rangeTolerance' });
    this.invalid = opts.invalid ?? 'skip';
    if (opts.retrain && (!Number.isInteger(opts.retrain.every) || opts.retrain.every < 1 || !Number.isInteger(opts.retrain.history) || opts.retrain.history < 2 * this.window)) {
      throw new VigilError('E_CONFIG', `retrain: every must be a positive integer and history at least 2 windows (${2 * this.window})`, { field: 'retrain' });
    }
    this.ring = new RingBuffer(this.window, this.channels);
    this.history = opts.retrain ? new RingBuffer(opts.retrain.history, this.channels + 1) : null;
    this.probationBuf = !detector.trained ? new Float32Array(this.probation * this.channels) : null;
    this.likelihood = this.normalise === 'likelihood' ? new AnomalyLikelihood(opts.likelihood) : null;
    this.rank = this.normalise === 'rank' ? new RollingRank(opts.rankWindow ?? 2000) : null;
    this.peak = this.normalise === 'peak' ? new RollingMax(opts.peakWindow ?? 8640) : null;
    this.recent = new RingBuffer(opts.calibration ?? 1000, 1);
    this.windowBuf = new Float32Array(this.window * this.channels);
    this.perChannel = new Float32Array(this.channels);
    this.historyRow = new Float32Array(this.channels + 1);
    this.rangeMin = new Float64Array(this.channels).fill(Infinity);
    this.rangeMax = new Float64Array(this.channels).fill(-Infinity);
  }

  /** Floats/numbers held by the fixed buffers (constant after probation). */
  memory(): { window: number; history: number; probation: number; normaliser: number; recent: number; total: number } {
    const m = {
      window: this.ring.allocated + this.windowBuf.length,
      history: this.history?.allocated ?? 0,
      probation: this.probationBuf?.length ?? 0,
      normaliser: (this.likelihood?.allocated ?? 0) + (this.rank?.allocated ?? 0) + (this.peak?.allocated ?? 0),
      recent: this.recent.allocated,
    };
    return { ...m, total: m.window + m.history + m.probation + m.normaliser + m.recent };
  }

  /** Timestamp of the last accepted point (also after a restore), or null. */
  get lastAccepted(): number | null {
    return this.lastTimestamp;
  }

  get phase(): OnlinePhase {
    if (this.probationBuf) return 'learning';
    if (!this.ring.full || !this.normaliserReady) return 'warming';
    return 'scoring';
  }

  private get normaliserReady(): boolean {
    if (this.likelihood) return this.likelihood.ready;
    if (this.rank) return this.rank.size >= 2;
    if (this.peak) return this.peak.count >= 1;
    return true;
  }

  private result(timestamp: number, extra: Partial<OnlinePoint>): OnlinePoint {
    return { index: this.pushed, timestamp, phase: this.phase, score: null, normalized: null, threshold: null, anomalous: false, suppressed: false, contributions: [], ...extra };
  }

  /** Whether `values` leave the range seen so far (widened by the tolerance); then widens the range. */
  private leavesRange(values: ArrayLike<number>): boolean {
    let out = false;
    for (let c = 0; c < this.channels; c++) {
      const v = values[c]!;
      const lo = this.rangeMin[c]!;
      const hi = this.rangeMax[c]!;
      if (this.rangeTolerance !== null && hi >= lo) {
        const tol = this.rangeTolerance * (hi - lo);
        if (v > hi + tol || v < lo - tol) out = true;
      }
      if (v < lo) this.rangeMin[c] = v;
      if (v > hi) this.rangeMax[c] = v;
    }
    return out;
  }

  /** Why a point is invalid, or null. */
  private check(timestamp: number, values: ArrayLike<number>): { code: 'E_VALUE' | 'E_SHAPE'; why: string } | null {
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return { code: 'E_VALUE', why: `timestamp ${String(timestamp)} is not a finite number` };
    if (this.lastTimestamp !== null && timestamp <= this.lastTimestamp) {
      return { code: 'E_VALUE', why: `timestamp ${timestamp} is ${timestamp === this.lastTimestamp ? 'a duplicate of' : 'earlier than'} the previous point's ${this.lastTimestamp}` };
    }
    if (!values || values.length !== this.channels) return { code: 'E_SHAPE', why: `${values?.length ?? 0} value(s), the model takes ${this.channels} (${this.detector.columns.join(', ')})` };
    for (let c = 0; c < this.channels; c++) {
      const v = values[c];
      if (typeof v !== 'number' || !Number.isFinite(v)) return { code: 'E_VALUE', why: `value of "${this.detector.columns[c]}" is ${String(v)}, not a finite number` };
    }
    return null;
  }

  /**
   * Scores one point. `values` has one number per model column (a bare number for one column).
   * Points must come one at a time: a push while another is still running (e.g. training) throws.
   */
  async push(timestamp: number, values: ArrayLike<number> | number): Promise<OnlinePoint> {
    if (this.busy) throw new VigilError('E_UNSUPPORTED', 'OnlineScorer.push: the previous push has not finished; await each push before the next');
    this.busy = true;
    try {
      return await this.pushOne(timestamp, typeof values === 'number' ? [values] : values);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Scores `n` points in time order: `timestamps` (n) and `values` (n, C) row-major. The windows of
   * the batch are scored in one call of `engine` (the detector's own `windowErrors` by default)
   * rather than one per point; everything else is what `push` does point by point, in the same order,
   * so the results are those of `push` (up to the engine's float summation order). Invalid points
   * are skipped or thrown as by `push`: with `invalid: 'error'` the points before the bad one are
   * scored (the scorer's state moves past them) and then the error is thrown.
   * While learning (probation) or with periodic retraining, points go through `push` one by one:
   * the model may change within the batch.
   */
  async pushBatch(timestamps: ArrayLike<number>, values: Float32Array, engine?: Pick<WindowErrorEngine, 'windowErrors'>): Promise<OnlinePoint[]> {
    const n = timestamps.length;
    const C = this.channels;
    if (values.length !== n * C) throw new VigilError('E_SHAPE', `pushBatch: ${values.length} values for ${n} points of ${C} channels`, { field: 'values' });
    if (this.probationBuf || this.history) {
      const out: OnlinePoint[] = [];
      for (let i = 0; i < n; i++) out.push(await this.push(timestamps[i]!, values.subarray(i * C, (i + 1) * C)));
      return out;
    }
    if (this.busy) throw new VigilError('E_UNSUPPORTED', 'OnlineScorer.pushBatch: the previous push has not finished; await each push before the next');
    this.busy = true;
    try {
      const out: OnlinePoint[] = [];
      const chunk = Math.max(1, Math.floor(BATCH_WINDOW_FLOATS / (this.window * C)));
      for (let from = 0; from < n; from += chunk) {
        const error = await this.pushChunk(timestamps, values, from, Math.min(n, from + chunk), engine, out);
        if (error) throw error;
      }
      return out;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Points [from, to) of a batch: finds the accepted ones (and, with `invalid: 'error'`, the first
   * bad one: only the points before it are taken), scores their full windows in one engine call, then
   * pushes them in order. Returns the error to throw, if any.
   */
  private async pushChunk(timestamps: ArrayLike<number>, values: Float32Array, from: number, to: number, engine: Pick<WindowErrorEngine, 'windowErrors'> | undefined, out: OnlinePoint[]): Promise<VigilError | null> {
    const W = this.window;
    const C = this.channels;
    // Pass 1: which points are accepted (the checks `push` would make, with the timestamps moving on).
    const bad: (string | null)[] = [];
    let error: VigilError | null = null;
    const savedLast = this.lastTimestamp;
    let accepted = 0;
    for (let i = from; i < to; i++) {
      const b = this.check(timestamps[i]!, values.subarray(i * C, (i + 1) * C));
      if (b && this.invalid === 'error') {
        error = new VigilError(b.code, `point ${this.pushed + (i - from) + 1}: ${b.why}`, { index: this.pushed + (i - from) + 1, timestamp: timestamps[i] });
        to = i;
        break;
      }
      bad.push(b ? `point ${this.pushed + (i - from) + 1}: ${b.why}` : null);
      if (!b) {
        this.lastTimestamp = timestamps[i]!;
        accepted++;
      }
    }
    this.lastTimestamp = savedLast;
    // The windows ending at each accepted point that fills the ring: the ring's points, then the accepted ones.
    const held = this.ring.size;
    const rows = new Float32Array((held + accepted) * C);
    this.ring.latest(held, rows);
    let k = held;
    for (let i = from; i < to; i++) if (bad[i - from] === null) rows.set(values.subarray(i * C, (i + 1) * C), k++ * C);
    const firstFull = Math.max(held, W - 1); // row index of the first accepted point with a full window
    const m = Math.max(0, held + accepted - firstFull);
    let errors: Float32Array = new Float32Array(0);
    if (m > 0) {
      const windows = new Float32Array(m * W * C);
      for (let j = 0; j < m; j++) windows.set(rows.subarray((firstFull + j - W + 1) * C, (firstFull + j + 1) * C), j * W * C);
      errors = engine ? await engine.windowErrors(windows, m) : this.detector.windowErrors(windows, m);
      if (errors.length !== m * W * C) throw new VigilError('E_SHAPE', `pushBatch: the engine returned ${errors.length} errors for ${m} windows of ${W} x ${C}`);
    }
    // Pass 2: push in order, as pushOne does, scoring full windows from the batch's errors.
    let w = 0;
    for (let i = from; i < to; i++) {
      this.pushed++;
      const t = timestamps[i]!;
      const why = bad[i - from]!;
      if (why !== null) {
        out.push(this.result(t, { skipped: why }));
        continue;
      }
      const row = values.subarray(i * C, (i + 1) * C);
      this.lastTimestamp = t;
      this.accepted++;
      this.ring.push(row);
      const outOfRange = this.leavesRange(row);
      if (!this.ring.full) {
        out.push(this.result(t, {}));
        continue;
      }
      out.push(this.scoreErrors(t, outOfRange, errors, w++ * W * C));
    }
    if (error) this.pushed++; // as push() counts the point it throws for
    return error;
  }

  private async pushOne(timestamp: number, values: ArrayLike<number>): Promise<OnlinePoint> {
    this.pushed++;
    const bad = this.check(timestamp, values);
    if (bad) {
      const msg = `point ${this.pushed}: ${bad.why}`;
      if (this.invalid === 'error') throw new VigilError(bad.code, msg, { index: this.pushed, timestamp });
      return this.result(timestamp, { skipped: msg });
    }
    this.lastTimestamp = timestamp;
    this.accepted++;
    this.ring.push(values);
    const outOfRange = this.leavesRange(values);

    if (this.probationBuf) {
      this.probationBuf.set(values, this.probationCount * this.channels);
      this.probationCount++;
      this.pushHistory(values, false);
      if (this.probationCount < this.probation) return this.result(timestamp, {});
      const buf = this.probationBuf;
      await this.trainOn([this.seriesOf(buf, this.probationCount, 'probation')]);
      this.probationBuf = null;
      this.seed(buf, this.probationCount);
      return this.result(timestamp, { trained: true });
    }

    if (!this.ring.full) {
      this.pushHistory(values, false);
      return this.result(timestamp, {});
    }
    const out = this.scoreLatest(timestamp, outOfRange);
    this.pushHistory(values, out.anomalous);
    if (this.history && ++this.sinceRetrain >= this.opts.retrain!.every) {
      await this.retrain();
      out.trained = true;
    }
    return out;
  }

  private pushHistory(values: ArrayLike<number>, alarm: boolean): void {
    if (!this.history) return;
    this.historyRow.set(values);
    this.historyRow[this.channels] = alarm ? 1 : 0;
    this.history.push(this.historyRow);
  }

  private seriesOf(buf: Float32Array, n: number, what: string): Series {
    return {
      source: `stream ${what}`,
      columns: [...this.detector.columns],
      timestamps: Float64Array.from({ length: n }, (_, i) => i),
      values: buf.subarray(0, n * this.channels),
      length: n,
      channels: this.channels,
    };
  }

  private async trainOn(series: Series[]): Promise<void> {
    await this.detector.fit(series, { seed: this.opts.fit?.seed, validationSplit: this.opts.fit?.validationSplit });
  }

  /** Raw streaming scores of every full window of `buf` (n, C). */
  private rawScoresOf(buf: Float32Array, n: number): number[] {
    const W = this.window;
    const C = this.channels;
    const out: number[] = [];
    const per = new Float32Array(C);
    const batch = 512;
    for (let first = W - 1; first < n; first += batch) {
      const m = Math.min(batch, n - first);
      const windows = new Float32Array(m * W * C);
      for (let i = 0; i < m; i++) windows.set(buf.subarray((first + i - W + 1) * C, (first + i + 1) * C), i * W * C);
      const errors = this.detector.windowErrors(windows, m);
      for (let i = 0; i < m; i++) out.push(tailError(errors, i * W * C, W, C, this.tail, per));
    }
    return out;
  }

  /** Seeds the normaliser, the recent-score ring and the threshold with the scores of `buf` (n, C). */
  private seed(buf: Float32Array, n: number): void {
    const scores = this.rawScoresOf(buf, n);
    for (const s of scores) {
      this.likelihood?.update(s);
      this.rank?.update(s);
      this.peak?.update(s);
      this.recent.push([s]);
    }
    this.calibrate();
  }

  /** (Re)calibrates SPOT / the static threshold on the recent raw scores. */
  private calibrate(): void {
    const spec = this.thresholdSpec;
    if (spec.method !== 'spot' && spec.method !== 'dspot') return;
    const scores = Array.from(this.recent.latest());
    if (scores.length < 20) return;
    const risk = spec.risk ?? DEFAULT_RISK;
    try {
      this.spot = new SpotDetector({ q: risk, depth: spec.method === 'dspot' ? (spec.depth ?? 20) : 0, level: spec.level ?? 0.98 }).fit(scores);
      this.spotPeaks0 = this.spot.peakCount;
      this.staticThreshold = null;
    } catch {
      // Too few or too uniform scores for a GPD fit: fall back to the (1 - risk) quantile.
      this.spot = null;
      this.staticThreshold = quantileThreshold(scores, 1 - risk);
    }
  }

  private normalised(raw: number): number {
    if (this.likelihood) return logLikelihood(this.likelihood.update(raw));
    if (this.rank) return this.rank.update(raw);
    if (this.peak) return this.peak.update(raw);
    const n = this.detector.postprocess.normalise(raw);
    return Number.isNaN(n) ? 0 : n;
  }

  /** Compares a point with the alarm threshold; returns [threshold, above]. */
  private alarm(raw: number, normalized: number): [number | null, boolean] {
    const spec = this.thresholdSpec;
    switch (spec.method) {
      case 'normalized':
        return [spec.value, normalized >= spec.value];
      case 'model': {
        const t = this.detector.postprocess.threshold;
        return [t, t !== null && raw >= t];
      }
      default: {
        if (this.spot) {
          const step = this.spot.step(raw);
          if (this.spot.peakCount > 2 * Math.max(this.spotPeaks0, 16)) this.calibrate();
          return [step.threshold, step.alarm];
        }
        if (this.staticThreshold === null) this.calibrate();
        return [this.staticThreshold, this.staticThreshold !== null && raw >= this.staticThreshold];
      }
    }
  }

  private scoreLatest(timestamp: number, outOfRange: boolean): OnlinePoint {
    this.ring.latest(this.window, this.windowBuf);
    return this.scoreErrors(timestamp, outOfRange, this.detector.windowErrors(this.windowBuf, 1), 0);
  }

  /** Scores the newest point from its window's errors (W, C) at `offset` of `errors`. */
  private scoreErrors(timestamp: number, outOfRange: boolean, errors: Float32Array, offset: number): OnlinePoint {
    const C = this.channels;
    const raw = tailError(errors, offset, this.window, C, this.tail, this.perChannel);
    const wasReady = this.normaliserReady;
    let normalized = this.normalised(raw);
    this.recent.push([raw]);
    this.scored++;
    let [threshold, above] = this.alarm(raw, normalized);
    if (outOfRange) {
      normalized = 1;
      above = true;
    }
    const suppressed = this.cooldownLeft > 0;
    let anomalous = false;
    if (suppressed) this.cooldownLeft--;
    else if ((wasReady || outOfRange) && above) {
      anomalous = true;
      this.cooldownLeft = this.cooldown;
    }
    let total = 0;
    for (let c = 0; c < C; c++) total += this.perChannel[c]!;
    const contributions = this.detector.columns
      .map((name, c) => ({ name, contribution: total > 0 ? this.perChannel[c]! / total : 0 }))
      .sort((a, b) => b.contribution - a.contribution);
    return {
      index: this.pushed,
      timestamp,
      phase: wasReady ? 'scoring' : 'warming',
      score: raw,
      normalized,
      threshold,
      anomalous,
      suppressed,
      contributions,
      ...(outOfRange ? { outOfRange } : {}),
    };
  }

  /**
   * Feeds past points (n, C) to a scorer whose detector is already trained, without scoring them one
   * by one: they fill the window, the range and the history, and their streaming scores (one batch)
   * seed the normaliser and threshold, as after a probation. For resuming from stored history or
   * sharing one trained detector between scorers. Throws (E_NOT_FITTED / E_SHAPE / E_VALUE) on
   * misuse or bad data: it is a set-up call, not a stream.
   */
  prime(timestamps: ArrayLike<number>, values: Float32Array): void {
    if (!this.detector.trained || this.probationBuf) throw new VigilError('E_NOT_FITTED', 'OnlineScorer.prime: the detector must be trained first');
    const n = timestamps.length;
    const C = this.channels;
    if (values.length !== n * C) throw new VigilError('E_SHAPE', `OnlineScorer.prime: ${values.length} values for ${n} points of ${C} channels`);
    for (let i = 0; i < n; i++) {
      const bad = this.check(timestamps[i]!, values.subarray(i * C, (i + 1) * C));
      if (bad) throw new VigilError(bad.code, `OnlineScorer.prime: point ${i + 1}: ${bad.why}`, { index: i + 1 });
      this.lastTimestamp = timestamps[i]!;
      const row = values.subarray(i * C, (i + 1) * C);
      this.ring.push(row);
      this.leavesRange(row);
      this.pushHistory(row, false);
    }
    this.pushed += n;
    this.accepted += n;
    this.seed(values, n);
  }

  /** Retrains on the history's normal stretches (windows clear of alarms), then re-seeds. */
  private async retrain(): Promise<void> {
    this.sinceRetrain = 0;
    const hist = this.history!;
    const n = hist.size;
    const rows = hist.latest();
    const C = this.channels;
    const W = this.window;
    const values = new Float32Array(n * C);
    const segments: Series[] = [];
    let segStart = 0;
    const flush = (end: number) => {
      if (end - segStart >= W) segments.push(this.seriesOf(values.slice(segStart * C, end * C), end - segStart, `history ${segStart}-${end}`));
    };
    for (let i = 0; i < n; i++) {
      values.set(rows.subarray(i * (C + 1), i * (C + 1) + C), i * C);
      if (rows[i * (C + 1) + C]) {
        // Leave out the alarm and the window of points before it.
        flush(Math.max(segStart, i - W + 1));
        segStart = i + 1;
      }
    }
    flush(n);
    if (segments.length === 0) return;
    await this.trainOn(segments);
    this.likelihood?.restore({ short: [], long: [], seen: 0, mean: Number.NaN, std: Number.NaN, sinceEstimate: 0 });
    this.rank?.load([]);
    this.peak?.load({ seen: 0, entries: [] });
    this.recent.clear();
    this.seed(values, n);
  }

  /** The stream's state (JSON), to resume with {@link OnlineScorer.restore} after a restart. */
  state(): OnlineScorerState {
    return {
      version: 1,
      pushed: this.pushed,
      accepted: this.accepted,
      scored: this.scored,
      lastTimestamp: this.lastTimestamp,
      cooldownLeft: this.cooldownLeft,
      sinceRetrain: this.sinceRetrain,
      range: this.rangeTolerance !== null ? { min: Array.from(this.rangeMin), max: Array.from(this.rangeMax) } : null,
      window: Array.from(this.ring.latest()),
      history: this.history ? Array.from(this.history.latest()) : null,
      probation: this.probationBuf ? Array.from(this.probationBuf.subarray(0, this.probationCount * this.channels)) : null,
      recentScores: Array.from(this.recent.latest()),
      likelihood: this.likelihood?.state() ?? null,
      rank: this.rank?.values() ?? null,
      peak: this.peak?.toJSON() ?? null,
    };
  }

  /**
   * Resumes from {@link state} output, with the same detector (as saved after any retraining) and
   * options. SPOT is re-calibrated from the saved recent scores rather than restored exactly.
   */
  restore(s: OnlineScorerState): void {
    if (s?.version !== 1) throw new VigilError('E_VALUE', 'OnlineScorer.restore: not a version-1 scorer state');
    if (s.window.length % this.channels !== 0) throw new VigilError('E_SHAPE', `OnlineScorer.restore: window state has ${s.window.length} values, not a multiple of ${this.channels} channels`);
    this.pushed = s.pushed;
    this.accepted = s.accepted;
    this.scored = s.scored;
    this.lastTimestamp = s.lastTimestamp;
    this.cooldownLeft = s.cooldownLeft;
    this.sinceRetrain = s.sinceRetrain;
    if (s.range && s.range.min.length === this.channels && s.range.max.length === this.channels) {
      this.rangeMin.set(s.range.min.map((v) => v ?? Infinity));
      this.rangeMax.set(s.range.max.map((v) => v ?? -Infinity));
    }
    this.ring.load(s.window);
    if (this.history && s.history) this.history.load(s.history);
    if (s.probation && !this.detector.trained) {
      this.probationBuf = new Float32Array(this.probation * this.channels);
      this.probationBuf.set(s.probation.slice(0, this.probationBuf.length));
      this.probationCount = Math.min(this.probation, s.probation.length / this.channels);
    } else this.probationBuf = null;
    this.recent.load(s.recentScores);
    if (this.likelihood && s.likelihood) this.likelihood.restore(s.likelihood);
    if (this.rank && s.rank) this.rank.load(s.rank);
    if (this.peak && s.peak) this.peak.load(s.peak);
    this.spot = null;
    this.staticThreshold = null;
    this.calibrate();
  }
}
