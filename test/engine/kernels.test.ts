/**
 * vigil's wasm conv kernels against TF.js' cpu backend: kernel values, first- and second-order
 * gradients through conv2d / conv2dTranspose, both Conv2DBackpropInput formulations, the chunked
 * im2col path, errors, a tfjs-layers training step, and memory hygiene.
 */

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { engineInfo, initEngine } from '../../src/engine/backend.js';
import { kernelLimits, registerVigilKernels, replacedWasmKernel, setBackpropInputPath, vigilKernelsRegistered } from '../../src/engine/kernels/index.js';
import { isVigilError } from '../../src/core/errors.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  name: string;
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  strides: [number, number];
  pad: Pad;
}

/** Deterministic PRNG (mulberry32) so every run tests the same shapes and values. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValues(rand: () => number, size: number): Float32Array {
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = rand() * 2 - 1;
  return v;
}

function outSize(c: ConvCase): [number, number] {
  const info = tf.backend_util.computeConv2DInfo([c.n, c.h, c.w, c.ci], [c.kh, c.kw, c.ci, c.co], c.strides, 1, c.pad);
  return [info.outHeight, info.outWidth];
}

/** Random conv geometries: strides 1-3, same/valid/explicit padding, odd sizes, channels on both sides of 8. */
function randomCases(count: number, seed: number): ConvCase[] {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const sh = pick([1, 2, 3] as const);
    const sw = rand() < 0.75 ? sh : pick([1, 2, 3] as const);
    const kh = pick([1, 2, 3, 3, 4, 5]);
    const kw = rand() < 0.75 ? kh : pick([1, 2, 3]);
    const h = kh + Math.floor(rand() * 11);
    const w = kw + Math.floor(rand() * 11);
    const padKind = pick(['same', 'same', 'valid', 'explicit'] as const);
    const pad: Pad =
      padKind === 'explicit'
        ? [
            [0, 0],
            [Math.floor(rand() * kh), Math.floor(rand() * kh)],
            [Math.floor(rand() * kw), Math.floor(rand() * kw)],
            [0, 0],
          ]
        : padKind;
    const c: ConvCase = {
      name: '',
      n: 1 + Math.floor(rand() * 3),
      h,
      w,
      ci: pick([1, 2, 3, 5, 8, 11, 16]),
      co: pick([1, 3, 4, 8, 13]),
      kh,
      kw,
      strides: [sh, sw],
      pad,
    };
    const [oh, ow] = outSize(c);
    if (oh < 1 || ow < 1) continue;
    c.name = `x[${c.n},${h},${w},${c.ci}] k${kh}x${kw} co${c.co} s${sh},${sw} ${typeof pad === 'string' ? pad : JSON.stringify(pad.slice(1, 3))}`;
    cases.push(c);
  }
  return cases;
}

/** Named cases the brief calls out: the reference autoencoder's layers and odd transposed sizes. */
const FIXED_CASES: ConvCase[] = [
  { name: 'encoder 28->14 (1->16ch, K <= Co)', n: 2, h: 28, w: 28, ci: 1, co: 16, kh: 3, kw: 3, strides: [2, 2], pad: 'same' },
  { name: 'encoder 14->7 (8->12ch)', n: 2, h: 14, w: 14, ci: 8, co: 12, kh: 3, kw: 3, strides: [2, 2], pad: 'same' },
  { name: 'odd 15->8 same s2', n: 1, h: 15, w: 13, ci: 9, co: 5, kh: 3, kw: 3, strides: [2, 2], pad: 'same' },
  { name: 'valid s2 remainder 28->13', n: 1, h: 28, w: 28, ci: 2, co: 3, kh: 3, kw: 3, strides: [2, 2], pad: 'valid' },
  { name: 'k1 s3 (taps skip phases)', n: 2, h: 10, w: 11, ci: 10, co: 4, kh: 1, kw: 1, strides: [3, 3], pad: 'same' },
  { name: 'k2 s3 valid (empty phases)', n: 1, h: 11, w: 11, ci: 8, co: 3, kh: 2, kw: 2, strides: [3, 3], pad: 'valid' },
  { name: 'large explicit pads', n: 1, h: 6, w: 7, ci: 8, co: 2, kh: 5, kw: 4, strides: [2, 3], pad: [[0, 0], [4, 3], [1, 3], [0, 0]] },
  { name: 'stride 1 same (single phase)', n: 2, h: 9, w: 9, ci: 12, co: 6, kh: 3, kw: 3, strides: [1, 1], pad: 'same' },
  { name: '1x1 valid (K <= Co)', n: 3, h: 5, w: 7, ci: 3, co: 8, kh: 1, kw: 1, strides: [1, 1], pad: 'valid' },
];

