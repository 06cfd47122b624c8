/**
 * Shared plumbing for vigil's wasm kernels: typed access to the wasm backend's heap, calling the
 * backend's own (XNNPACK) kernels directly, and conv geometry parsing with vigil errors.
 *
 * Heap rule: any allocation (makeOutput, another kernel, XNNPACK weight packing) may grow the wasm
 * memory, which detaches every Float32Array view taken before it. Take views with `heapF32` only
 * after the last allocation of a step, and never keep them across kernel calls.
 */

import { backend_util, getKernel, type DataType, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { VigilError } from '../../core/errors.js';

export type Shape4 = [number, number, number, number];

/** Float32 view of a wasm tensor's memory (see the heap rule above). */
export function heapF32(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** Runs of at least this many floats are copied with `RunCopier`; shorter ones with a JS loop. */
export const MIN_BLOCK_COPY = 16;

/**
 * Copies runs of floats from `src` to `dst`. When both view one buffer (the wasm heap), it uses
 * `copyWithin` on a whole-buffer view: a memmove with no allocation, 2-4x faster than a JS loop
 * from ~16 floats and well ahead of `set(subarray)`, which allocates a view per run.
 */
export class RunCopier {
  private readonly heap: Float32Array | null;
  private readonly srcBase: number;
  private readonly dstBase: number;

  constructor(
    private readonly src: Float32Array,
    private readonly dst: Float32Array,
  ) {
    const shared = src.buffer === dst.buffer;
    this.heap = shared ? new Float32Array(src.buffer) : null;
    this.srcBase = src.byteOffset >> 2;
    this.dstBase = dst.byteOffset >> 2;
  }

  /** dst[dstIdx .. dstIdx + len) = src[srcIdx .. srcIdx + len). */
  copy(srcIdx: number, dstIdx: number, len: number): void {
    if (this.heap !== null) {
      const from = this.srcBase + srcIdx;
      this.heap.copyWithin(this.dstBase + dstIdx, from, from + len);
    } else {
      this.dst.set(this.src.subarray(srcIdx, srcIdx + len), dstIdx);
    }
  }
}

/** Allocates an uninitialised (malloc'd, not zeroed) float32 tensor on the wasm heap. */
export function allocF32(backend: BackendWasm, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32' as DataType);
}

/** Frees a tensor that this kernel allocated and does not return. */
export function free(backend: BackendWasm, t: TensorInfo): void {
  backend.disposeData(t.dataId);
}

/**
 * Runs another kernel registered for 'wasm' (e.g. XNNPACK's BatchMatMul or Conv2D) directly on
 * TensorInfos, bypassing the engine: no tape, no tracking. The caller owns the result.
 */
export function runWasmKernel(backend: BackendWasm, kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo {
  const config = getKernel(kernelName, 'wasm');
  if (config === undefined) {
    throw new VigilError('E_UNSUPPORTED', `wasm kernel '${kernelName}' is not registered; was the wasm backend imported?`, { kernelName });
  }
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) {
    throw new VigilError('E_UNSUPPORTED', `wasm kernel '${kernelName}' returned ${out.length} outputs, expected 1`, { kernelName });
  }
  return out;
}

/**
 * out(M, N) = a(M, K) × b(K, N) with the wasm BatchMatMul. Only the untransposed, batch-1 form
 * reaches XNNPACK's fully-connected GEMM; every transposed variant falls back to a naive loop
 * (~2 GFLOP/s), so callers lay data out to avoid transposes. XNNPACK packs `b` once per tensor id,
 * so `b` should be the smaller operand.
 */
export function matMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo): TensorInfo {
  return runWasmKernel(backend, 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
}

/** Conv geometry shared by the conv gradient kernels, after validation. */
export interface ConvGeometry {
  readonly batch: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  /** Rows/columns of implicit zero padding before the first input row/column. */
  readonly padTop: number;
  readonly padLeft: number;
  readonly padBottom: number;
  readonly padRight: number;
}

/** The attributes core passes to Conv2DBackpropInput / Conv2DBackpropFilter. */
export interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: [number, number] | number;
}

/**
 * Validates the attributes (NHWC only, dilation 1) and resolves padding and output size exactly as
 * core does, so our kernels agree with every other backend on 'same'/'valid'/explicit padding.
 * `kernel` names the caller in error messages.
 */
export function convGeometry(kernel: string, inShape: Shape4, filterShape: Shape4, attrs: ConvGradAttrs): ConvGeometry {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new VigilError('E_UNSUPPORTED', `${kernel}: dataFormat '${attrs.dataFormat}' is not supported on wasm, use 'NHWC'`, { kernel, dataFormat: attrs.dataFormat });
  }
  const dil = attrs.dilations ?? 1;
  const [dh, dw] = typeof dil === 'number' ? [dil, dil] : dil;
  if (dh !== 1 || dw !== 1) {
    throw new VigilError('E_UNSUPPORTED', `${kernel}: dilations [${dh}, ${dw}] are not supported, only 1`, { kernel, dilations: [dh, dw] });
  }
  // A batch of 0 is legal (empty tensors); every other dimension must be positive.
  const badDims = (shape: readonly number[], minFirst: number): boolean =>
    shape.length !== 4 || shape.some((d, i) => !Number.isInteger(d) || d < (i === 0 ? minFirst : 1));
  if (badDims(inShape, 0)) {
    throw new VigilError('E_SHAPE', `${kernel}: input shape [${inShape.join(', ')}] must be (N, H, W, C) with H, W, C >= 1`, { kernel, inShape });
  }
  if (badDims(filterShape, 1)) {
    throw new VigilError('E_SHAPE', `${kernel}: filter shape [${filterShape.join(', ')}] must be (kH, kW, Ci, Co), all >= 1`, { kernel, filterShape });
  }
  if (inShape[3] !== filterShape[2]) {
    throw new VigilError('E_SHAPE', `${kernel}: input has ${inShape[3]} channels but filter [${filterShape.join(', ')}] expects ${filterShape[2]}`, {
      kernel,
      inShape,
      filterShape,
    });
  }
  const info = backend_util.computeConv2DInfo(inShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  if (info.outHeight < 1 || info.outWidth < 1) {
    throw new VigilError('E_SHAPE', `${kernel}: filter ${info.filterHeight}x${info.filterWidth} does not fit input ${info.inHeight}x${info.inWidth} with this padding`, {
      kernel,
      inShape,
      filterShape,
    });
  }
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    padBottom: info.padInfo.bottom,
    padRight: info.padInfo.right,
  };
}

