/**
 * PatchCore's locally aware patch features (Roth et al., CVPR 2022, section 3.1): each tap is
 * average-pooled over a p x p neighbourhood (p = 3, stride 1, so the grid is unchanged), brought to
 * the reference grid (the first tap's, unless a stride is set) and the taps are concatenated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { concatTaps } from '../backbone/grid.js';

/**
 * taps[i] (B, h_i, w_i, c_i) → (B, height, width, sum of c_i). `neighbourhood` is the pooling
 * window p (1 = no pooling); padding repeats no values, each cell averages the cells that exist.
 */
export function locallyAwareEmbedding(taps: readonly tf.Tensor4D[], height: number, width: number, neighbourhood: number): tf.Tensor4D {
  const pooled = neighbourhood > 1 ? taps.map((t) => tf.avgPool(t, neighbourhood, 1, 'same')) : taps;
  return concatTaps(pooled, height, width);
}
