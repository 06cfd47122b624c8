/**
 * The service's view of a per-stream online scorer, and its implementation on top of the streaming
 * module's {@link OnlineScorer} (src/streaming/).
 *
 * OnlineScorer scores one point per push with one engine call per point (a window of W points),
 * which caps a stream at a few hundred points per second. The service receives points in batches,
 * so it computes the windows' errors of a whole batch in one engine call first and hands them to
 * the scorer through a thin detector wrapper ({@link PrefetchedWindows}) that answers each
 * `windowErrors(window, 1)` call from that batch when the window is the one computed (compared value
 * by value), and falls back to the real detector otherwise. The scorer's arithmetic is unchanged:
 * the results are those of pushing point by point.
 */
import type { Detector } from '../../core/detector.js';
import { VigilError } from '../../core/errors.js';
import type { FitOptions, FitReport, Series } from '../../core/types.js';
import { OnlineScorer, isWindowDetector, type OnlineScorerOptions, type OnlineScorerState, type WindowDetector } from '../../streaming/index.js';
import type { Contribution } from '../api-types.js';

/** What the service needs of one point's online score. */
export interface StreamPointScore {
  /** Raw score, null while the stream's first window fills (or its normaliser warms up). */
  score: number | null;
  /** In [0, 1]; null when not scored. */
  normalized: number | null;
  /** What `anomalous` compared with (the scorer's units, normalized by default). */
  threshold: number | null;
  anomalous: boolean;
  /** Channels' shares of the point's error, highest first. */
  contributions: Contribution[];
}

/** One stream's stateful scorer. Points arrive in time order, already validated. */
export interface StreamScorer {
  /** Scores `n` points: timestamps (n) and values (n, C) row-major. */
  pushBatch(timestamps: Float64Array, values: Float32Array): Promise<StreamPointScore[]>;
  /** Resumable state (JSON), or null when the scorer has none worth keeping. */
  state(): unknown;
  /** Resumes from {@link state} output; returns false when the state does not fit this scorer. */
  restore(state: unknown): boolean;
  /** Timestamp of the last point accepted (also after a restore), or null. */
  readonly lastTimestamp: number | null;
}

/** Builds the scorers of one loaded series model. */
export interface StreamScorerFactory {
  readonly columns: readonly string[];
  readonly window: number;
  create(): StreamScorer;
}

/**
 * A WindowDetector that answers windowErrors from errors computed beforehand for a batch of windows,
 * in order. Everything else goes to the wrapped detector; dispose() does nothing (the service owns it).
 */
export class PrefetchedWindows implements WindowDetector {
  private windows: Float32Array = new Float32Array(0);
  private errors: Float32Array = new Float32Array(0);
  private count = 0;
  private next = 0;
  /** Calls answered from the prefetched batch / passed through (for tests and diagnostics). */
  hits = 0;
  misses = 0;

  constructor(readonly inner: WindowDetector) {}

  get kind() {
    return this.inner.kind;
  }
  get inputKind() {
    return this.inner.inputKind;
  }
  get postprocess() {
    return this.inner.postprocess;
  }
  get window() {
    return this.inner.window;
  }
  get columns() {
    return this.inner.columns;
  }
  get trained() {
    return this.inner.trained;
  }

  /** Computes the errors of `n` windows (n, W, C) in one engine call, to be served in order. */
  prefetch(windows: Float32Array, n: number): void {
    this.windows = windows;
    this.count = n;
    this.next = 0;
    this.errors = n > 0 ? this.inner.windowErrors(windows, n) : new Float32Array(0);
  }

  clear(): void {
    this.windows = new Float32Array(0);
    this.errors = new Float32Array(0);
    this.count = 0;
    this.next = 0;
  }

  windowErrors(windows: Float32Array, n: number): Float32Array {
    if (n === 1) {
      const size = windows.length;
      while (this.next < this.count) {
        const i = this.next++;
        const off = i * size;
        let same = true;
        for (let j = 0; j < size && same; j++) same = this.windows[off + j] === windows[j];
        if (same) {
          this.hits++;
          return this.errors.subarray(off, off + size);
        }
      }
    }
    this.misses++;
    return this.inner.windowErrors(windows, n);
  }

