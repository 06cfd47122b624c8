/**
 * The contract between a sliding-window series detector and the streaming scorer: what
 * {@link OnlineScorer} needs to score the latest window of a stream and to (re)train from stream
 * data. conv1d-ae and conv1d-vae implement it.
 */
import type { Detector } from '../core/detector.js';
import type { FitOptions, FitReport, Series } from '../core/types.js';

export interface WindowModel {
  /** Window length W (steps). */
  readonly window: number;
  /** The model's value columns (C), in order; empty until trained unless configured. */
  readonly columns: readonly string[];
  /** True once trained (or loaded). */
  readonly trained: boolean;
  /**
   * Per-position, per-channel errors (n, W, C) of `n` raw (unstandardised) windows (n, W, C).
   * Synchronous: one engine call, so a stream can score point by point without awaiting.
   */
  windowErrors(windows: Float32Array, n: number): Float32Array;
  /**
   * The same errors for a batch of windows on the model's inference engine (ONNX Runtime when the
   * networks were exported), asynchronously; absent when the model has only the synchronous path.
   */
  windowErrorsBatch?(windows: Float32Array, n: number): Promise<Float32Array>;
  /** Where `windowErrorsBatch` runs, for logs and reports. */
  readonly engineDescription?: string;
  /** Trains (again) from scratch on normal series with the model's columns. */
  fit(train: Series[], opts?: FitOptions<Series>): Promise<FitReport>;
}

export type WindowDetector = Detector<Series> & WindowModel;

export function isWindowDetector(d: unknown): d is WindowDetector {
  const o = d as Partial<WindowDetector> | null;
  return !!o && typeof o === 'object' && typeof o.window === 'number' && typeof o.windowErrors === 'function' && o.inputKind === 'series';
}
