/** vigil's public API: re-exports only. */
export * from './core/errors.js';
export type * from './core/types.js';
export { BaseDetector, getDetectorFactory, listDetectors, loadDetector, registerDetector, type Detector, type DetectorFactory, type DetectorSummary } from './core/detector.js';
export { readManifest, readModelDir, writeModelDir, type Manifest } from './core/model-store.js';
export { initEngine, engineInfo } from './engine/backend.js';
export { PostProcessor, type ThresholdSpec } from './scoring/postprocess.js';
export { aggregateMap, gaussianBlur, resizeBilinear } from './scoring/maps.js';
export { evaluateScores, classificationFigures, type Evaluation } from './pipeline/evaluate.js';
export * from './data/index.js';
export * from './metrics/index.js';
export * from './thresholds/index.js';
import './models/index.js';
import './pipeline/adapters.js';
