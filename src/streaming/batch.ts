/**
 * The streaming score of every point of a series computed in one batch: the point at step t gets the
 * error of the window that ends at t (steps t - W + 1 … t), averaged over the window's last `tail`
 * positions, exactly as {@link OnlineScorer} computes it point by point. Used to check the online
 * scorer against batch scoring and to seed its normaliser.
 *
 * Shapes: `rawScores` (T) with NaN for the first W - 1 steps (no full window yet);
 * `contributions` (T, C) per-channel errors (the raw score is their mean over channels).
 */
import { VigilError } from '../core/errors.js';
import type { Series } from '../core/types.js';
import { extractWindows, selectColumns } from '../data/series.js';
import type { WindowModel } from './window-model.js';

export interface StreamScores {
  rawScores: Float32Array;
  contributions: Float32Array;
}

/**
 * Per-channel error (C) of one window's errors (W, C): the mean over its last `tail` positions.
 * `out` receives the C values; returns their mean over channels (the point's raw score).
 */
export function tailError(errors: Float32Array, offset: number, window: number, channels: number, tail: number, out: Float32Array): number {
  out.fill(0);
  for (let w = window - tail; w < window; w++) {
    const base = offset + w * channels;
    for (let c = 0; c < channels; c++) out[c] += errors[base + c]!;
  }
  let total = 0;
  for (let c = 0; c < channels; c++) {
    out[c] /= tail;
    total += out[c]!;
  }
  return total / channels;
}

/** Every step's streaming score (see the module comment), computing `batch` windows per engine call. */
export function streamScoresBatch(model: WindowModel, series: Series, tail = 1, batch = 512): StreamScores {
  const W = model.window;
  if (!Number.isInteger(tail) || tail < 1 || tail > W) throw new VigilError('E_CONFIG', `tail: ${tail} must be an integer from 1 to the window (${W})`, { field: 'tail' });
  const s = selectColumns(series, model.columns);
  const C = s.channels;
  const T = s.length;
  const rawScores = new Float32Array(T).fill(Number.NaN);
  const contributions = new Float32Array(T * C).fill(Number.NaN);
  const per = new Float32Array(C);
  for (let first = W - 1; first < T; first += batch) {
    const ends = Array.from({ length: Math.min(batch, T - first) }, (_, i) => first + i);
    const starts = ends.map((e) => e - W + 1);
    const errors = model.windowErrors(extractWindows(s.values, C, starts, W), starts.length);
    ends.forEach((t, i) => {
      rawScores[t] = tailError(errors, i * W * C, W, C, tail, per);
      contributions.set(per, t * C);
    });
  }
  return { rawScores, contributions };
}
