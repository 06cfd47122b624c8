/**
 * vigil's kernels for the TF.js wasm backend: the missing `Conv2DBackpropFilter` and a faster
 * `Conv2DBackpropInput`. Registration goes into TF.js' global kernel registry, so it affects every
 * tfjs-core copy in the process (tfjs-layers' bundled one included).
 */

import '@tensorflow/tfjs-backend-wasm'; // wasm's own kernels must be registered before we replace one
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';

import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter.js';
import { conv2DBackpropInputConfig } from './conv2d_backprop_input.js';

export { setBackpropInputPath, type BackpropInputPath } from './conv2d_backprop_input.js';
export { kernelLimits } from './wasm_util.js';

const VIGIL_KERNELS: readonly KernelConfig[] = [conv2DBackpropFilterConfig, conv2DBackpropInputConfig];

/** wasm kernels that vigil replaced, by kernel name (kept for benchmarks and fallbacks). */
const replaced = new Map<string, KernelConfig>();

/**
 * Registers vigil's wasm kernels, replacing TF.js' own where one exists. Idempotent: a kernel that
 * is already vigil's is left alone, so repeated calls neither warn nor re-register.
 */
export function registerVigilKernels(): void {
  for (const config of VIGIL_KERNELS) {
    const existing = getKernel(config.kernelName, config.backendName);
    if (existing === config) continue;
    if (existing !== undefined) {
      replaced.set(config.kernelName, existing);
      unregisterKernel(config.kernelName, config.backendName);
    }
    registerKernel(config);
  }
}

/** Names of the kernels vigil registers for 'wasm'. */
export function vigilKernelNames(): string[] {
  return VIGIL_KERNELS.map((k) => k.kernelName);
}

/** True when every vigil kernel is the one currently registered for 'wasm'. */
export function vigilKernelsRegistered(): boolean {
  return VIGIL_KERNELS.every((k) => getKernel(k.kernelName, k.backendName) === k);
}

/**
 * The TF.js wasm kernel that vigil replaced for `kernelName` (undefined if none was replaced).
 * If the wasm backend was initialised after the replacement, run its `setupFunc(backend)` before
 * calling `kernelFunc`: TF.js only sets up kernels that are registered at initialisation.
 */
export function replacedWasmKernel(kernelName: string): KernelConfig | undefined {
  return replaced.get(kernelName);
}