interface CaseData {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  /** Weights for the scalar loss Σ r ⊙ dx used by the second-order tests. */
  r: Float32Array;
}

function caseData(c: ConvCase, seed: number): CaseData {
  const rand = rng(seed);
  const [oh, ow] = outSize(c);
  return {
    x: randomValues(rand, c.n * c.h * c.w * c.ci),
    w: randomValues(rand, c.kh * c.kw * c.ci * c.co),
    dy: randomValues(rand, c.n * oh * ow * c.co),
    r: randomValues(rand, c.n * c.h * c.w * c.ci),
  };
}

/**
 * Everything we compare, computed on the active backend: both kernels called directly, conv2d
 * gradients, conv2dTranspose values and gradients, and a second-order gradient.
 */
function computeAll(c: ConvCase, d: CaseData): Map<string, Float32Array> {
  const [oh, ow] = outSize(c);
  const out = new Map<string, Float32Array>();
  tf.tidy(() => {
    const x = tf.tensor4d(d.x, [c.n, c.h, c.w, c.ci]);
    const w = tf.tensor4d(d.w, [c.kh, c.kw, c.ci, c.co]);
    const dy = tf.tensor4d(d.dy, [c.n, oh, ow, c.co]);
    const r = tf.tensor4d(d.r, [c.n, c.h, c.w, c.ci]);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' };
    const put = (k: string, t: tf.Tensor) => out.set(k, t.dataSync() as Float32Array);

    put('kernel Conv2DBackpropFilter', tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor);
    put('kernel Conv2DBackpropInput', tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor);

    // conv2d: dx → Conv2DBackpropInput, dW → Conv2DBackpropFilter.
    const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.strides, c.pad), dy)))([x, w]);
    put('conv2d dx', gx!);
    put('conv2d dW', gw!);

    // conv2dTranspose (forward = Conv2DBackpropInput); its input gradient is a forward Conv2D and its
    // filter gradient is Conv2DBackpropFilter with x and dy swapped.
    const transposeOf = (yy: tf.Tensor, ww: tf.Tensor) => tf.conv2dTranspose(yy as tf.Tensor4D, ww as tf.Tensor4D, [c.n, c.h, c.w, c.ci], c.strides, c.pad);
    put('conv2dTranspose y', transposeOf(dy, w));
    const [ty, tw] = tf.grads((yy: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(transposeOf(yy, ww), r)))([dy, w]);
    put('conv2dTranspose dInput', ty!);
    put('conv2dTranspose dW', tw!);

    // Second order: d/dW Σ r ⊙ ∂/∂x[Σ conv2d(x, W) ⊙ dy] differentiates the Conv2DBackpropInput node
    // of the first gradient (its filter gradient is a Conv2DBackpropFilter).
    const inputGrad = (ww: tf.Tensor) => tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.strides, c.pad), dy)))(x);
    put('second-order dW', tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(inputGrad(ww), r)))(w));
  });
  return out;
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  assert.ok(worst <= 1e-4 * scale, `${what}: max |wasm - cpu| = ${worst} at ${at} (wasm ${actual[at]}, cpu ${expected[at]}, scale ${scale})`);
}

async function onBackend<T>(name: 'cpu' | 'wasm', f: () => T): Promise<T> {
  await tf.setBackend(name);
  try {
    return f();
  } finally {
    await tf.setBackend('wasm');
  }
}

/**
 * TF.js 4.22's own wasm Conv2D (forward, not ours) returns zeros/garbage for 'same' padding when a
 * stride exceeds a filter size > 1 (XNNPACK's TF-SAME padding goes negative). The transposed
 * conv's input gradient is exactly that forward Conv2D, so that one comparison is skipped there.
 */
function hitsWasmConv2DSameBug(c: ConvCase): boolean {
  return c.pad === 'same' && ((c.strides[0] > c.kh && c.kh > 1) || (c.strides[1] > c.kw && c.kw > 1));
}

