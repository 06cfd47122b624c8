/**
 * `Conv2DBackpropFilter` for the wasm backend, which TF.js 4.22 lacks (training any conv net on
 * wasm fails without it).
 *
 * dW[ky, kx, ci, co] = Σ_{n, oy, ox} x[n, oy·s + ky − padTop, ox·s + kx − padLeft, ci] · dy[n, oy, ox, co]
 *
 * Formulation: im2col of x, then one GEMM on XNNPACK's fully-connected kernel (K = kH·kW·Ci,
 * P = N·outH·outW). The wasm BatchMatMul reaches XNNPACK only without transpose flags, and XNNPACK
 * packs its `b` operand ("weights") on every call at a cost comparable to the GEMM itself for these
 * shapes, so the orientation packs the smaller of the two P-long operands:
 *   - K > Co:  dW (K, Co)  = colsT (K, P) × dy (P, Co)           (packs P·Co)
 *   - K ≤ Co:  dWᵀ (Co, K) = dyT (Co, P) × cols (P, K), then transpose  (packs P·K)
 * Large batches are split into chunks whose partial filters are summed, bounding the im2col buffer
 * to kernelLimits.maxColsFloats.
 */

import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import {
  allocF32,
  assertFloat32,
  assertShape,
  convGeometry,
  free,
  heapF32,
  imagesPerChunk,
  matMul,
  MIN_BLOCK_COPY,
  RunCopier,
  runWasmKernel,
  type ConvGeometry,
  type ConvGradAttrs,
  type Shape4,
} from './wasm_util.js';

const KERNEL = 'Conv2DBackpropFilter';

interface BackpropFilterAttrs extends ConvGradAttrs {
  filterShape: Shape4;
}

/**
 * cols (P, K) for images [n0, n1): row p = (n, oy, ox) holds the kH×kW×Ci patch of x under output
 * pixel p, zeros where the patch hangs over the padding. Each (p, ky) row of the patch is a
 * contiguous kW·Ci run of x when it does not touch the left/right border.
 */
function im2col(x: Float32Array, g: ConvGeometry, n0: number, n1: number, cols: Float32Array): void {
  const { inH, inW, inC, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const span = kW * inC;
  const copier = span >= MIN_BLOCK_COPY ? new RunCopier(x, cols) : null;
  let dst = 0;
  for (let n = n0; n < n1; n++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * strideW - padLeft;
        const interior = ix0 >= 0 && ix0 + kW <= inW;
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * strideH + ky - padTop;
          if (iy < 0 || iy >= inH) {
            cols.fill(0, dst, dst + span);
            dst += span;
            continue;
          }
          const rowBase = (n * inH + iy) * inW;
          if (interior) {
            const src = (rowBase + ix0) * inC;
            if (copier !== null) {
              copier.copy(src, dst, span);
            } else {
              for (let i = 0; i < span; i++) cols[dst + i] = x[src + i];
            }
            dst += span;
            continue;
          }
          for (let kx = 0; kx < kW; kx++) {
            const ix = ix0 + kx;
            if (ix < 0 || ix >= inW) {
              for (let c = 0; c < inC; c++) cols[dst + c] = 0;
            } else {
              const src = (rowBase + ix) * inC;
              for (let c = 0; c < inC; c++) cols[dst + c] = x[src + c];
            }
            dst += inC;
          }
        }
      }
    }
  }
}

/**
 * colsT (K, P) for images [n0, n1) as a new wasm tensor: the natural im2col (block copies of
 * contiguous kW·Ci runs) then XNNPACK's transpose. Measured faster at every channel count than
 * writing colsT directly in JS, whose reads stride through x.
 */
function buildColsT(backend: BackendWasm, x: TensorInfo, g: ConvGeometry, n0: number, n1: number): TensorInfo {
  const cols = buildCols(backend, x, g, n0, n1);
  const colsT = transpose2d(backend, cols);
  free(backend, cols);
  return colsT;
}

/** cols (P, K) for images [n0, n1) as a new wasm tensor. */
function buildCols(backend: BackendWasm, x: TensorInfo, g: ConvGeometry, n0: number, n1: number): TensorInfo {
  const cols = allocF32(backend, [(n1 - n0) * g.outH * g.outW, g.kH * g.kW * g.inC]);
  im2col(heapF32(backend, x), g, n0, n1, heapF32(backend, cols));
  return cols;
}

