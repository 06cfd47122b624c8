/** The 'onnx' detector: an ONNX image model trained elsewhere, served on ONNX Runtime. */
export { onnxExternalFactory, MODEL_FILE, type OnnxExternalConfig } from './detector.js';
