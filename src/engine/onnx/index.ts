/**
 * ONNX in vigil: export of TF.js layers models, ONNX Runtime sessions, the engine-neutral
 * `InferenceEngine`, a detector's networks as engines with their exports saved beside the weights,
 * and the description of external ONNX models.
 */
export { exportLayersModel, type ExportedModel, type ExportOptions, type OnnxTensorSpec } from './export.js';
export { exportableLayerClasses, SUPPORTED_ACTIVATIONS } from './convert/index.js';
export { OrtEngine, TfjsEngine, type EngineKind, type InferenceEngine } from './engine.js';
export { loadOrt, OrtSession, type FloatTensor, type OrtSessionInfo, type OrtValueInfo } from './runtime.js';
export {
  EXECUTION_PROVIDERS,
  INFERENCE_BACKENDS,
  inferenceDefaults,
  resolveInferenceOptions,
  type ExecutionProvider,
  type InferenceBackend,
  type InferenceOptions,
} from './options.js';
export {
  compareEngines,
  EXPORT_CHECK_TOLERANCE,
  NetworkEngines,
  ONNX_STATE_VERSION,
  type EngineReport,
  type ExportNetworksOptions,
  type OnnxNetworkEntry,
  type OnnxNetworksState,
} from './networks.js';
export {
  checkAgainstModel,
  externalInputSchema,
  externalOutputSchema,
  mapsFromOutput,
  prepareInput,
  scoresFromOutput,
  toNhwc,
  type ExternalInputSpec,
  type ExternalModelSpec,
  type ExternalOutputSpec,
  type InputScaling,
  type OutputKind,
  type TensorLayout,
} from './external.js';