/** (R, C) -> (C, R) with XNNPACK's transpose, as a new tensor. */
function transpose2d(backend: BackendWasm, t: TensorInfo): TensorInfo {
  return runWasmKernel(backend, 'Transpose', { x: t }, { perm: [1, 0] });
}

/**
 * Rows [n0, n1) of dy as a private (P, Co) tensor. XNNPACK's fully-connected operator is cached
 * per weights tensor id and is shape-blind, so a GEMM's `b` must be a tensor nobody else reuses.
 */
function copyDyRows(backend: BackendWasm, dy: TensorInfo, g: ConvGeometry, n0: number, n1: number): TensorInfo {
  const perImage = g.outH * g.outW * g.outC;
  const out = allocF32(backend, [(n1 - n0) * g.outH * g.outW, g.outC]);
  heapF32(backend, out).set(heapF32(backend, dy).subarray(n0 * perImage, n1 * perImage));
  return out;
}

/** dyT (Co, P) for images [n0, n1); `a` operands are not cached, so the whole of dy is used in place. */
function buildDyT(backend: BackendWasm, dy: TensorInfo, g: ConvGeometry, n0: number, n1: number): TensorInfo {
  if (n0 === 0 && n1 === g.batch) {
    return transpose2d(backend, { dataId: dy.dataId, shape: [g.batch * g.outH * g.outW, g.outC], dtype: 'float32' });
  }
  const rows = copyDyRows(backend, dy, g, n0, n1);
  const dyT = transpose2d(backend, rows);
  free(backend, rows);
  return dyT;
}

/** Filter gradient of images [n0, n1): (K, Co), or (Co, K) when `colsAsWeights`. */
function partialGrad(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, g: ConvGeometry, n0: number, n1: number, colsAsWeights: boolean): TensorInfo {
  if (colsAsWeights) {
    const cols = buildCols(backend, x, g, n0, n1); // (Pc, K), packed by XNNPACK
    const dyT = buildDyT(backend, dy, g, n0, n1); // (Co, Pc)
    const part = matMul(backend, dyT, cols); // (Co, K)
    free(backend, dyT);
    free(backend, cols);
    return part;
  }
  const colsT = buildColsT(backend, x, g, n0, n1); // (K, Pc)
  const dyRows = copyDyRows(backend, dy, g, n0, n1); // (Pc, Co), packed by XNNPACK
  const part = matMul(backend, colsT, dyRows); // (K, Co)
  free(backend, colsT);
  free(backend, dyRows);
  return part;
}

/** The kernel: inputs {x (N, H, W, Ci), dy (N, outH, outW, Co)}, attrs.filterShape (kH, kW, Ci, Co). */
export function conv2DBackpropFilter(args: { inputs: NamedTensorInfoMap; backend: BackendWasm; attrs: BackpropFilterAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs['x']!;
  const dy = inputs['dy']!;
  assertFloat32(KERNEL, 'x', x);
  assertFloat32(KERNEL, 'dy', dy);
  const g = convGeometry(KERNEL, x.shape as Shape4, attrs.filterShape, attrs);
  assertShape(KERNEL, 'dy', dy.shape, [g.batch, g.outH, g.outW, g.outC]);

  const k = g.kH * g.kW * g.inC;
  const filterShape = [g.kH, g.kW, g.inC, g.outC];
  if (g.batch === 0) {
    const zeros = allocF32(backend, filterShape);
    heapF32(backend, zeros).fill(0);
    return zeros;
  }

  const colsAsWeights = k <= g.outC;
  const chunk = imagesPerChunk(g, k);
  let acc: TensorInfo | null = null;
  for (let n0 = 0; n0 < g.batch; n0 += chunk) {
    const part = partialGrad(backend, x, dy, g, n0, Math.min(g.batch, n0 + chunk), colsAsWeights);
    if (acc === null) {
      acc = part;
      continue;
    }
    const sum = heapF32(backend, acc);
    const add = heapF32(backend, part);
    for (let i = 0; i < sum.length; i++) sum[i] += add[i];
    free(backend, part);
  }
  let result = acc!;
  if (colsAsWeights) {
    result = transpose2d(backend, acc!); // (Co, K) -> (K, Co)
    free(backend, acc!);
  }
  // (K, Co) and (kH, kW, Ci, Co) share one row-major layout: relabel, no copy.
  return { dataId: result.dataId, shape: filterShape, dtype: 'float32' };
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
