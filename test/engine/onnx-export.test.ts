/**
 * TF.js layers → ONNX export, per layer type: every exported model runs on ONNX Runtime and matches
 * TF.js (cpu backend, exact reference kernels) within 1e-5 relative error, keeps the NHWC interface,
 * and places layout Transposes only where the layout changes. Unsupported layers fail naming the layer.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { isVigilError } from '../../src/core/errors.js';
import { initEngine } from '../../src/engine/backend.js';
import { compareEngines, exportLayersModel, OrtEngine, OrtSession, TfjsEngine } from '../../src/engine/onnx/index.js';
import { decodeModel } from '../../src/engine/onnx/proto.js';

const TOLERANCE = 1e-5;

/** Glorot weights are too tame for BN / PReLU: give every weight random values in [-1, 1] (variances positive). */
function randomiseWeights(model: tfl.LayersModel, seed: number): void {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const fresh = ws.map((w, i) => {
      const name = layer.weights[i]!.originalName;
      const positive = /moving_variance/.test(name);
      const v = Float32Array.from({ length: w.size }, () => (positive ? 0.5 + Math.abs(next()) : next() * 0.5));
      return tf.tensor(v, w.shape);
    });
    layer.setWeights(fresh);
    tf.dispose(fresh);
  }
}

async function relError(model: tfl.LayersModel): Promise<number> {
  const exported = exportLayersModel(model);
  const session = await OrtSession.create(exported.bytes, `test model ${model.name}`);
  const ort = new OrtEngine(session);
  try {
    const rel = await compareEngines(new TfjsEngine(model), ort, exported.inputs[0]!.shape);
    assert.ok(rel !== null, 'the model has a fixed input size');
    return rel;
  } finally {
    ort.dispose();
  }
}

function seq(name: string, layers: tfl.layers.Layer[]): tfl.Sequential {
  const m = tfl.sequential({ name, layers });
  randomiseWeights(m, name.length * 7919);
  return m;
}

const L = tfl.layers;

