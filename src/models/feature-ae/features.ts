/**
 * Plain-array helpers of 'feature-ae': the backbone embedding it reconstructs (taps on one grid,
 * concatenated, a seeded channel subset), per-channel standardisation statistics, and the weights
 * that pick an anomaly's worst-reconstructed positions for the push-away loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { concatTaps } from '../backbone/grid.js';

/** taps[i] (B, h_i, w_i, c_i) → (B, height, width, kept channels). Call inside tf.tidy. */
export function featureEmbedding(taps: readonly tf.Tensor4D[], height: number, width: number, channels: tf.Tensor1D | null): tf.Tensor4D {
  const all = concatTaps(taps, height, width);
  return channels ? tf.gather(all, channels, 3) : all;
}

export interface ChannelStats {
  mean: Float32Array;
  std: Float32Array;
}

/**
 * Mean and standard deviation of each of the `dims` channels over every position of every image in
 * `values` (rows of `dims`). A constant channel gets std 1 so that standardising leaves it at 0.
 */
export function channelStats(values: Float32Array, dims: number): ChannelStats {
  const sum = new Float64Array(dims);
  const sq = new Float64Array(dims);
  const rows = values.length / dims;
  for (let r = 0; r < rows; r++) {
    const o = r * dims;
    for (let c = 0; c < dims; c++) {
      const v = values[o + c]!;
      sum[c] += v;
      sq[c] += v * v;
    }
  }
  const mean = new Float32Array(dims);
  const std = new Float32Array(dims);
  for (let c = 0; c < dims; c++) {
    const m = sum[c]! / Math.max(rows, 1);
    mean[c] = m;
    const s = Math.sqrt(Math.max(sq[c]! / Math.max(rows, 1) - m * m, 0));
    std[c] = s > 1e-6 ? s : 1;
  }
  return { mean, std };
}

/** (x - mean) / std per channel, in place, over rows of `stats.mean.length` values. */
export function standardiseInPlace(values: Float32Array, stats: ChannelStats): void {
  const d = stats.mean.length;
  for (let i = 0; i < values.length; i++) {
    const c = i % d;
    values[i] = (values[i]! - stats.mean[c]!) / stats.std[c]!;
  }
}

