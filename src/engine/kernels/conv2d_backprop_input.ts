/**
 * Faster `Conv2DBackpropInput` for the wasm backend. TF.js 4.22's own is a naive C++ loop
 * (~2 GFLOP/s); it computes conv gradients w.r.t. the input and the forward pass of every
 * conv2dTranspose layer.
 *
 * dx[n, iy, ix, ci] = Σ_{ky, kx, co} dy[n, oy, ox, co] · W[ky, kx, ci, co]  where iy = oy·s + ky − padTop
 *
 * Two formulations, both built on XNNPACK:
 *  - 'phase' (sub-pixel decomposition): output rows with the same (iy + padTop) mod s only see the
 *    filter taps ky ≡ that residue (mod s), so dx splits into sH·sW phases, each a plain stride-1
 *    Conv2D of dy with a flipped, sub-sampled filter. The phase outputs are interleaved into dx.
 *    No im2col buffer, no scatter-add; stride 1 is a single conv whose output is dx itself.
 *  - 'gemm': cols (P, K) = dy (P, Co) × Wᵀ (Co, K) on XNNPACK's fully-connected kernel, then a
 *    col2im scatter-add in JS. Wins when Ci is small (XNNPACK tiles are 8 output channels wide, so
 *    per-phase convs with Ci < 8 leave most of each tile idle, while the GEMM's width is kH·kW·Ci).
 */

import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { VigilError } from '../../core/errors.js';
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

const KERNEL = 'Conv2DBackpropInput';

/** Input channels from which the phase path beats the GEMM path (see the module comment). */
const PHASE_MIN_CHANNELS = 8;

export type BackpropInputPath = 'auto' | 'gemm' | 'phase';

let forcedPath: BackpropInputPath = 'auto';

/**
 * Forces one formulation for every later call ('auto' restores the heuristic). For tests and
 * benchmarks; both paths compute the same values.
 */
export function setBackpropInputPath(path: BackpropInputPath): void {
  if (path !== 'auto' && path !== 'gemm' && path !== 'phase') {
    throw new VigilError('E_CONFIG', `setBackpropInputPath: unknown path '${String(path)}', expected 'auto', 'gemm' or 'phase'`, { path });
  }
  forcedPath = path;
}

interface BackpropInputAttrs extends ConvGradAttrs {
  inputShape: Shape4;
}

// ---------------------------------------------------------------------------------------------
// Phase path

/**
 * One axis of one phase. Input positions i with (i + pad) = q·s + r, q ∈ [qMin, qMax], receive
 * taps k = r + j·s (j < taps) from dy[q − j]. As a stride-1 correlation with the taps reversed,
 * conv output m corresponds to q = qMin + m − skip.
 */
interface PhaseAxis {
  /** Residue r of (i + pad) mod s. */
  readonly r: number;
  /** Filter taps of this phase along the axis (0 when r ≥ k: the phase receives nothing). */
  readonly taps: number;
  /** Non-negative zero padding of dy for the phase conv (XNNPACK rejects negative pads). */
  readonly padBefore: number;
  readonly padAfter: number;
  /** Leading conv outputs to drop when the ideal leading pad would have been negative. */
  readonly skip: number;
}

interface PhaseRange {
  /** First and last q (input position = q·s + r − pad) shared by all phases of the axis. */
  readonly qMin: number;
  readonly qMax: number;
  readonly phases: PhaseAxis[];
}

/** Phase geometry along one axis: input `size`, dy extent `dySize`, filter `k`, stride `s`. */
function phaseRange(size: number, dySize: number, k: number, s: number, pad: number): PhaseRange {
  const qMin = Math.floor(pad / s);
  const qMax = Math.floor((pad + size - 1) / s);
  const count = qMax - qMin + 1;
  const phases: PhaseAxis[] = [];
  for (let r = 0; r < s; r++) {
    const taps = r < k ? Math.ceil((k - r) / s) : 0;
    const padBefore = Math.max(0, taps - 1 - qMin);
    const skip = Math.max(0, qMin - (taps - 1));
    // Conv output length is dySize + padBefore + padAfter − taps + 1; make it cover skip + count.
    const padAfter = Math.max(0, skip + count - dySize - padBefore + taps - 1);
    phases.push({ r, taps, padBefore, padAfter, skip });
  }
  return { qMin, qMax, phases };
}

