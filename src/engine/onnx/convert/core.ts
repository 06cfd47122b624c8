/**
 * Core layers → ONNX: Dense, Flatten, Reshape, Permute, activation layers, BatchNormalization
 * (inference form, with the moving statistics) and the layers that are the identity at inference.
 *
 * Flatten and Reshape work on TF.js' own (channels-last) order, so their input is transposed back
 * from channels-first first: Dense weights trained on TF.js' NHWC flattening stay valid.
 */
import { VigilError } from '../../../core/errors.js';
import { channelsFirstPerm, identityPerm, type Value } from '../graph.js';
import { applyActivation, clip } from './activations.js';
import {
  intTuple,
  normaliseAxis,
  numberField,
  onlyInput,
  requireWeight,
  stringField,
  transposeData,
  unsupported,
  type LayerContext,
  type LayerConverter,
} from './types.js';

function sameLayout(ctx: LayerContext, v: Value, name: string): Value {
  return { name, shape: ctx.outputShape, perm: v.perm };
}

/** Dense: y = x · kernel (in, units) + bias on the last axis; Gemm for (N, in), MatMul + Add otherwise. */
const dense: LayerConverter = (ctx) => {
  const x = ctx.g.plain(onlyInput(ctx));
  const kernel = requireWeight(ctx, 'kernel');
  const [inUnits, units] = kernel.shape as [number, number];
  if (x.shape[x.shape.length - 1] !== inUnits) throw unsupported(ctx, `input's last axis is ${String(x.shape[x.shape.length - 1])}, the kernel expects ${inUnits}`);
  const w = ctx.g.floats(`${ctx.layer.name}_kernel`, kernel.shape, kernel.data);
  const bias = ctx.config['useBias'] === false ? null : ctx.weight('bias');
  const b = bias ? ctx.g.floats(`${ctx.layer.name}_bias`, [units], bias.data) : null;
  let y: string;
  if (x.shape.length === 2) {
    [y] = ctx.g.node('Gemm', b ? [x.name, w, b] : [x.name, w], { alpha: 1, beta: 1 }, ctx.layer.name) as [string];
  } else {
    [y] = ctx.g.node('MatMul', [x.name, w], {}, ctx.layer.name) as [string];
    if (b) [y] = ctx.g.node('Add', [y, b], {}, ctx.layer.name) as [string];
  }
  const out: Value = { name: y, shape: ctx.outputShape, perm: identityPerm(ctx.outputShape.length) };
  return applyActivation(ctx.g, out, ctx.config['activation'] as string | undefined, ctx.layer.name, ctx.where);
};

/** Flatten in TF.js order: (N, d1, ..., dk) → (N, d1·...·dk). */
const flatten: LayerConverter = (ctx) => {
  const x = ctx.g.plain(onlyInput(ctx));
  if (x.shape.length === 2) return { ...x, shape: ctx.outputShape };
  const [y] = ctx.g.node('Flatten', [x.name], { axis: 1 }, ctx.layer.name);
  return { name: y!, shape: ctx.outputShape, perm: [0, 1] };
};

/** Reshape to (N, ...targetShape); ONNX's 0 copies the batch dimension. */
const reshape: LayerConverter = (ctx) => {
  const x = ctx.g.plain(onlyInput(ctx));
  const target = ctx.config['targetShape'];
  if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d))) throw unsupported(ctx, `targetShape ${JSON.stringify(target)} is not a list of integers`);
  const shape = ctx.g.int64s(`${ctx.layer.name}_shape`, [0, ...(target as number[])]);
  const [y] = ctx.g.node('Reshape', [x.name, shape], {}, ctx.layer.name);
  return { name: y!, shape: ctx.outputShape, perm: identityPerm(ctx.outputShape.length) };
};

/** Permute (dims are 1-based, batch excluded): no node, only the layout label changes. */
const permute: LayerConverter = (ctx) => {
  const x = onlyInput(ctx);
  const dims = intTuple(ctx, 'dims', x.shape.length - 1);
  const p = [0, ...dims]; // output logical axis j = input logical axis p[j]
  return { name: x.name, shape: ctx.outputShape, perm: x.perm.map((a) => p.indexOf(a)) };
};

/** Layers that only act in training (dropout, noise): the identity at inference. */
const identity: LayerConverter = (ctx) => ({ ...onlyInput(ctx), shape: ctx.outputShape });

const activation: LayerConverter = (ctx) =>
  applyActivation(ctx.g, { ...onlyInput(ctx), shape: ctx.outputShape }, stringField(ctx, 'activation', 'linear'), ctx.layer.name, ctx.where);

const relu: LayerConverter = (ctx) => {
  const x = onlyInput(ctx);
  const max = ctx.config['maxValue'];
  if (typeof max === 'number') return clip(ctx.g, x, 0, max, ctx.layer.name);
  return applyActivation(ctx.g, x, 'relu', ctx.layer.name, ctx.where);
};

