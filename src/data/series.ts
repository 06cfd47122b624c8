/**
 * Time-series building blocks that every series detector and the streaming scorer share:
 * checks, column selection, sliding windows, per-channel standardisation, and the aggregation of
 * per-window errors back onto time steps.
 *
 * Shapes: a series is row-major (T, C) (`values[t * C + c]`); a batch of windows is (N, W, C)
 * (`windows[(n * W + w) * C + c]`); per-step channel errors are (T, C) like the series.
 */
import { VigilError } from '../core/errors.js';
import type { AnomalyMap, ScoreResult, Series } from '../core/types.js';

/**
 * What series detectors return for one series: `score` is the highest step score, `map` the step
 * scores (1, T), `reason.top` the channel contributions at that step, and `stepChannels` (T, C) the
 * error of every channel at every step (per-step contributions for reports and alarms).
 */
export interface SeriesScoreResult extends ScoreResult {
  map: AnomalyMap;
  /** (T, C) per-step, per-channel error; step score = mean over channels. */
  stepChannels: Float32Array;
  columns: string[];
  /** Step of the highest score. */
  peakStep: number;
}

/** Per-channel standardisation x' = (x - mean_c) / std_c, fitted on training data, saved with a model. */
export interface ChannelStats {
  mean: number[];
  std: number[];
}

/** Standard deviations below this are replaced by 1 (a constant channel is only centred). */
export const MIN_CHANNEL_STD = 1e-8;

/**
 * Checks a series' internal consistency: sizes, finite values (E_VALUE naming the step, its
 * timestamp and the column), strictly increasing timestamps, 0/1 labels.
 */
export function checkSeries(s: Series): void {
  const where = s.source;
  if (!Number.isInteger(s.length) || !Number.isInteger(s.channels) || s.channels < 1) {
    throw new VigilError('E_SHAPE', `${where}: length ${s.length} and channels ${s.channels} must be integers, channels >= 1`, { file: where });
  }
  if (s.values.length !== s.length * s.channels) {
    throw new VigilError('E_SHAPE', `${where}: ${s.values.length} values, expected length x channels = ${s.length} x ${s.channels}`, { file: where });
  }
  if (s.timestamps.length !== s.length) throw new VigilError('E_SHAPE', `${where}: ${s.timestamps.length} timestamps for ${s.length} steps`, { file: where });
  if (s.columns.length !== s.channels) throw new VigilError('E_SHAPE', `${where}: ${s.columns.length} column names for ${s.channels} channels`, { file: where });
  if (s.labels && s.labels.length !== s.length) throw new VigilError('E_SHAPE', `${where}: ${s.labels.length} labels for ${s.length} steps`, { file: where });
  for (let t = 0; t < s.length; t++) {
    if (t > 0 && !(s.timestamps[t]! > s.timestamps[t - 1]!)) {
      const dup = s.timestamps[t] === s.timestamps[t - 1];
      throw new VigilError('E_VALUE', `${where}: step ${t}: timestamp ${formatTime(s.timestamps[t]!)} is ${dup ? 'duplicated' : `earlier than the previous step's ${formatTime(s.timestamps[t - 1]!)}`}`, {
        file: where,
        step: t,
      });
    }
    for (let c = 0; c < s.channels; c++) {
      const v = s.values[t * s.channels + c]!;
      if (!Number.isFinite(v)) {
        throw new VigilError('E_VALUE', `${where}: step ${t} (${formatTime(s.timestamps[t]!)}), column "${s.columns[c]}": value ${v} is not a finite number`, {
          file: where,
          step: t,
          column: s.columns[c],
          value: String(v),
        });
      }
    }
    if (s.labels && s.labels[t]! > 1) throw new VigilError('E_VALUE', `${where}: step ${t}: label ${s.labels[t]} is not 0/1`, { file: where, step: t });
  }
}

/** ISO text for epoch-ms timestamps, the number itself for small (index) timestamps. */
export function formatTime(t: number): string {
  return Math.abs(t) >= 1e11 && Number.isFinite(t) ? new Date(t).toISOString() : String(t);
}