/** Phase filter (tapsH, tapsW, Co, Ci): F[th, tw, co, ci] = W[ry + (tapsH−1−th)·sH, rx + (tapsW−1−tw)·sW, ci, co]. */
function phaseFilter(backend: BackendWasm, filter: TensorInfo, g: ConvGeometry, py: PhaseAxis, px: PhaseAxis): TensorInfo {
  const { kW, inC, outC, strideH, strideW } = g;
  const f = allocF32(backend, [py.taps, px.taps, outC, inC]);
  const out = heapF32(backend, f);
  const w = heapF32(backend, filter);
  let d = 0;
  for (let th = 0; th < py.taps; th++) {
    const ky = py.r + (py.taps - 1 - th) * strideH;
    for (let tw = 0; tw < px.taps; tw++) {
      const kx = px.r + (px.taps - 1 - tw) * strideW;
      const base = (ky * kW + kx) * inC * outC;
      for (let co = 0; co < outC; co++) {
        for (let ci = 0; ci < inC; ci++) out[d++] = w[base + ci * outC + co];
      }
    }
  }
  return f;
}

interface PhaseOutput {
  readonly py: PhaseAxis;
  readonly px: PhaseAxis;
  /** (N, Mh, Mw, Ci), or null for a phase that receives no taps (zeros). */
  readonly out: TensorInfo | null;
}

function backpropInputPhase(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const rows = phaseRange(g.inH, g.outH, g.kH, g.strideH, g.padTop);
  const cols = phaseRange(g.inW, g.outW, g.kW, g.strideW, g.padLeft);

  const outputs: PhaseOutput[] = [];
  for (const py of rows.phases) {
    for (const px of cols.phases) {
      if (py.taps === 0 || px.taps === 0) {
        outputs.push({ py, px, out: null });
        continue;
      }
      const f = phaseFilter(backend, filter, g, py, px);
      const out = runWasmKernel(
        backend,
        'Conv2D',
        { x: dy, filter: f },
        {
          strides: 1,
          dilations: 1,
          pad: [
            [0, 0],
            [py.padBefore, py.padAfter],
            [px.padBefore, px.padAfter],
            [0, 0],
          ],
          dataFormat: 'NHWC',
        },
      );
      free(backend, f);
      outputs.push({ py, px, out });
    }
  }

  // Stride 1 with an exact fit: the single phase conv is dx, no interleave needed.
  const only = outputs.length === 1 ? outputs[0]! : null;
  if (only?.out && only.py.skip === 0 && only.px.skip === 0 && only.out.shape[1] === g.inH && only.out.shape[2] === g.inW) {
    return only.out;
  }

  const dx = allocF32(backend, [g.batch, g.inH, g.inW, g.inC]);
  const dxv = heapF32(backend, dx); // after the last allocation: views stay valid below
  for (const o of outputs) {
    interleavePhase(o, o.out === null ? null : heapF32(backend, o.out), g, rows, cols, dxv);
    if (o.out !== null) free(backend, o.out);
  }
  return dx;
}

