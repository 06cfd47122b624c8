/**
 * The term that makes a reconstruction model use the labelled anomalies it is given: the
 * autoencoding binary classifier loss (Yamanaka et al., 2019). Reading exp(-e) as the probability
 * that a sample with reconstruction error e is normal, a labelled anomaly costs -log(1 - exp(-e)):
 * large while its error is small, vanishing as the error grows, so it pushes anomalies' errors up
 * without rewarding an unbounded blow-up. Normal samples keep their plain error e.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Mean over labelled anomalies of -log(1 - exp(-e)); `errors` (N) are per-sample errors >= 0. */
export function anomalyPushLoss(errors: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    // 1 - exp(-e), kept away from 0 so a perfectly reconstructed anomaly gives a finite gradient.
    const pAnomalous = tf.add(tf.sub(1, tf.exp(tf.neg(errors))), 1e-6);
    return tf.mean(tf.neg(tf.log(pAnomalous))) as tf.Scalar;
  });
}
