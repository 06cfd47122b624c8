/**
 * Feature-grid resampling for tap activations: every tap brought to one (h, w) grid before the taps
 * are concatenated along channels.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Resizes (N, H, W, C) activations to (N, h, w, C): average pooling when (H, W) is an exact
 * multiple of (h, w) (each cell is the mean of the activations it covers), else bilinear
 * interpolation with half-pixel centres (torch's `F.interpolate(..., align_corners=False)`).
 */
export function resizeGrid(t: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [, H, W] = t.shape;
  if (H === h && W === w) return t;
  if (H > h && W > w && H % h === 0 && W % w === 0) {
    return tf.avgPool(t, [H / h, W / w], [H / h, W / w], 'valid');
  }
  return tf.image.resizeBilinear(t, [h, w], false, true);
}

/** Resizes every tap to (h, w) and concatenates them along channels: (N, h, w, sum of C). */
export function concatTaps(taps: readonly tf.Tensor4D[], h: number, w: number): tf.Tensor4D {
  const resized = taps.map((t) => resizeGrid(t, h, w));
  return resized.length === 1 ? resized[0]! : tf.concat(resized, 3);
}

/**
 * The grid an embedding uses: `stride` input pixels per cell when given (at least 1x1), else the
 * grid of `reference` (a tap).
 */
export function embeddingGrid(input: { height: number; width: number }, reference: { height: number; width: number }, stride: number | null): { height: number; width: number } {
  if (stride === null) return { height: reference.height, width: reference.width };
  return { height: Math.max(1, Math.round(input.height / stride)), width: Math.max(1, Math.round(input.width / stride)) };
}