/** Copies one phase's conv output (or zeros) into its strided positions of dx (N, H, W, Ci). */
function interleavePhase(o: PhaseOutput, src: Float32Array | null, g: ConvGeometry, rows: PhaseRange, cols: PhaseRange, dx: Float32Array): void {
  const { batch, inH, inW, inC, strideH, strideW, padTop, padLeft } = g;
  const mh = o.out?.shape[1] ?? 0;
  const mw = o.out?.shape[2] ?? 0;
  const copier = src !== null && inC >= MIN_BLOCK_COPY ? new RunCopier(src, dx) : null;
  for (let n = 0; n < batch; n++) {
    for (let q = rows.qMin; q <= rows.qMax; q++) {
      const iy = q * strideH + o.py.r - padTop;
      if (iy < 0 || iy >= inH) continue;
      const srcRow = (n * mh + q - rows.qMin + o.py.skip) * mw;
      const dstRow = (n * inH + iy) * inW;
      for (let qw = cols.qMin; qw <= cols.qMax; qw++) {
        const ix = qw * strideW + o.px.r - padLeft;
        if (ix < 0 || ix >= inW) continue;
        const dst = (dstRow + ix) * inC;
        if (src === null) {
          dx.fill(0, dst, dst + inC);
          continue;
        }
        const s0 = (srcRow + qw - cols.qMin + o.px.skip) * inC;
        if (copier !== null) copier.copy(s0, dst, inC);
        else for (let c = 0; c < inC; c++) dx[dst + c] = src[s0 + c];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GEMM path

/**
 * col2im for images [n0, n1): dx[n, iy, ix, :] += cols[p, ky, kx, :] for every output pixel p and
 * tap landing inside dx. Zeroes the images' region of dx first.
 */
function col2im(cols: Float32Array, g: ConvGeometry, n0: number, n1: number, dx: Float32Array): void {
  const { inH, inW, inC, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const span = kW * inC;
  dx.fill(0, n0 * inH * inW * inC, n1 * inH * inW * inC);
  let src = 0;
  for (let n = n0; n < n1; n++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * strideW - padLeft;
        const interior = ix0 >= 0 && ix0 + kW <= inW;
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * strideH + ky - padTop;
          if (iy < 0 || iy >= inH) {
            src += span;
            continue;
          }
          const rowBase = (n * inH + iy) * inW;
          if (interior) {
            // The kW taps of this row are adjacent pixels of dx: one contiguous run.
            const d = (rowBase + ix0) * inC;
            for (let i = 0; i < span; i++) dx[d + i] += cols[src + i];
            src += span;
            continue;
          }
          for (let kx = 0; kx < kW; kx++) {
            const ix = ix0 + kx;
            if (ix >= 0 && ix < inW) {
              const d = (rowBase + ix) * inC;
              for (let c = 0; c < inC; c++) dx[d + c] += cols[src + c];
            }
            src += inC;
          }
        }
      }
    }
  }
}

function backpropInputGemm(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const k = g.kH * g.kW * g.inC;
  const pixels = g.outH * g.outW;
  // Wᵀ (Co, K): a fresh tensor, so XNNPACK's per-weights operator cache cannot alias it.
  const wT = runWasmKernel(backend, 'Transpose', { x: { dataId: filter.dataId, shape: [k, g.outC], dtype: 'float32' } }, { perm: [1, 0] });
  const dx = allocF32(backend, [g.batch, g.inH, g.inW, g.inC]);
  const chunk = imagesPerChunk(g, k);
  for (let n0 = 0; n0 < g.batch; n0 += chunk) {
    const n1 = Math.min(g.batch, n0 + chunk);
    const whole = n0 === 0 && n1 === g.batch;
    // dy rows of this chunk as (Pc, Co); `a` is not cached by XNNPACK, so dy itself can be used whole.
    let rowsOfDy: TensorInfo = { dataId: dy.dataId, shape: [g.batch * pixels, g.outC], dtype: 'float32' };
    if (!whole) {
      rowsOfDy = allocF32(backend, [(n1 - n0) * pixels, g.outC]);
      heapF32(backend, rowsOfDy).set(heapF32(backend, dy).subarray(n0 * pixels * g.outC, n1 * pixels * g.outC));
    }
    const cols = matMul(backend, rowsOfDy, wT); // (Pc, K)
    col2im(heapF32(backend, cols), g, n0, n1, heapF32(backend, dx));
    free(backend, cols);
    if (!whole) free(backend, rowsOfDy);
  }
  free(backend, wT);
  return dx;
}

// ---------------------------------------------------------------------------------------------

/** The kernel: inputs {dy (N, outH, outW, Co), filter (kH, kW, Ci, Co)}, attrs.inputShape (N, H, W, Ci). */
export function conv2DBackpropInput(args: { inputs: NamedTensorInfoMap; backend: BackendWasm; attrs: BackpropInputAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs['dy']!;
  const filter = inputs['filter']!;
  assertFloat32(KERNEL, 'dy', dy);
  assertFloat32(KERNEL, 'filter', filter);
  const g = convGeometry(KERNEL, attrs.inputShape, filter.shape as Shape4, attrs);
  assertShape(KERNEL, 'dy', dy.shape, [g.batch, g.outH, g.outW, g.outC]);
  if (g.batch === 0) return allocF32(backend, [0, g.inH, g.inW, g.inC]);

  const path = forcedPath !== 'auto' ? forcedPath : g.inC >= PHASE_MIN_CHANNELS ? 'phase' : 'gemm';
  return path === 'phase' ? backpropInputPhase(backend, dy, filter, g) : backpropInputGemm(backend, dy, filter, g);
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
