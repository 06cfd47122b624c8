/**
 * Evaluation metrics: classification at a threshold, ranking (ROC/PR), pixel-level (AUROC, PRO),
 * connected components, time-series (point-wise, point-adjusted, range-based) and NAB scoring.
 * Every function validates its input and throws VigilError (E_EMPTY / E_SHAPE / E_VALUE /
 * E_CONFIG) naming the offending argument.
 */
export {
  accuracy,
  binarize,
  classificationMetrics,
  confusionAtThreshold,
  confusionMatrix,
  falsePositiveRate,
  metricsFromCounts,
  precisionRecallF1,
  precisionRecallF1FromCounts,
  type ClassificationMetrics,
  type ConfusionMatrix,
  type PrecisionRecallF1,
} from './classification.js';
export { auprc, auroc, averagePrecision, prCurve, rocCurve, type PrCurve, type RocCurve } from './ranking.js';
export {
  pixelAuroc,
  pixelAurocDetailed,
  pro,
  proDetailed,
  type PixelAurocResult,
  type PixelMethod,
  type PixelMetricOptions,
  type ProOptions,
  type ProResult,
} from './pixel.js';
export {
  connectedComponents,
  labelComponents,
  type ComponentInfo,
  type ComponentLabels,
  type Connectivity,
  type LabelledComponents,
} from './components.js';
export {
  extractSegments,
  pointAdjust,
  pointAdjustedPrecisionRecallF1,
  pointwisePrecisionRecallF1,
  rangePrecisionRecallF1,
  rangePrecisionRecallF1FromPredictions,
  type CardinalityFactor,
  type PositionalBias,
  type RangeMetrics,
  type RangeOptions,
  type Segment,
} from './timeseries.js';
export {
  NAB_PROFILES,
  nabProbationaryLength,
  nabScaledSigmoid,
  scoreNabCorpus,
  scoreNabSeries,
  type NabCorpusResult,
  type NabOptions,
  type NabProfile,
  type NabProfileName,
  type NabSeries,
  type NabSeriesResult,
} from './nab.js';