async function compareCase(c: ConvCase, seed: number): Promise<void> {
  const d = caseData(c, seed);
  const expected = await onBackend('cpu', () => computeAll(c, d));
  const actual = computeAll(c, d);
  for (const [k, v] of expected) {
    if (k === 'conv2dTranspose dInput' && hitsWasmConv2DSameBug(c)) continue;
    assertClose(actual.get(k)!, v, `${c.name}: ${k}`);
  }
}

function wasmBackend(): BackendWasm {
  return tf.findBackend('wasm') as BackendWasm;
}

before(async () => {
  await initEngine();
});

describe('engine set-up', () => {
  test('initEngine is idempotent and registers vigil kernels once', async () => {
    await initEngine();
    await initEngine({ backend: 'wasm' });
    registerVigilKernels();
    assert.equal(tf.getBackend(), 'wasm');
    assert.ok(vigilKernelsRegistered());
    const info = engineInfo();
    assert.equal(info.backend, 'wasm');
    assert.equal(info.initialized, true);
    assert.equal(typeof info.simd, 'boolean');
    assert.equal(info.threads, false, 'Node runs the single-threaded wasm build');
    assert.deepEqual(info.kernels, { names: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'], registered: true });
    assert.ok(replacedWasmKernel('Conv2DBackpropInput'), 'the original wasm kernel is kept');
  });

  test('initEngine switches to cpu and back', async () => {
    await initEngine({ backend: 'cpu' });
    assert.equal(engineInfo().backend, 'cpu');
    await initEngine();
    assert.equal(engineInfo().backend, 'wasm');
  });

  test('initEngine rejects an unknown backend with E_CONFIG', async () => {
    await assert.rejects(initEngine({ backend: 'webgl' as 'wasm' }), (e: unknown) => isVigilError(e) && e.code === 'E_CONFIG' && /webgl/.test(e.message));
  });
});

describe('wasm conv kernels match the cpu backend', () => {
  for (const [i, c] of FIXED_CASES.entries()) {
    test(c.name, async () => compareCase(c, 100 + i));
  }

  test('40 random geometries (values, gradients, second order)', async () => {
    for (const [i, c] of randomCases(40, 7).entries()) await compareCase(c, 1000 + i);
  });

  for (const path of ['gemm', 'phase'] as const) {
    test(`Conv2DBackpropInput '${path}' formulation on every geometry`, async () => {
      setBackpropInputPath(path);
      try {
        for (const [i, c] of [...FIXED_CASES, ...randomCases(15, 11)].entries()) await compareCase(c, 2000 + i);
      } finally {
        setBackpropInputPath('auto');
      }
    });
  }

  test('chunked im2col (tiny chunk budget) gives the same results', async () => {
    const saved = kernelLimits.maxColsFloats;
    kernelLimits.maxColsFloats = 1; // one image per chunk
    setBackpropInputPath('gemm');
    try {
      for (const [i, c] of [FIXED_CASES[0]!, FIXED_CASES[1]!, ...randomCases(6, 13).filter((cc) => cc.n > 1)].entries()) await compareCase(c, 3000 + i);
    } finally {
      kernelLimits.maxColsFloats = saved;
      setBackpropInputPath('auto');
    }
  });

  test('batch of 0 gives a zero filter gradient and an empty input gradient', () => {
    tf.tidy(() => {
      const x = tf.zeros([0, 5, 5, 2]);
      const dy = tf.zeros([0, 3, 3, 4]);
      const w = tf.ones([3, 3, 2, 4]);
      const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC' };
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [3, 3, 2, 4] }) as tf.Tensor;
      assert.deepEqual(dw.shape, [3, 3, 2, 4]);
      assert.ok((dw.dataSync() as Float32Array).every((v) => v === 0));
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: [0, 5, 5, 2] }) as tf.Tensor;
      assert.deepEqual(dx.shape, [0, 5, 5, 2]);
    });
  });
});

