/**
 * A fused LeakyReLU gradient. TF.js' gradient is where(greater(x, 0), dy, mul(dy, alpha)): three
 * kernels, two full-size temporaries, and on wasm a broadcasting Greater and a Select that together
 * cost ~10x a plain pass (they were 11% of a reference-autoencoder training step). Here one kernel,
 * `VigilLeakyReluGrad`, does
 *
 *   dx[i] = x[i] > 0 ? dy[i] : alpha · dy[i]
 *
 * in one pass for wasm (on the heap) and cpu, and the LeakyRelu gradient calls it where it is
 * registered for the active backend (TF.js' formula elsewhere). Values are identical to TF.js'
 * formula. The kernel has its own gradient (linear in dy, zero in x), so higher-order gradients work.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

import { VigilError } from '../../core/errors.js';
import { allocF32, heapF32 } from './wasm_util.js';

export const LEAKY_RELU_GRAD = 'VigilLeakyReluGrad';

interface Attrs {
  alpha: number;
}

/**
 * dx = x > 0 ? dy : alpha · dy, element-wise. Branch-free (dy · (a + (1 − a)·[x > 0])): the signs of
 * x are random, and a branch mispredicts every other element (3.7x slower). With a = fround(alpha)
 * both factors are exact, so the values equal TF.js' float32 where(x > 0, dy, dy · alpha) bit for bit.
 */
export function leakyReluGradValues(dy: Float32Array, x: Float32Array, alpha: number, dx: Float32Array): void {
  const a = Math.fround(alpha);
  const b = 1 - a;
  for (let i = 0; i < dy.length; i++) dx[i] = dy[i]! * (a + b * +(x[i]! > 0));
}

function checkInputs(inputs: NamedTensorInfoMap): { dy: TensorInfo; x: TensorInfo } {
  const dy = inputs['dy']!;
  const x = inputs['x']!;
  if (dy.dtype !== 'float32' || x.dtype !== 'float32') {
    throw new VigilError('E_UNSUPPORTED', `${LEAKY_RELU_GRAD}: dy is ${dy.dtype} and x ${x.dtype}, only float32 is supported`, { kernel: LEAKY_RELU_GRAD });
  }
  if (dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== x.shape[i])) {
    throw new VigilError('E_SHAPE', `${LEAKY_RELU_GRAD}: dy [${dy.shape.join(', ')}] and x [${x.shape.join(', ')}] differ`, { kernel: LEAKY_RELU_GRAD });
  }
  return { dy, x };
}

function wasmKernel(args: { inputs: NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs }): TensorInfo {
  const { dy, x } = checkInputs(args.inputs);
  const out = allocF32(args.backend, [...dy.shape]);
  leakyReluGradValues(heapF32(args.backend, dy), heapF32(args.backend, x), args.attrs.alpha, heapF32(args.backend, out));
  return out;
}

function cpuKernel(args: { inputs: NamedTensorInfoMap; backend: MathBackendCPU; attrs: Attrs }): TensorInfo {
  const { dy, x } = checkInputs(args.inputs);
  const b = args.backend;
  const out = new Float32Array(tf.util.sizeFromShape(dy.shape));
  leakyReluGradValues(b.data.get(dy.dataId)!.values as Float32Array, b.data.get(x.dataId)!.values as Float32Array, args.attrs.alpha, out);
  return b.makeTensorInfo([...dy.shape], 'float32', out);
}

export const leakyReluGradWasmConfig: KernelConfig = { kernelName: LEAKY_RELU_GRAD, backendName: 'wasm', kernelFunc: wasmKernel as unknown as KernelFunc };
export const leakyReluGradCpuConfig: KernelConfig = { kernelName: LEAKY_RELU_GRAD, backendName: 'cpu', kernelFunc: cpuKernel as unknown as KernelFunc };

function fusedAvailable(dy: tf.Tensor, x: tf.Tensor): boolean {
  return dy.dtype === 'float32' && x.dtype === 'float32' && tf.getKernel(LEAKY_RELU_GRAD, tf.getBackend()) !== undefined;
}

function runFused(dy: tf.Tensor, x: tf.Tensor, alpha: number): tf.Tensor {
  return tf.engine().runKernel(LEAKY_RELU_GRAD, { dy, x }, { alpha } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** The LeakyRelu gradient: the fused kernel where registered, TF.js' own formula otherwise. */
export const leakyReluGradientConfig: GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const g = dy as tf.Tensor;
    const [x] = saved as [tf.Tensor];
    const { alpha } = attrs as unknown as Attrs;
    if (fusedAvailable(g, x)) return { x: () => runFused(g, x, alpha) };
    return { x: () => tf.where(tf.greater(x, 0), g, tf.mul(g, alpha)) };
  },
};

/** Gradient of the fused kernel itself: d/d(dy) applies the same mask, d/dx is zero almost everywhere. */
export const leakyReluGradGradientConfig: GradConfig = {
  kernelName: LEAKY_RELU_GRAD,
  inputsToSave: ['x'],
  gradFunc: (ddx, saved, attrs) => {
    const g = ddx as tf.Tensor;
    const [x] = saved as [tf.Tensor];
    const { alpha } = attrs as unknown as Attrs;
    return { dy: () => runFused(g, x, alpha), x: () => tf.zerosLike(x) };
  },
};
