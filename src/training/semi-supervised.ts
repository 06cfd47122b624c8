/**
 * The term that makes a reconstruction model use the labelled anomalies it is given: the
 * autoencoding binary classifier loss (Yamanaka et al., 2019). Reading exp(-e/τ) as the probability
 * that a sample with reconstruction error e is normal, a labelled anomaly costs -log(1 - exp(-e/τ)):
 * large while its error is small, vanishing as the error grows, so it pushes anomalies' errors up
 * without rewarding an unbounded blow-up. Normal samples keep their plain error e.
 *
 * τ is the current normal reconstruction error (a constant, no gradient through it): the paper sums
 * errors over pixels so that e is of order 1, whereas vigil's errors are per-pixel means of any
 * scale. Measuring e in units of τ, and multiplying the term by τ, keeps both terms' gradients of the
 * same order, so anomalies are pushed to a few times the normal error while normal data stays
 * well reconstructed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Image, ImageSample } from '../core/types.js';

/**
 * scale · mean over labelled anomalies of -log(1 - exp(-e/τ)); `errors` (N) are per-sample errors
 * >= 0. `scale` defaults to τ; it differs when anomalies are measured by another statistic than
 * the normal loss (the top-k errors an image score reads): τ is then that statistic on the normal
 * batch, and `scale` the normal loss, so the push never outweighs reconstruction by the ratio of the
 * two statistics (a top-1% error is several times the mean: enough to stall normal training).
 */
export function anomalyPushLoss(errors: tf.Tensor1D, tau = 1, scale = tau): tf.Scalar {
  return tf.tidy(() => {
    const t = Math.max(tau, 1e-8);
    // 1 - exp(-e/τ), kept away from 0 so a perfectly reconstructed anomaly gives a finite gradient.
    const pAnomalous = tf.add(tf.sub(1, tf.exp(tf.div(tf.neg(errors), t))), 1e-6);
    return tf.mul(tf.mean(tf.neg(tf.log(pAnomalous))), scale) as tf.Scalar;
  });
}

/** How a batch meets the labelled anomalies: `batchSize / 8` of them (at least one) per step, in turn. */
export interface LabelledAnomalies {
  /** How many labelled anomalies there are. */
  count: number;
  /** Weight of the push term (the detector's `anomalyWeight`). */
  weight: number;
  /** Per-sample errors (N) of the labelled anomalies at `indices`, in training mode. */
  errors(indices: number[]): tf.Tensor1D;
  /**
   * The push term's unit τ: a number, or 'normal-loss' for the current batch's normal loss (read as
   * a constant), which suits losses whose scale drifts a lot during training (images).
   */
  tau: number | 'normal-loss';
  /** The push term's scale (see anomalyPushLoss); τ when absent. */
  scale?: 'normal-loss';
}

/**
 * A training step's loss: the normal batch's loss plus, when there are labelled anomalies, `weight`
 * times the push term on this step's share of them.
 */
export function withAnomalyPush(normalLoss: tf.Scalar, step: number, batchSize: number, anomalies: LabelledAnomalies): tf.Scalar {
  if (anomalies.count === 0 || anomalies.weight === 0) return normalLoss;
  const k = Math.min(anomalies.count, Math.max(1, Math.round(batchSize / 8)));
  const indices = Array.from({ length: k }, (_, i) => (step * k + i) % anomalies.count);
  const normalValue = anomalies.tau === 'normal-loss' || anomalies.scale === 'normal-loss' ? normalLoss.dataSync()[0]! : 0;
  const tau = anomalies.tau === 'normal-loss' ? normalValue : anomalies.tau;
  const scale = anomalies.scale === 'normal-loss' ? normalValue : tau;
  return tf.add(normalLoss, tf.mul(anomalyPushLoss(anomalies.errors(indices), tau, scale), anomalies.weight)) as tf.Scalar;
}

/**
 * Per-sample weights over `positions` errors (rows of `errors`): 1/k on each sample's k largest
 * errors (k = max(1, round(fraction * positions))), 0 elsewhere, so that the weighted sum is the
 * mean of a sample's worst-reconstructed region.
 */
export function topPositionWeights(errors: Float32Array, positions: number, fraction: number): Float32Array {
  const k = Math.max(1, Math.min(positions, Math.round(fraction * positions)));
  const out = new Float32Array(errors.length);
  for (let o = 0; o < errors.length; o += positions) {
    const row = errors.subarray(o, o + positions);
    const order = Array.from({ length: positions }, (_, i) => i).sort((a, b) => row[b]! - row[a]!);
    for (let j = 0; j < k; j++) out[o + order[j]!] = 1 / k;
  }
  return out;
}

/** Mean over samples of the mean of each sample's top `fraction` of position errors. */
export function meanTopError(errors: Float32Array, positions: number, fraction: number): number {
  const w = topPositionWeights(errors, positions, fraction);
  let s = 0;
  for (let i = 0; i < errors.length; i++) s += errors[i]! * w[i]!;
  return s / Math.max(1, errors.length / positions);
}

/**
 * Per-sample mean of the top `fraction` of each row of `errors` (N, P): the statistic a top-k image
 * score reads. Which positions count is read off the current values (a constant, no gradient
 * through the choice); the gradient flows through the chosen errors.
 */
export function topFractionErrors(errors: tf.Tensor2D, fraction: number): tf.Tensor1D {
  const [n, p] = errors.shape;
  const weights = topPositionWeights(errors.dataSync() as Float32Array, p, fraction);
  return tf.sum(tf.mul(errors, tf.tensor2d(weights, [n, p])), 1) as tf.Tensor1D;
}

function mirror(image: Image, flipRows: boolean, flipColumns: boolean): Image {
  const { height, width, channels } = image;
  const data = new Float32Array(image.data.length);
  for (let y = 0; y < height; y++) {
    const sy = flipRows ? height - 1 - y : y;
    for (let x = 0; x < width; x++) {
      const sx = flipColumns ? width - 1 - x : x;
      const from = (sy * width + sx) * channels;
      data.set(image.data.subarray(from, from + channels), (y * width + x) * channels);
    }
  }
  return { height, width, channels, data };
}

/**
 * The labelled anomalies followed by their three mirror images (left-right, up-down, both). A defect stays a
 * defect when mirrored, and four views of each of a handful of labels keep the push term from
 * fitting their exact pixels (with two labels it otherwise learns those two images, not defects).
 * Masks are not carried over (training does not read them).
 */
export function withMirrorImages(samples: readonly ImageSample[]): ImageSample[] {
  // Views grouped by kind (all originals, then all left-right mirrors, ...), so that consecutive
  // anomalies in a training batch are different images rather than views of one.
  const views = (flipRows: boolean, flipColumns: boolean, what: string): ImageSample[] =>
    samples.map((s) => ({ ...s, image: mirror(s.image, flipRows, flipColumns), source: `${s.source} (${what})`, mask: null }));
  return [...samples, ...views(false, true, 'mirrored left-right'), ...views(true, false, 'mirrored up-down'), ...views(true, true, 'rotated 180°')];
}
