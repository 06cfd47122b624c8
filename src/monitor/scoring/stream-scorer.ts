/**
 * The service's view of a per-stream online scorer, and its implementation on top of the streaming
 * module's {@link OnlineScorer} (src/streaming/).
 *
 * The service receives points in batches, so each batch goes through `OnlineScorer.pushBatch`: the
 * windows of the whole batch are scored in one call of the model's window engine (ONNX Runtime when
 * the model's networks were exported, else TF.js; see streaming/window-engine.ts), then the points
 * are normalised, thresholded and alarmed one by one, as `push` would.
 */
import type { Detector } from '../../core/detector.js';
import { VigilError } from '../../core/errors.js';
import { OnlineScorer, detectorWindowEngine, isWindowDetector, type OnlineScorerOptions, type OnlineScorerState, type WindowDetector, type WindowErrorEngine } from '../../streaming/index.js';
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

/** {@link StreamScorer} over an {@link OnlineScorer}, scoring each batch's windows in one engine call. */
export class OnlineStreamScorer implements StreamScorer {
  private readonly scorer: OnlineScorer;

  /** `engine` computes the window errors (default: the detector's batch path, ORT when exported). */
  constructor(
    detector: WindowDetector,
    opts: OnlineScorerOptions = {},
    private readonly engine: WindowErrorEngine = detectorWindowEngine(detector),
  ) {
    this.scorer = new OnlineScorer(detector, { invalid: 'error', ...opts });
  }

  async pushBatch(timestamps: Float64Array, values: Float32Array): Promise<StreamPointScore[]> {
    const n = timestamps.length;
    const C = this.scorer.channels;
    if (values.length !== n * C) throw new VigilError('E_SHAPE', `pushBatch: ${values.length} values for ${n} points of ${C} channels`);
    const scored = await this.scorer.pushBatch(timestamps, values, this.engine);
    return scored.map((p) => ({ score: p.score, normalized: p.normalized, threshold: p.threshold, anomalous: p.anomalous, contributions: p.contributions }));
  }

  get lastTimestamp(): number | null {
    return this.scorer.lastAccepted;
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