/** One model per case: name → builder. */
const CASES: Record<string, () => tfl.LayersModel> = {
  'conv2d same stride 2, bias, relu (odd sizes)': () => seq('c1', [L.conv2d({ inputShape: [9, 7, 3], filters: 5, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })]),
  'conv2d valid, dilation 2, no bias, sigmoid': () =>
    seq('c2', [L.conv2d({ inputShape: [11, 10, 2], filters: 4, kernelSize: 3, dilationRate: 2, padding: 'valid', useBias: false, activation: 'sigmoid' })]),
  'conv2d same stride 3 kernel 4 (uneven pads), tanh': () => seq('c3', [L.conv2d({ inputShape: [10, 8, 2], filters: 3, kernelSize: 4, strides: 3, padding: 'same', activation: 'tanh' })]),
  'conv2d rectangular kernel and strides': () => seq('c4', [L.conv2d({ inputShape: [12, 9, 1], filters: 6, kernelSize: [3, 2], strides: [2, 1], padding: 'same' })]),
  'conv1d same stride 2, conv1d dilation 2, conv1d valid': () =>
    seq('c1d', [
      L.conv1d({ inputShape: [17, 3], filters: 4, kernelSize: 5, strides: 2, padding: 'same', activation: 'elu' }),
      L.conv1d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same' }),
      L.conv1d({ filters: 2, kernelSize: 2, padding: 'valid', activation: 'selu' }),
    ]),
  'depthwiseConv2d multiplier 2 same stride 2, relu6': () =>
    seq('dw', [L.depthwiseConv2d({ inputShape: [9, 9, 3], kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', activation: 'relu6' })]),
  'separableConv2d': () => seq('sep', [L.separableConv2d({ inputShape: [8, 8, 3], filters: 5, kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'softplus' })]),
  'conv2dTranspose same stride 2 kernel 3': () => seq('t1', [L.conv2dTranspose({ inputShape: [7, 5, 4], filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' })]),
  'conv2dTranspose same stride 2 kernel 2': () => seq('t2', [L.conv2dTranspose({ inputShape: [4, 6, 3], filters: 2, kernelSize: 2, strides: 2, padding: 'same' })]),
  'conv2dTranspose valid stride 2 kernel 3': () => seq('t3', [L.conv2dTranspose({ inputShape: [5, 4, 3], filters: 2, kernelSize: 3, strides: 2, padding: 'valid' })]),
  'conv2dTranspose valid stride 3 kernel 2 (output_padding 1)': () => seq('t4', [L.conv2dTranspose({ inputShape: [4, 3, 2], filters: 3, kernelSize: 2, strides: 3, padding: 'valid' })]),
  'conv2dTranspose same stride 3 kernel 5': () => seq('t5', [L.conv2dTranspose({ inputShape: [3, 4, 2], filters: 2, kernelSize: 5, strides: 3, padding: 'same' })]),
  'conv2dTranspose kernel [5, 1] strides [2, 1] (conv1d-ae decoder)': () =>
    seq('t6', [L.conv2dTranspose({ inputShape: [8, 1, 4], filters: 3, kernelSize: [5, 1], strides: [2, 1], padding: 'same' })]),
  'dense on (N, D) and on (N, T, D)': () =>
    seq('dense', [L.dense({ inputShape: [6, 5], units: 4, activation: 'softsign' }), L.flatten(), L.dense({ units: 3, activation: 'softmax' })]),
  'conv → flatten → dense (flatten in NHWC order)': () =>
    seq('flat', [L.conv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 3, strides: 2, padding: 'same' }), L.leakyReLU({ alpha: 0.2 }), L.flatten(), L.dense({ units: 5 })]),
  'dense → reshape → conv2dTranspose (the decoder pattern)': () =>
    seq('resh', [
      L.dense({ inputShape: [4], units: 3 * 3 * 4 }),
      L.leakyReLU({ alpha: 0.2 }),
      L.reshape({ targetShape: [3, 3, 4] }),
      L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' }),
    ]),
  'activation layers: relu(maxValue), elu, thresholdedReLU, softmax, hardSigmoid, swish, mish, gelu, logSoftmax': () =>
    seq('act', [
      L.conv2d({ inputShape: [5, 5, 2], filters: 4, kernelSize: 3, padding: 'same' }),
      L.reLU({ maxValue: 0.5 }),
      L.conv2d({ filters: 4, kernelSize: 1 }),
      L.elu(),
      L.conv2d({ filters: 4, kernelSize: 1, activation: 'hardSigmoid' }),
      L.conv2d({ filters: 4, kernelSize: 1, activation: 'swish' }),
      L.conv2d({ filters: 4, kernelSize: 1, activation: 'mish' }),
      L.conv2d({ filters: 4, kernelSize: 1, activation: 'gelu' }),
      L.thresholdedReLU({ theta: 0.1 }),
      L.softmax({ axis: -1 }),
      L.activation({ activation: 'logSoftmax' as 'softmax' }), // registered in TF.js, missing from its type
    ]),
  'batchNormalization after conv and after dense, prelu': () =>
    seq('bn', [
      L.conv2d({ inputShape: [6, 6, 3], filters: 4, kernelSize: 3, padding: 'same', useBias: false }),
      L.batchNormalization({ epsilon: 1e-3 }),
      L.activation({ activation: 'relu6' }),
      L.prelu({}),
      L.globalAveragePooling2d({}),
      L.dense({ units: 3 }),
      L.batchNormalization({ center: false }),
    ]),
  'zeroPadding2d → conv, pooling (same and valid), upSampling2d nearest and bilinear, global max': () =>
    seq('spatial', [
      L.zeroPadding2d({ inputShape: [7, 6, 2], padding: [[1, 2], [0, 1]] }),
      L.conv2d({ filters: 3, kernelSize: 2 }),
      L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
      L.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
      L.upSampling2d({ size: [2, 3] }),
      L.averagePooling2d({ poolSize: 2, padding: 'valid' }),
      L.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }),
      L.globalMaxPooling2d({}),
    ]),
  'pooling 1D and global average 1D': () =>
    seq('pool1d', [L.conv1d({ inputShape: [12, 2], filters: 3, kernelSize: 3 }), L.maxPooling1d({ poolSize: 2 }), L.averagePooling1d({ poolSize: 2, padding: 'same' }), L.globalAveragePooling1d({})]),
  'dropout, permute': () => seq('misc', [L.dense({ inputShape: [3, 4], units: 4 }), L.dropout({ rate: 0.5 }), L.permute({ dims: [2, 1] }), L.flatten(), L.dense({ units: 2 })]),
  'functional: residual add, concatenate, multiply, average, maximum, minimum, nested model': () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const a = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as tfl.SymbolicTensor;
    const b = L.conv2d({ filters: 4, kernelSize: 1 }).apply(input) as tfl.SymbolicTensor;
    const sum = L.add().apply([a, b]) as tfl.SymbolicTensor;
    const cat = L.concatenate({ axis: -1 }).apply([sum, a]) as tfl.SymbolicTensor;
    const inner = tfl.sequential({ name: 'inner', layers: [L.conv2d({ inputShape: [8, 8, 8], filters: 4, kernelSize: 3, strides: 2, padding: 'same' })] });
    const nested = inner.apply(cat) as tfl.SymbolicTensor;
    const pooled = L.maxPooling2d({ poolSize: 2 }).apply(sum) as tfl.SymbolicTensor;
    const mul = L.multiply().apply([nested, pooled]) as tfl.SymbolicTensor;
    const avg = L.average().apply([mul, nested]) as tfl.SymbolicTensor;
    const mx = L.maximum().apply([avg, pooled]) as tfl.SymbolicTensor;
    const mn = L.minimum().apply([mx, mul]) as tfl.SymbolicTensor;
    const m = tfl.model({ name: 'functional', inputs: input, outputs: mn });
    randomiseWeights(m, 11);
    return m;
  },
};

describe('onnx export matches TF.js per layer type', () => {
  before(async () => {
    await initEngine({ backend: 'cpu' });
  });
  for (const [name, build] of Object.entries(CASES)) {
    test(name, async () => {
      const model = build();
      try {
        const rel = await relError(model);
        assert.ok(rel <= TOLERANCE, `relative error ${rel.toExponential(2)} > ${TOLERANCE}`);
      } finally {
        model.dispose();
      }
    });
  }
});

describe('onnx export graph', () => {
  before(async () => {
    await initEngine({ backend: 'cpu' });
  });

  test('keeps the NHWC interface; transposes only at the input and before Flatten; ConvTranspose pads fit TF.js shapes', () => {
    const m = seq('shape', [
      L.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, strides: 2, padding: 'same' }),
      L.leakyReLU({ alpha: 0.2 }),
      L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }),
      L.leakyReLU({ alpha: 0.2 }),
      L.flatten(),
      L.dense({ units: 7 * 7 * 8 }),
      L.reshape({ targetShape: [7, 7, 8] }),
      L.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }),
      L.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' }),
    ]);
    const exported = exportLayersModel(m);
    assert.deepEqual(exported.inputs, [{ name: 'input', shape: [null, 28, 28, 1] }]);
    assert.deepEqual(exported.outputs, [{ name: 'output', shape: [null, 28, 28, 1] }]);
    const graph = decodeModel(exported.bytes).graph!;
    const ops = graph.node!.map((n) => n.opType);
    // In: NHWC → NCHW; before Flatten: NCHW → NHWC; after Reshape: NHWC → NCHW; out: NCHW → NHWC.
    assert.equal(ops.filter((o) => o === 'Transpose').length, 4, ops.join(' '));
    const convT = graph.node!.filter((n) => n.opType === 'ConvTranspose');
    assert.equal(convT.length, 2);
    for (const n of convT) {
      const pads = n.attribute!.find((a) => a.name === 'pads')!.ints!.map(Number);
      const outPad = n.attribute!.find((a) => a.name === 'output_padding')!.ints!.map(Number);
      assert.deepEqual(pads, [0, 0, 1, 1]); // 'same', k 3, s 2: TF.js pads the forward conv at the end
      assert.deepEqual(outPad, [0, 0]);
    }
    assert.equal(Number(decodeModel(exported.bytes).opsetImport![0]!.version), 13);
    m.dispose();
  });

  test('an unsupported layer fails with E_UNSUPPORTED naming it', () => {
    const m = tfl.sequential({ layers: [L.cropping2D({ inputShape: [5, 5, 1], cropping: 1, name: 'my_crop' })] });
    assert.throws(
      () => exportLayersModel(m),
      (e: unknown) => isVigilError(e) && e.code === 'E_UNSUPPORTED' && /my_crop/.test(e.message) && /Cropping2D/.test(e.message),
    );
    m.dispose();
  });

  test('an activation without an ONNX form fails naming the layer and the activation', () => {
    const m = tfl.sequential({ layers: [L.dense({ inputShape: [3], units: 2, activation: 'gelu_new' as 'gelu', name: 'odd_dense' })] });
    assert.throws(
      () => exportLayersModel(m),
      (e: unknown) => isVigilError(e) && e.code === 'E_UNSUPPORTED' && /odd_dense/.test(e.message) && /gelu_new/.test(e.message),
    );
    m.dispose();
  });
});
