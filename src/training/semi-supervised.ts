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
