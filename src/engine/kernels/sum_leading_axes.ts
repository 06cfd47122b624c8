/**
 * `Sum` for the wasm backend, fast when the reduced axes lead: every conv and dense bias gradient is
 * Σ over (N, H, W) of dy (N, H, W, C), and TF.js' wasm Sum first transposes dy to (C, N·H·W) to make
 * the axes innermost (a full copy with a strided read). Here the rows of the (rows, cols) view are
 * added straight into a float64 accumulator (one sequential pass, and a more exact sum than
 * float32). Any other reduction goes to the original kernel.
 *
 *   out[j] = Σ_{r < rows} x[r · cols + j],  rows = Π shape[0..k), cols = Π shape[k..)
 */
import '@tensorflow/tfjs-backend-wasm'; // the original kernel must be registered before we capture it
import { getKernel, util, type KernelConfig, type KernelFunc, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { VigilError } from '../../core/errors.js';
import { allocF32, heapF32 } from './wasm_util.js';

const KERNEL = 'Sum';

/** TF.js' own wasm Sum, captured when this module loads. */
export const originalSumConfig: KernelConfig | undefined = getKernel(KERNEL, 'wasm');
const original = originalSumConfig;

interface SumAttrs {
  axis: number | number[];
  keepDims: boolean;
}

/** Number of leading axes reduced when `axes` is exactly [0, k) with 0 < k < rank; else 0. */
export function leadingAxes(axes: readonly number[], rank: number): number {
  const sorted = [...axes].sort((a, b) => a - b);
  const k = sorted.length;
  if (k === 0 || k >= rank) return 0;
  return sorted.every((a, i) => a === i) ? k : 0;
}

/** out (cols) = column sums of x viewed as (rows, cols). */
export function sumRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let j = 0; j < cols; j++) acc[j]! += x[base + j]!;
  }
  for (let j = 0; j < cols; j++) out[j] = acc[j]!;
}

export function sum(args: { inputs: NamedTensorInfoMap; backend: BackendWasm; attrs: SumAttrs }): TensorInfo {
  if (original === undefined) throw new VigilError('E_UNSUPPORTED', `wasm kernel '${KERNEL}' was not registered before vigil's replacement loaded`, { kernelName: KERNEL });
  const { inputs, backend, attrs } = args;
  const x = inputs['x']!;
  const rank = x.shape.length;
  const k = x.dtype === 'float32' ? leadingAxes(util.parseAxisParam(attrs.axis, x.shape), rank) : 0;
  if (k === 0) return (original.kernelFunc as unknown as (a: typeof args) => TensorInfo)(args);
  const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const kept = x.shape.slice(k);
  const cols = kept.reduce((a, b) => a * b, 1);
  const out = allocF32(backend, attrs.keepDims ? [...new Array<number>(k).fill(1), ...kept] : kept);
  sumRows(heapF32(backend, x), rows, cols, heapF32(backend, out)); // views taken after the last allocation
  return out;
}

export const sumConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  setupFunc: (backend) => original?.setupFunc?.(backend),
  kernelFunc: sum as unknown as KernelFunc,
};
