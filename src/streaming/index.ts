/** Streaming: constant-memory online scoring of one stream with a sliding-window detector. */
export { OnlineScorer, type OnlineNormalise, type OnlinePhase, type OnlinePoint, type OnlineScorerOptions, type OnlineScorerState, type OnlineThreshold } from './online-scorer.js';
export { AnomalyLikelihood, logLikelihood, normalTail, type LikelihoodOptions, type LikelihoodState } from './likelihood.js';
export { RollingRank } from './rolling-quantile.js';
export { RollingMax } from './rolling-max.js';
export { RingBuffer } from './ring-buffer.js';
export { streamScoresBatch, tailError, type StreamScores } from './batch.js';
export { isWindowDetector, type WindowDetector, type WindowModel } from './window-model.js';
export { NAB_DEFAULT_CONFIG, NAB_DEFAULT_SCORER, NAB_PROFILE_NAMES, runNabOnline, scoreNabRows, type NabRunOptions, type NabRunResult, type NabSeriesRun, type NabVariant, type NabVariantResult } from './nab-run.js';
export { detectorWindowEngine, type WindowErrorEngine } from './window-engine.js';
