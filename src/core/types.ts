/**
 * The data types every stage of the pipeline shares. Kept free of TensorFlow.js so that readers,
 * metrics, thresholds and the service do not depend on the engine.
 */

/** A dense image, channels-last (H, W, C), values in [0, 1]. `data.length === height * width * channels`. */
export interface Image {
  height: number;
  width: number;
  channels: 1 | 3;
  data: Float32Array;
}

/** One image with what is known about it. `mask` is (H, W), 1 where the pixel is anomalous. */
export interface ImageSample {
  image: Image;
  /** Where it came from (file path or a generated id); used in every error and report. */
  source: string;
  /** 0 normal, 1 anomalous, undefined when unknown. */
  label?: 0 | 1;
  /** Defect class name (`good` for normal) when the layout says it. */
  category?: string;
  mask?: Uint8Array | null;
}

/** A multivariate time series, row-major (T, C). Timestamps in epoch milliseconds. */
export interface Series {
  source: string;
  columns: string[];
  timestamps: Float64Array;
  /** length * channels values, row-major: values[t * channels + c]. */
  values: Float32Array;
  length: number;
  channels: number;
  /** Optional per-step labels (1 = anomalous). */
  labels?: Uint8Array;
}

/** A table of feature vectors, row-major (N, D). */
export interface Table {
  source: string;
  columns: string[];
  values: Float32Array;
  rows: number;
  features: number;
  /** Optional per-row labels (1 = anomalous). */
  labels?: Uint8Array;
}

export type InputKind = 'image' | 'series' | 'table';

/** Per-element anomaly scores: pixels (H, W) for images, steps (1, T) for series. */
export interface AnomalyMap {
  height: number;
  width: number;
  values: Float32Array;
}

/** An axis-aligned region of an anomaly map, in map pixel coordinates (inclusive). */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  peak: number;
  area: number;
}

/** Why a sample was scored as it was: the contributions users read in alarms and reports. */
export interface Reason {
  summary: string;
  /** Largest contributors (channels, features, taps), highest first. */
  top?: { name: string; contribution: number }[];
  boxes?: Box[];
}

/** Raw detector output for one sample: higher means more anomalous. */
export interface ScoreResult {
  score: number;
  map?: AnomalyMap;
  reason?: Reason;
}

/** One epoch of a training history. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  valLoss: number | null;
  seconds: number;
}

export interface FitReport {
  epochs: number;
  bestEpoch: number;
  stoppedEarly: boolean;
  history: EpochRecord[];
  trainSeconds: number;
  trainSamples: number;
  validationSamples: number;
  /** Raw scores of the held-out normal samples: what label-free thresholds are fitted on. */
  validationScores: number[];
}

/** Receives progress; the CLI draws a bar, tests and the service pass nothing. */
export interface ProgressSink {
  start(total: number, label: string): void;
  update(done: number, info?: Record<string, string | number>): void;
  stop(): void;
}

export interface FitOptions<I> {
  seed?: number;
  /** Fraction of the normal data held out for validation and threshold fitting. */
  validationSplit?: number;
  progress?: ProgressSink;
  /** Labelled anomalies for semi-supervised training (optional). */
  anomalies?: I[];
  /** Labelled anomalies kept out of training, used with the held-out normals to set the threshold. */
  validationAnomalies?: I[];
  signal?: AbortSignal;
}
