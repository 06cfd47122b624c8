/** Registers every built-in detector with the registry (import for its side effect). */
export { convAeFactory, convVaeFactory } from './conv-ae/detector.js';
export { conv1dAeFactory, conv1dVaeFactory } from './conv1d-ae/detector.js';
export { tabularAeFactory } from './tabular-ae/detector.js';
export { padimFactory } from './padim/detector.js';
export { patchcoreFactory } from './patchcore/detector.js';
export { onnxExternalFactory } from './onnx-external/index.js';
export { featureAeFactory } from './feature-ae/detector.js';
