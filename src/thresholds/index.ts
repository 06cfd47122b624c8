/**
 * Thresholds: label-free (quantile / target false-positive rate of normal scores, SPOT/DSPOT
 * extreme-value thresholds) and label-based (F1-optimal). All flag a sample iff
 * score >= threshold, except SPOT's streaming alarm rule x > z_q (as in the paper).
 */
export { nextUp, quantile, quantileThreshold, quantiles, thresholdForFalsePositiveRate } from './quantile.js';
export { bestF1Threshold, f1OptimalThreshold, type F1Threshold } from './f1.js';
export {
  fitGpd,
  fitGpdMoments,
  gpdLogLikelihood,
  gpdQuantileThreshold,
  SpotDetector,
  type GpdFit,
  type GpdMethod,
  type SpotOptions,
  type SpotStep,
} from './spot.js';
