/**
 * `LeakyRelu` for the wasm backend, branch-free in JS: TF.js 4.22's C kernel branches on the sign
 * of each element, which mispredicts on every other activation of a trained layer (random signs);
 * this one computes y = x · (a + (1 − a)·[x > 0]) in one pass, about 2x faster. With
 * a = fround(alpha) the values equal TF.js' float32 `x < 0 ? alpha · x : x` bit for bit (NaN and −0
 * included). Non-float32 inputs go to the original kernel.
 */
import '@tensorflow/tfjs-backend-wasm'; // the original kernel must be registered before we capture it
import { getKernel, type KernelConfig, type KernelFunc, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { VigilError } from '../../core/errors.js';
import { allocF32, heapF32 } from './wasm_util.js';

const KERNEL = 'LeakyRelu';

/** TF.js' own wasm LeakyRelu, captured when this module loads. */
export const originalLeakyReluConfig: KernelConfig | undefined = getKernel(KERNEL, 'wasm');

/** y = x > 0 ? x : alpha · x, element-wise, without branches. */
export function leakyReluValues(x: Float32Array, alpha: number, y: Float32Array): void {
  const a = Math.fround(alpha);
  const b = 1 - a;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = v * (a + b * +(v > 0));
  }
}

export function leakyRelu(args: { inputs: NamedTensorInfoMap; backend: BackendWasm; attrs: { alpha: number } }): TensorInfo {
  const x = args.inputs['x']!;
  if (x.dtype !== 'float32') {
    if (originalLeakyReluConfig === undefined) throw new VigilError('E_UNSUPPORTED', `wasm kernel '${KERNEL}' was not registered before vigil's replacement loaded`, { kernelName: KERNEL });
    return (originalLeakyReluConfig.kernelFunc as unknown as (a: typeof args) => TensorInfo)(args);
  }
  const out = allocF32(args.backend, [...x.shape]);
  leakyReluValues(heapF32(args.backend, x), args.attrs.alpha, heapF32(args.backend, out));
  return out;
}

export const leakyReluConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  setupFunc: (backend) => originalLeakyReluConfig?.setupFunc?.(backend),
  kernelFunc: leakyRelu as unknown as KernelFunc,
};
