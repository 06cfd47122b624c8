/**
 * Kernels and gradients that speed up training on the wasm backend (see each file):
 *  - BatchMatMul with transposed operands on XNNPACK (Dense backward passes),
 *  - LeakyRelu on XNNPACK's PReLU (forward),
 *  - the LeakyRelu gradient as dy · step(x, alpha) (backward, every backend).
 *
 * `registerTrainingKernels()` is idempotent; call it once the wasm backend is initialised (the
 * replacements also bind the originals' C functions in their setup, so the order is not critical).
 */
import { getGradient, getKernel, registerGradient, registerKernel, unregisterKernel, type GradConfig, type KernelConfig } from '@tensorflow/tfjs-core';

import { batchMatMulConfig, originalBatchMatMulConfig } from './batch_mat_mul.js';
import { leakyReluConfig, originalLeakyReluConfig } from './leaky_relu.js';
import { leakyReluGradientConfig } from './leaky_relu_gradient.js';

export const TRAINING_KERNELS: readonly KernelConfig[] = [batchMatMulConfig, leakyReluConfig];
export const TRAINING_GRADIENTS: readonly GradConfig[] = [leakyReluGradientConfig];

/** Registers the kernels (replacing wasm's BatchMatMul and LeakyRelu) and gradients above; repeated calls do nothing. */
export function registerTrainingKernels(): void {
  for (const config of TRAINING_KERNELS) {
    const existing = getKernel(config.kernelName, config.backendName);
    if (existing === config) continue;
    if (existing !== undefined) unregisterKernel(config.kernelName, config.backendName);
    registerKernel(config);
  }
  for (const config of TRAINING_GRADIENTS) {
    const existing = getGradient(config.kernelName);
    if (existing === config) continue;
    if (config === leakyReluGradientConfig && existing !== undefined) originalLeakyReluGradient ??= existing;
    registerGradient(config);
  }
}

/** TF.js' LeakyRelu gradient, kept on first registration so benchmarks can compare. */
let originalLeakyReluGradient: GradConfig | null = null;

/**
 * Restores TF.js' own BatchMatMul, LeakyRelu and LeakyRelu gradient, for before/after benchmarks;
 * `registerTrainingKernels()` turns them on again.
 */
export function unregisterTrainingKernels(): void {
  for (const [mine, theirs] of [
    [batchMatMulConfig, originalBatchMatMulConfig],
    [leakyReluConfig, originalLeakyReluConfig],
  ] as const) {
    if (getKernel(mine.kernelName, mine.backendName) !== mine || theirs === undefined) continue;
    unregisterKernel(mine.kernelName, mine.backendName);
    registerKernel(theirs);
  }
  if (originalLeakyReluGradient && getGradient('LeakyRelu') === leakyReluGradientConfig) registerGradient(originalLeakyReluGradient);
}

/** True when every kernel and gradient above is the one registered now. */
export function trainingKernelsRegistered(): boolean {
  return TRAINING_KERNELS.every((k) => getKernel(k.kernelName, k.backendName) === k) && TRAINING_GRADIENTS.every((g) => getGradient(g.kernelName) === g);
}