const leakyRelu: LayerConverter = (ctx) => {
  const x = onlyInput(ctx);
  const [y] = ctx.g.node('LeakyRelu', [x.name], { alpha: numberField(ctx, 'alpha', 0.3) }, ctx.layer.name);
  return sameLayout(ctx, x, y!);
};

const elu: LayerConverter = (ctx) => {
  const x = onlyInput(ctx);
  const [y] = ctx.g.node('Elu', [x.name], { alpha: numberField(ctx, 'alpha', 1) }, ctx.layer.name);
  return sameLayout(ctx, x, y!);
};

const thresholdedRelu: LayerConverter = (ctx) => {
  const x = onlyInput(ctx);
  const [y] = ctx.g.node('ThresholdedRelu', [x.name], { alpha: numberField(ctx, 'theta', 1) }, ctx.layer.name);
  return sameLayout(ctx, x, y!);
};

const softmax: LayerConverter = (ctx) => {
  const x = onlyInput(ctx);
  const axis = normaliseAxis(ctx, numberField(ctx, 'axis', -1), x.shape.length);
  const [y] = ctx.g.node('Softmax', [x.name], { axis: x.perm.indexOf(axis) }, ctx.layer.name);
  return sameLayout(ctx, x, y!);
};

/** PReLU: the slope (input shape without the batch, shared axes 1) is laid out like the input. */
const prelu: LayerConverter = (ctx) => {
  const x = onlyInput(ctx);
  const alpha = requireWeight(ctx, 'alpha');
  if (x.perm[0] !== 0 || alpha.shape.length !== x.shape.length - 1) throw unsupported(ctx, `slope shape [${alpha.shape.join(', ')}] does not fit input rank ${x.shape.length}`);
  const slope = transposeData(alpha.data, alpha.shape, x.perm.slice(1).map((a) => a - 1));
  const s = ctx.g.floats(`${ctx.layer.name}_slope`, slope.shape, slope.data);
  const [y] = ctx.g.node('PRelu', [x.name, s], {}, ctx.layer.name);
  return sameLayout(ctx, x, y!);
};

/**
 * BatchNormalization at inference: y = (x − moving_mean) / √(moving_variance + ε) · γ + β over the
 * channel axis, which ONNX expects at position 1: channels-first for rank ≥ 3, as is for (N, C).
 */
const batchNormalization: LayerConverter = (ctx) => {
  const x0 = onlyInput(ctx);
  const rank = x0.shape.length;
  const rawAxis = ctx.config['axis'];
  const axisNum = Array.isArray(rawAxis) && rawAxis.length === 1 ? (rawAxis[0] as number) : rawAxis;
  if (typeof axisNum !== 'number') throw unsupported(ctx, `axis ${JSON.stringify(rawAxis)} is not supported, only a single axis`);
  const axis = normaliseAxis(ctx, axisNum, rank);
  if (axis !== rank - 1 || rank < 2) throw unsupported(ctx, `normalising axis ${axis} of a rank-${rank} input is not supported, only the channel (last) axis`);
  const x = rank === 2 ? ctx.g.plain(x0) : ctx.g.channelsFirst(x0);
  const channels = x0.shape[rank - 1];
  if (typeof channels !== 'number') throw unsupported(ctx, 'the channel count is open');
  const stat = (suffix: string, fallback: number): Float32Array => {
    const w = ctx.weight(suffix);
    if (!w) return new Float32Array(channels).fill(fallback);
    if (w.data.length !== channels) throw new VigilError('E_MODEL_CORRUPT', `onnx export: ${ctx.where}: '${suffix}' has ${w.data.length} values, expected ${channels}`);
    return w.data;
  };
  const use = (flag: string, suffix: string, fallback: number) => (ctx.config[flag] === false ? new Float32Array(channels).fill(fallback) : stat(suffix, fallback));
  const n = ctx.layer.name;
  const inputs = [
    x.name,
    ctx.g.floats(`${n}_gamma`, [channels], use('scale', 'gamma', 1)),
    ctx.g.floats(`${n}_beta`, [channels], use('center', 'beta', 0)),
    ctx.g.floats(`${n}_mean`, [channels], requireWeight(ctx, 'moving_mean').data),
    ctx.g.floats(`${n}_var`, [channels], requireWeight(ctx, 'moving_variance').data),
  ];
  const [y] = ctx.g.node('BatchNormalization', inputs, { epsilon: numberField(ctx, 'epsilon', 1e-3) }, n);
  return { name: y!, shape: ctx.outputShape, perm: rank === 2 ? [0, 1] : channelsFirstPerm(rank) };
};

export const CORE_CONVERTERS: Record<string, LayerConverter> = {
  Dense: dense,
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  Dropout: identity,
  SpatialDropout1D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
  Activation: activation,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  ELU: elu,
  ThresholdedReLU: thresholdedRelu,
  Softmax: softmax,
  PReLU: prelu,
  BatchNormalization: batchNormalization,
};
