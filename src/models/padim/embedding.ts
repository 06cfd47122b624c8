/**
 * PaDiM's patch embedding: every tap resized to one grid and concatenated along channels, then a
 * fixed random subset of the channels kept (Defard et al. 2020, "random dimensionality reduction").
 */
import * as tf from '@tensorflow/tfjs-core';
import { concatTaps } from '../backbone/grid.js';

/**
 * taps[i] (B, h_i, w_i, c_i) → (B, height, width, channels.length): the concatenated taps at the
 * grid, keeping the channels whose indices (into the concatenation) are listed.
 */
export function padimEmbedding(taps: readonly tf.Tensor4D[], height: number, width: number, channels: tf.Tensor1D): tf.Tensor4D {
  return tf.gather(concatTaps(taps, height, width), channels, 3);
}