  fit(train: Series[], opts?: FitOptions<Series>): Promise<FitReport> {
    return this.inner.fit(train, opts);
  }
  score(batch: Series[]) {
    return this.inner.score(batch);
  }
  save(dir: string) {
    return this.inner.save(dir);
  }
  summary() {
    return this.inner.summary();
  }
  dispose(): void {
    // owned by the service's model handle
  }
}

/** {@link StreamScorer} over an {@link OnlineScorer}, scoring each batch's windows in one engine call. */
export class OnlineStreamScorer implements StreamScorer {
  private readonly proxy: PrefetchedWindows;
  private readonly scorer: OnlineScorer;
  private readonly W: number;
  private readonly C: number;
  /** The last W - 1 points pushed (the scorer's window ring, mirrored to build the batch's windows). */
  private tail: Float32Array;
  private tailCount = 0;
  lastTimestamp: number | null = null;

  constructor(detector: WindowDetector, opts: OnlineScorerOptions = {}) {
    this.proxy = new PrefetchedWindows(detector);
    this.scorer = new OnlineScorer(this.proxy, { invalid: 'error', ...opts });
    this.W = this.scorer.window;
    this.C = this.scorer.channels;
    this.tail = new Float32Array(Math.max(0, this.W - 1) * this.C);
  }

  get prefetchStats(): { hits: number; misses: number } {
    return { hits: this.proxy.hits, misses: this.proxy.misses };
  }

  async pushBatch(timestamps: Float64Array, values: Float32Array): Promise<StreamPointScore[]> {
    const n = timestamps.length;
    const { W, C } = this;
    if (values.length !== n * C) throw new VigilError('E_SHAPE', `pushBatch: ${values.length} values for ${n} points of ${C} channels`);
    // Windows ending at each new point that has W - 1 points before it.
    const all = new Float32Array((this.tailCount + n) * C);
    all.set(this.tail.subarray(0, this.tailCount * C), 0);
    all.set(values, this.tailCount * C);
    const total = this.tailCount + n;
    const m = Math.max(0, total - W + 1);
    if (m > 0) {
      const windows = new Float32Array(m * W * C);
      for (let i = 0; i < m; i++) windows.set(all.subarray(i * C, (i + W) * C), i * W * C);
      this.proxy.prefetch(windows, m);
    }
    const out: StreamPointScore[] = new Array(n);
    try {
      for (let i = 0; i < n; i++) {
        const p = await this.scorer.push(timestamps[i]!, values.subarray(i * C, (i + 1) * C));
        out[i] = { score: p.score, normalized: p.normalized, threshold: p.threshold, anomalous: p.anomalous, contributions: p.contributions };
        this.lastTimestamp = timestamps[i]!;
      }
    } finally {
      this.proxy.clear();
      const keep = Math.min(W - 1, total);
      this.tail.set(all.subarray((total - keep) * C, total * C), 0);
      this.tailCount = keep;
    }
    return out;
  }

  state(): OnlineScorerState {
    return this.scorer.state();
  }

  restore(state: unknown): boolean {
    try {
      this.scorer.restore(state as OnlineScorerState);
    } catch {
      return false;
    }
    const s = state as OnlineScorerState;
    const keepValues = Math.min(s.window.length, (this.W - 1) * this.C);
    this.tail.set(s.window.slice(s.window.length - keepValues), 0);
    this.tailCount = keepValues / this.C;
    this.lastTimestamp = s.lastTimestamp;
    return true;
  }
}

/** Scorer factory for a loaded series model; E_UNSUPPORTED when the detector is not window-based. */
export function onlineScorerFactory(detector: Detector, opts: OnlineScorerOptions = {}): StreamScorerFactory {
  if (!isWindowDetector(detector)) {
    throw new VigilError('E_UNSUPPORTED', `model kind "${detector.kind}" cannot score streams point by point (it is not a sliding-window series detector)`, { field: 'model' });
  }
  return {
    columns: detector.columns,
    window: detector.window,
    create: () => new OnlineStreamScorer(detector, opts),
  };
}