/** Throws E_SHAPE unless `actual` equals `expected` (e.g. dy against the conv's output shape). */
export function assertShape(kernel: string, what: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new VigilError('E_SHAPE', `${kernel}: ${what} has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`, {
      kernel,
      actual: [...actual],
      expected: [...expected],
    });
  }
}

/** Throws E_UNSUPPORTED unless the tensor is float32 (XNNPACK paths are float-only). */
export function assertFloat32(kernel: string, what: string, t: TensorInfo): void {
  if (t.dtype !== 'float32') {
    throw new VigilError('E_UNSUPPORTED', `${kernel}: ${what} has dtype ${t.dtype}, only float32 is supported`, { kernel, dtype: t.dtype });
  }
}

/**
 * Tunables of the conv kernels. `maxColsFloats` caps the im2col buffer a kernel builds at once
 * (default 16 Mi floats = 64 MiB of wasm heap); tests lower it to exercise the chunked path.
 */
export const kernelLimits = { maxColsFloats: 16 * 1024 * 1024 };

/**
 * Images per GEMM chunk so that a (images·outH·outW, rowLen) im2col buffer stays below
 * `maxFloats` (at least one image). Bounds peak memory for large batches/images.
 */
export function imagesPerChunk(g: ConvGeometry, rowLen: number, maxFloats = kernelLimits.maxColsFloats): number {
  const perImage = g.outH * g.outW * rowLen;
  return Math.max(1, Math.min(g.batch, Math.floor(maxFloats / perImage)));
}