/**
 * The series restricted to, and reordered as, `columns` (a model's training columns).
 * E_SHAPE naming the missing column(s) and what the series has.
 */
export function selectColumns(s: Series, columns: readonly string[]): Series {
  if (columns.length === s.columns.length && columns.every((c, i) => c === s.columns[i])) return s;
  const idx = columns.map((c) => s.columns.indexOf(c));
  const missing = columns.filter((_, i) => idx[i]! < 0);
  if (missing.length > 0) {
    throw new VigilError('E_SHAPE', `${s.source}: missing column(s) ${missing.map((m) => `"${m}"`).join(', ')} that the model was trained on (the file has: ${s.columns.join(', ')})`, {
      file: s.source,
      missing,
    });
  }
  const C = columns.length;
  const values = new Float32Array(s.length * C);
  for (let t = 0; t < s.length; t++) for (let c = 0; c < C; c++) values[t * C + c] = s.values[t * s.channels + idx[c]!]!;
  return { ...s, columns: [...columns], values, channels: C };
}

/** Steps [start, end) of a series (a copy; labels kept). */
export function sliceSeries(s: Series, start: number, end: number, source = s.source): Series {
  const a = Math.max(0, Math.min(start, s.length));
  const b = Math.max(a, Math.min(end, s.length));
  return {
    source,
    columns: [...s.columns],
    timestamps: s.timestamps.slice(a, b),
    values: s.values.slice(a * s.channels, b * s.channels),
    length: b - a,
    channels: s.channels,
    ...(s.labels ? { labels: s.labels.slice(a, b) } : {}),
  };
}

/** Throws E_SHAPE when a series is shorter than the window a model needs. */
export function checkWindowFits(s: Series, window: number): void {
  if (s.length < window) {
    throw new VigilError('E_SHAPE', `${s.source}: the series has ${s.length} step(s), fewer than the model's window of ${window}; give a longer series or train with a smaller window`, {
      file: s.source,
      length: s.length,
      window,
    });
  }
}

/**
 * Start steps of the sliding windows over `length` steps: 0, stride, 2 stride…, plus a last window
 * ending at the final step when the stride does not land there, so every step is covered.
 */
export function windowStarts(length: number, window: number, stride: number): number[] {
  if (!Number.isInteger(window) || window < 1) throw new VigilError('E_CONFIG', `window: ${window} must be a positive integer`, { field: 'window' });
  if (!Number.isInteger(stride) || stride < 1) throw new VigilError('E_CONFIG', `stride: ${stride} must be a positive integer`, { field: 'stride' });
  if (length < window) return [];
  const starts: number[] = [];
  for (let s = 0; s + window <= length; s += stride) starts.push(s);
  if (starts[starts.length - 1]! + window < length) starts.push(length - window);
  return starts;
}

/** Copies the windows starting at `starts` out of row-major (T, C) values into one (N, W, C) buffer. */
export function extractWindows(values: Float32Array, channels: number, starts: readonly number[], window: number): Float32Array {
  const size = window * channels;
  const out = new Float32Array(starts.length * size);
  starts.forEach((s, i) => out.set(values.subarray(s * channels, s * channels + size), i * size));
  return out;
}

/** Per-channel mean and standard deviation over every step of every series (all with C channels). */
export function fitChannelStats(series: readonly Series[]): ChannelStats {
  if (series.length === 0) throw new VigilError('E_EMPTY', 'no series to fit the standardisation on');
  const C = series[0]!.channels;
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  let n = 0;
  for (const s of series) {
    if (s.channels !== C) throw new VigilError('E_SHAPE', `${s.source}: ${s.channels} channels, the other series have ${C}`, { file: s.source });
    for (let t = 0; t < s.length; t++) for (let c = 0; c < C; c++) sum[c] += s.values[t * C + c]!;
    n += s.length;
  }
  if (n === 0) throw new VigilError('E_EMPTY', 'the series to fit the standardisation on are empty');
  const mean = Array.from(sum, (v) => v / n);
  for (const s of series) {
    for (let t = 0; t < s.length; t++) for (let c = 0; c < C; c++) sq[c] += (s.values[t * C + c]! - mean[c]!) ** 2;
  }
  const std = Array.from(sq, (v) => {
    const sd = Math.sqrt(v / n);
    return sd > MIN_CHANNEL_STD ? sd : 1;
  });
  return { mean, std };
}