describe('kernel errors', () => {
  const isCode = (code: string, re: RegExp) => (e: unknown) => isVigilError(e) && e.code === code && re.test(e.message);

  test('NCHW is rejected with E_UNSUPPORTED naming the format', () => {
    tf.tidy(() => {
      const x = tf.zeros([1, 2, 5, 5]);
      const dy = tf.zeros([1, 4, 3, 3]);
      assert.throws(
        () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 4] }),
        isCode('E_UNSUPPORTED', /NCHW/),
      );
    });
  });

  test('dilations other than 1 are rejected with E_UNSUPPORTED', () => {
    tf.tidy(() => {
      const x = tf.zeros([1, 5, 5, 2]);
      const dy = tf.zeros([1, 3, 3, 4]);
      assert.throws(
        () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NHWC', dilations: 2, filterShape: [3, 3, 2, 4] }),
        isCode('E_UNSUPPORTED', /dilations \[2, 2\]/),
      );
    });
  });

  test('a dy that does not match the conv output is rejected with E_SHAPE', () => {
    tf.tidy(() => {
      const w = tf.zeros([3, 3, 2, 4]);
      const dy = tf.zeros([1, 4, 3, 4]);
      assert.throws(
        () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 5, 5, 2] }),
        isCode('E_SHAPE', /dy has shape \[1, 4, 3, 4\], expected \[1, 3, 3, 4\]/),
      );
    });
  });
});

describe('training with tfjs-layers on wasm', () => {
  test('a conv autoencoder (conv2d s2 -> conv2dTranspose s2) takes optimizer steps and its loss decreases', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [12, 12, 1], filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
        tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const rand = rng(5);
    const xs = tf.tensor4d(randomValues(rand, 16 * 12 * 12).map((v) => (v + 1) / 2), [16, 12, 12, 1]);
    const first = (await model.trainOnBatch(xs, xs)) as number;
    let last = first;
    for (let i = 0; i < 20; i++) last = (await model.trainOnBatch(xs, xs)) as number;
    assert.ok(Number.isFinite(last) && last < first * 0.8, `loss went from ${first} to ${last}`);
    xs.dispose();
    model.dispose();
  });
});

describe('memory', () => {
  test('no tensors leak and the kernels free their intermediate buffers', () => {
    const backend = wasmBackend();
    const run = () => {
      for (const c of [FIXED_CASES[0]!, FIXED_CASES[2]!, FIXED_CASES[7]!]) {
        const d = caseData(c, 1);
        tf.tidy(() => {
          computeAll(c, d);
        });
      }
    };
    run(); // warm-up: lets TF.js create whatever it caches once
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    for (const path of ['gemm', 'phase', 'auto'] as const) {
      setBackpropInputPath(path);
      const saved = kernelLimits.maxColsFloats;
      kernelLimits.maxColsFloats = path === 'gemm' ? 1 : saved; // include the chunked path
      try {
        run();
      } finally {
        kernelLimits.maxColsFloats = saved;
        setBackpropInputPath('auto');
      }
      assert.equal(tf.memory().numTensors, tensors, `tensors leaked (${path})`);
      assert.equal(backend.numDataIds(), dataIds, `wasm buffers leaked (${path})`);
    }
  });

  test('repeated calls leave the wasm allocator in the same state (XNNPACK operators and packed weights are released)', () => {
    const backend = wasmBackend();
    // Large enough that a leaked XNNPACK operator (it holds ~P·Co packed floats) shifts the heap.
    const c: ConvCase = { name: 'heap', n: 8, h: 14, w: 14, ci: 16, co: 32, kh: 3, kw: 3, strides: [2, 2], pad: 'same' };
    const d = caseData(c, 2);
    // With identical alloc/free sequences and no leak, malloc places a probe block at the same
    // address every time; retained memory moves it (and eventually grows the heap).
    const probe = (): number => {
      const t = backend.makeOutput([1 << 16], 'float32');
      const offset = backend.getMemoryOffset(t.dataId);
      backend.disposeData(t.dataId);
      return offset;
    };
    for (let i = 0; i < 3; i++) tf.tidy(() => void computeAll(c, d));
    const heapBytes = backend.wasm.HEAPU8.length;
    const offset = probe();
    for (let i = 0; i < 6; i++) tf.tidy(() => void computeAll(c, d));
    assert.equal(probe(), offset, 'probe block moved: memory is retained across calls');
    assert.equal(backend.wasm.HEAPU8.length, heapBytes, 'the wasm heap grew');
  });
});
