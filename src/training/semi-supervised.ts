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

/** τ · mean over labelled anomalies of -log(1 - exp(-e/τ)); `errors` (N) are per-sample errors >= 0. */
export function anomalyPushLoss(errors: tf.Tensor1D, tau = 1): tf.Scalar {
  return tf.tidy(() => {
    const t = Math.max(tau, 1e-8);
    // 1 - exp(-e/τ), kept away from 0 so a perfectly reconstructed anomaly gives a finite gradient.
    const pAnomalous = tf.add(tf.sub(1, tf.exp(tf.div(tf.neg(errors), t))), 1e-6);
    return tf.mul(tf.mean(tf.neg(tf.log(pAnomalous))), t) as tf.Scalar;
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
}

/**
 * A training step's loss: the normal batch's loss plus, when there are labelled anomalies, `weight`
 * times the push term on this step's share of them.
 */
export function withAnomalyPush(normalLoss: tf.Scalar, step: number, batchSize: number, anomalies: LabelledAnomalies): tf.Scalar {
  if (anomalies.count === 0 || anomalies.weight === 0) return normalLoss;
  const k = Math.min(anomalies.count, Math.max(1, Math.round(batchSize / 8)));
  const indices = Array.from({ length: k }, (_, i) => (step * k + i) % anomalies.count);
  const tau = anomalies.tau === 'normal-loss' ? normalLoss.dataSync()[0]! : anomalies.tau;
  return tf.add(normalLoss, tf.mul(anomalyPushLoss(anomalies.errors(indices), tau), anomalies.weight)) as tf.Scalar;
}
