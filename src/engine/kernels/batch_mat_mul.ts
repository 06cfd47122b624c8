/**
 * `BatchMatMul` for the wasm backend with transposed operands on XNNPACK. TF.js 4.22's wasm kernel
 * sends only the untransposed form to XNNPACK's GEMM; with transposeA or transposeB it runs a naive
 * loop (~0.5 GFLOP/s measured on the reference autoencoder). Every Dense layer's backward pass
 * takes that path twice:
 *   dX (N, in)    = dY (N, units) × Wᵀ         (transposeB)
 *   dW (in, units) = Xᵀ × dY (N, units)        (transposeA)
 * Here a transposed operand (rank 2, or rank 3 with batch 1) is transposed explicitly with XNNPACK's
 * Transpose (a copy of one operand, ~1 ms for a 128 x 3136 matrix) and the product runs untransposed.
 * Other cases (batched products) go to the original kernel unchanged.
 */
import '@tensorflow/tfjs-backend-wasm'; // the original kernel must be registered before we capture it
import { getKernel, type KernelConfig, type KernelFunc, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { VigilError } from '../../core/errors.js';
import { free, runWasmKernel } from './wasm_util.js';

const KERNEL = 'BatchMatMul';

/** TF.js' own wasm BatchMatMul, captured when this module loads (before anything replaces it). */
export const originalBatchMatMulConfig: KernelConfig | undefined = getKernel(KERNEL, 'wasm');
const original = originalBatchMatMulConfig;

interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Batch size of a rank-2 (1) or rank-3 operand. */
function batchOf(t: TensorInfo): number {
  return t.shape.length === 2 ? 1 : t.shape.slice(0, -2).reduce((a, b) => a * b, 1);
}

/** (R, C) → (C, R) as a new tensor; a batch-1 rank-3 operand is viewed as rank 2. */
function transposed(backend: BackendWasm, t: TensorInfo): TensorInfo {
  const [r, c] = t.shape.slice(-2) as [number, number];
  return runWasmKernel(backend, 'Transpose', { x: { dataId: t.dataId, shape: [r, c], dtype: t.dtype } }, { perm: [1, 0] });
}

export function batchMatMul(args: { inputs: NamedTensorInfoMap; backend: BackendWasm; attrs: BatchMatMulAttrs }): TensorInfo {
  if (original === undefined) throw new VigilError('E_UNSUPPORTED', `wasm kernel '${KERNEL}' was not registered before vigil's replacement loaded`, { kernelName: KERNEL });
  const { inputs, backend, attrs } = args;
  const a = inputs['a']!;
  const b = inputs['b']!;
  const call = original.kernelFunc as unknown as (x: typeof args) => TensorInfo;
  const rank2able = (t: TensorInfo) => t.shape.length >= 2 && t.shape.length <= 3 && batchOf(t) === 1;
  if ((!attrs.transposeA && !attrs.transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32' || !rank2able(a) || !rank2able(b)) {
    return call(args);
  }
  const ta = attrs.transposeA ? transposed(backend, a) : a;
  const tb = attrs.transposeB ? transposed(backend, b) : b;
  try {
    const out = call({ inputs: { a: ta, b: tb }, backend, attrs: { transposeA: false, transposeB: false } });
    // Rank-3 batch-1 inputs give a rank-3 result, as the original kernel would.
    const rank = Math.max(a.shape.length, b.shape.length);
    const [m, n] = out.shape.slice(-2) as [number, number];
    return { dataId: out.dataId, shape: rank === 3 ? [1, m, n] : [m, n], dtype: out.dtype };
  } finally {
    if (ta !== a) free(backend, ta);
    if (tb !== b) free(backend, tb);
  }
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  // Binds the original's C function too, whichever of the two is registered at wasm initialisation.
  setupFunc: (backend) => original?.setupFunc?.(backend),
  kernelFunc: batchMatMul as unknown as KernelFunc,
};
