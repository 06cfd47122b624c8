/**
 * Where a stream's window errors are computed: the errors (n, W, C) of n raw windows (n, W, C), in
 * one asynchronous call per batch, so that a batch of points costs one engine call, not one per point.
 */
import type { WindowModel } from './window-model.js';

export interface WindowErrorEngine {
  /** For logs and reports, e.g. "onnxruntime [cpu], 1 thread(s)". */
  readonly description: string;
  /** Per-position, per-channel squared errors (n, W, C) of raw windows (n, W, C), as {@link WindowModel.windowErrors}. */
  windowErrors(windows: Float32Array, n: number): Promise<Float32Array>;
}

/**
 * The model's batch path (`windowErrorsBatch`: ONNX Runtime for conv1d-ae / conv1d-vae when their
 * networks were exported), else its synchronous `windowErrors` (TF.js).
 */
export function detectorWindowEngine(model: WindowModel): WindowErrorEngine {
  if (model.windowErrorsBatch) {
    return { description: model.engineDescription ?? 'the model\'s batch path', windowErrors: (windows, n) => model.windowErrorsBatch!(windows, n) };
  }
  return { description: 'tfjs (the detector)', windowErrors: async (windows, n) => model.windowErrors(windows, n) };
}
