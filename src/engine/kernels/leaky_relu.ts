/**
 * `LeakyRelu` for the wasm backend on XNNPACK's PReLU. TF.js 4.22's wasm LeakyRelu is a scalar C
 * loop (~2 ms for a 128x14x14x32 activation); the wasm Prelu kernel runs XNNPACK's vectorised PReLU
 * (~0.15 ms, 14x faster, measured). LeakyReLU is PReLU with every channel's slope = alpha, so this
 * kernel passes x with a (C) slope tensor filled with alpha, C = x's last dimension:
 *
 *   y[..., c] = x[..., c] < 0 ? alpha · x[..., c] : x[..., c]     (XNNPACK: signbit(x) ? x·w[c] : x)
 *
 * Values equal TF.js' wasm LeakyRelu (float32 alpha) bit for bit, NaN included, except that −0
 * comes out as +0. The gradient is untouched (registered by kernel name, see leaky_relu_gradient.ts).
 */
import '@tensorflow/tfjs-backend-wasm'; // the original kernel must be registered before we capture it
import { getKernel, util, type KernelConfig, type KernelFunc, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { VigilError } from '../../core/errors.js';
import { allocF32, free, heapF32, runWasmKernel } from './wasm_util.js';

const KERNEL = 'LeakyRelu';

/** TF.js' own wasm LeakyRelu, captured when this module loads. */
export const originalLeakyReluConfig: KernelConfig | undefined = getKernel(KERNEL, 'wasm');

export function leakyRelu(args: { inputs: NamedTensorInfoMap; backend: BackendWasm; attrs: { alpha: number } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs['x']!;
  const channels = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1]!;
  if (x.dtype !== 'float32' || channels === 0 || util.sizeFromShape(x.shape) === 0) {
    if (originalLeakyReluConfig === undefined) throw new VigilError('E_UNSUPPORTED', `wasm kernel '${KERNEL}' was not registered before vigil's replacement loaded`, { kernelName: KERNEL });
    return (originalLeakyReluConfig.kernelFunc as unknown as (a: typeof args) => TensorInfo)(args);
  }
  const slope = allocF32(backend, [channels]);
  heapF32(backend, slope).fill(attrs.alpha);
  try {
    return runWasmKernel(backend, 'Prelu', { x, alpha: slope }, {});
  } finally {
    free(backend, slope); // also drops XNNPACK's operator cached for this slope tensor
  }
}

export const leakyReluConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  setupFunc: (backend) => originalLeakyReluConfig?.setupFunc?.(backend),
  kernelFunc: leakyRelu as unknown as KernelFunc,
};