/** Validates untrusted stats (from a manifest) for C channels; E_MODEL_CORRUPT naming `where`. */
export function checkChannelStats(value: unknown, channels: number, where: string): ChannelStats {
  const v = value as Partial<ChannelStats> | null;
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.length === channels && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!v || !ok(v.mean) || !ok(v.std) || v.std.some((s) => s <= 0)) {
    throw new VigilError('E_MODEL_CORRUPT', `${where}: expected {mean, std} with ${channels} finite number(s) each, std > 0`, { field: where });
  }
  return { mean: v.mean, std: v.std };
}

/** Standardises interleaved (…, C) values in place. */
export function standardiseInPlace(values: Float32Array, stats: ChannelStats): Float32Array {
  const C = stats.mean.length;
  for (let i = 0; i < values.length; i++) {
    const c = i % C;
    values[i] = (values[i]! - stats.mean[c]!) / stats.std[c]!;
  }
  return values;
}

/**
 * Per-step, per-channel errors (T, C) from per-window errors (N, W, C): each step gets the mean of
 * the errors of the windows that cover it. Steps no window covers get 0 (cannot happen with
 * {@link windowStarts}).
 */
export function stepErrorsFromWindows(errors: Float32Array, starts: readonly number[], window: number, channels: number, length: number): Float32Array {
  const sum = new Float64Array(length * channels);
  const count = new Uint32Array(length);
  starts.forEach((s, n) => {
    const base = n * window * channels;
    for (let w = 0; w < window; w++) {
      count[s + w]++;
      const row = (s + w) * channels;
      for (let c = 0; c < channels; c++) sum[row + c] += errors[base + w * channels + c]!;
    }
  });
  const out = new Float32Array(length * channels);
  for (let t = 0; t < length; t++) {
    const k = count[t]!;
    if (k === 0) continue;
    for (let c = 0; c < channels; c++) out[t * channels + c] = sum[t * channels + c]! / k;
  }
  return out;
}

/** Row sums of a (T, C) array divided by C: the mean error over channels at each step. */
export function meanOverChannels(stepChannel: Float32Array, channels: number): Float32Array {
  const T = stepChannel.length / channels;
  const out = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += stepChannel[t * channels + c]!;
    out[t] = s / channels;
  }
  return out;
}

/**
 * Channel contributions at one step: each channel's share of the step's total error, highest first
 * (`top` of a score's reason). Shares sum to 1 (all 0 when the error is 0).
 */
export function channelContributions(stepChannel: Float32Array, step: number, columns: readonly string[], limit = columns.length): { name: string; contribution: number }[] {
  const C = columns.length;
  let total = 0;
  for (let c = 0; c < C; c++) total += stepChannel[step * C + c]!;
  return columns
    .map((name, c) => ({ name, contribution: total > 0 ? stepChannel[step * C + c]! / total : 0 }))
    .sort((a, b) => b.contribution - a.contribution)
    .slice(0, limit);
}

/** Labels of the windows (N): 1 when any covered step is labelled anomalous. Without labels, all 0. */
export function windowLabels(labels: Uint8Array | undefined, starts: readonly number[], window: number): Uint8Array {
  const out = new Uint8Array(starts.length);
  if (!labels) return out;
  // Prefix sums make each window O(1).
  const prefix = new Uint32Array(labels.length + 1);
  for (let t = 0; t < labels.length; t++) prefix[t + 1] = prefix[t]! + (labels[t] ? 1 : 0);
  starts.forEach((s, i) => {
    out[i] = prefix[s + window]! - prefix[s]! > 0 ? 1 : 0;
  });
  return out;
}
