/**
 * Convolution layers → ONNX Conv / ConvTranspose, channels-first.
 *
 * Weight layouts (TF.js → ONNX):
 *   Conv1D/Conv2D      kernel (k..., Ci, Co)        → W (Co, Ci, k...)
 *   DepthwiseConv2D    depthwise_kernel (kH, kW, Ci, M) → W (Ci·M, 1, kH, kW), group = Ci
 *                      (TF.js output channel ci·M + m is ONNX group ci's m-th output: same order)
 *   SeparableConv2D    depthwise as above, then pointwise (1, 1, Ci·M, Co) as a 1x1 Conv
 *   Conv2DTranspose    kernel (kH, kW, Co, Ci)       → W (Ci, Co, kH, kW)
 * Padding is explicit `pads` computed as TF.js does ('same': total = max((out−1)·s + (k−1)·d + 1 − in, 0),
 * the odd pixel at the end), so outputs match TF.js exactly; an open spatial size falls back to
 * auto_pad SAME_UPPER, which is the same rule.
 */
import { VigilError } from '../../../core/errors.js';
import { channelsFirstPerm, type Value } from '../graph.js';
import { applyActivation } from './activations.js';
import {
  intTuple,
  onlyInput,
  requireChannelsLast,
  requireWeight,
  stringField,
  transposeData,
  unsupported,
  type LayerContext,
  type LayerConverter,
  type LayerWeight,
} from './types.js';

type PadAttrs = { pads: number[] } | { auto_pad: string };

/** ONNX padding attributes for a forward conv over spatial sizes `sizes` (null = open). */
function convPadding(ctx: LayerContext, sizes: readonly (number | null)[], kernel: number[], strides: number[], dilations: number[], padding: string): PadAttrs {
  const r = kernel.length;
  if (padding === 'valid') return { pads: new Array<number>(2 * r).fill(0) };
  if (padding !== 'same') throw unsupported(ctx, `padding '${padding}' is not supported`, { padding });
  if (sizes.some((s) => s === null)) return { auto_pad: 'SAME_UPPER' };
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < r; i++) {
    const size = sizes[i]!;
    const out = Math.ceil(size / strides[i]!);
    const total = Math.max((out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - size, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return { pads: [...begin, ...end] };
}

function addBias(ctx: LayerContext, inputs: string[], channels: number): void {
  if (ctx.config['useBias'] === false) return;
  const bias = ctx.weight('bias');
  if (!bias) return;
  if (bias.data.length !== channels) throw new VigilError('E_MODEL_CORRUPT', `onnx export: ${ctx.where}: bias has ${bias.data.length} values, expected ${channels}`);
  inputs.push(ctx.g.floats(`${ctx.layer.name}_bias`, [channels], bias.data));
}

/** Spatial sizes (logical axes 1..r) of a channels-last value. */
function spatial(v: Value): (number | null)[] {
  return v.shape.slice(1, -1);
}

function convOutput(ctx: LayerContext, name: string): Value {
  return { name, shape: ctx.outputShape, perm: channelsFirstPerm(ctx.outputShape.length) };
}

/** Plain Conv1D / Conv2D. */
function convN(r: 1 | 2): LayerConverter {
  return (ctx) => {
    requireChannelsLast(ctx);
    const x = ctx.g.channelsFirst(onlyInput(ctx));
    const kernel = requireWeight(ctx, 'kernel'); // (k..., Ci, Co)
    const k = kernel.shape.slice(0, r);
    const [ci, co] = kernel.shape.slice(r) as [number, number];
    const strides = intTuple(ctx, 'strides', r, 1);
    const dilations = intTuple(ctx, 'dilationRate', r, 1);
    const perm = [r + 1, r, ...Array.from({ length: r }, (_, i) => i)];
    const w = transposeData(kernel.data, kernel.shape, perm); // (Co, Ci, k...)
    const inputs = [x.name, ctx.g.floats(`${ctx.layer.name}_W`, w.shape, w.data)];
    addBias(ctx, inputs, co);
    const inChannels = x.shape[x.shape.length - 1]; // logical (channels-last) shape
    if (inChannels !== ci) throw unsupported(ctx, `input has ${String(inChannels)} channels, the kernel expects ${ci}`);
    const pad = convPadding(ctx, spatial(x), k, strides, dilations, stringField(ctx, 'padding', 'valid'));
    const [y] = ctx.g.node('Conv', inputs, { kernel_shape: k, strides, dilations, group: 1, ...pad }, ctx.layer.name);
    return applyActivation(ctx.g, convOutput(ctx, y!), ctx.config['activation'] as string | undefined, ctx.layer.name, ctx.where);
  };
}

/** Depthwise kernel (kH, kW, Ci, M) → grouped Conv weights (Ci·M, 1, kH, kW). */
function depthwiseWeights(kernel: LayerWeight): { data: Float32Array; shape: number[] } {
  const [kh, kw, ci, m] = kernel.shape as [number, number, number, number];
  const t = transposeData(kernel.data, kernel.shape, [2, 3, 0, 1]); // (Ci, M, kH, kW)
  return { data: t.data, shape: [ci * m, 1, kh, kw] };
}

/** The depthwise stage (shared by DepthwiseConv2D and SeparableConv2D); returns the raw output name. */
function depthwiseStage(ctx: LayerContext, x: Value, withBias: boolean): { name: string; channels: number } {
  const kernel = requireWeight(ctx, 'depthwise_kernel');
  const [kh, kw, ci, m] = kernel.shape as [number, number, number, number];
  const strides = intTuple(ctx, 'strides', 2, 1);
  const dilations = intTuple(ctx, 'dilationRate', 2, 1);
  const w = depthwiseWeights(kernel);
  const inputs = [x.name, ctx.g.floats(`${ctx.layer.name}_depthwise_W`, w.shape, w.data)];
  if (withBias) addBias(ctx, inputs, ci * m);
  const pad = convPadding(ctx, spatial(x), [kh, kw], strides, dilations, stringField(ctx, 'padding', 'valid'));
  const [y] = ctx.g.node('Conv', inputs, { kernel_shape: [kh, kw], strides, dilations, group: ci, ...pad }, `${ctx.layer.name}_depthwise`);
  return { name: y!, channels: ci * m };
}

const depthwiseConv2d: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  const x = ctx.g.channelsFirst(onlyInput(ctx));
  const { name } = depthwiseStage(ctx, x, true);
  return applyActivation(ctx.g, convOutput(ctx, name), ctx.config['activation'] as string | undefined, ctx.layer.name, ctx.where);
};

const separableConv2d: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  const x = ctx.g.channelsFirst(onlyInput(ctx));
  const dw = depthwiseStage(ctx, x, false);
  const pointwise = requireWeight(ctx, 'pointwise_kernel'); // (1, 1, Ci·M, Co)
  const co = pointwise.shape[3]!;
  const w = transposeData(pointwise.data, pointwise.shape, [3, 2, 0, 1]);
  const inputs = [dw.name, ctx.g.floats(`${ctx.layer.name}_pointwise_W`, w.shape, w.data)];
  addBias(ctx, inputs, co);
  const [y] = ctx.g.node('Conv', inputs, { kernel_shape: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0] }, `${ctx.layer.name}_pointwise`);
  return applyActivation(ctx.g, convOutput(ctx, y!), ctx.config['activation'] as string | undefined, ctx.layer.name, ctx.where);
};

/**
 * Conv2DTranspose. TF.js computes it as the input gradient of a forward conv from the output size
 * O to the input size I (pads of that forward conv, 'same' or 'valid'); ONNX ConvTranspose with the
 * same pads yields s·(I−1) + k − padBegin − padEnd positions, and output_padding adds the rest
 * (zeros + bias, as TF.js leaves them), so the output is exactly O = deconvLength(I).
 */
const conv2dTranspose: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  const x = ctx.g.channelsFirst(onlyInput(ctx));
  const kernel = requireWeight(ctx, 'kernel'); // (kH, kW, Co, Ci)
  const [kh, kw, co] = kernel.shape as [number, number, number, number];
  const strides = intTuple(ctx, 'strides', 2, 1);
  const dilations = intTuple(ctx, 'dilationRate', 2, 1);
  if (dilations.some((d) => d !== 1)) throw unsupported(ctx, `dilationRate [${dilations.join(', ')}] is not supported, only 1`);
  const inSizes = spatial(x);
  const outSizes = ctx.outputShape.slice(1, -1);
  if ([...inSizes, ...outSizes].some((s) => s === null)) {
    throw unsupported(ctx, 'needs fixed spatial sizes (the input layer leaves height or width open)');
  }
  const padding = stringField(ctx, 'padding', 'valid');
  if (padding !== 'same' && padding !== 'valid') throw unsupported(ctx, `padding '${padding}' is not supported`, { padding });
  const k = [kh, kw];
  const begin: number[] = [];
  const end: number[] = [];
  const outputPadding: number[] = [];
  for (let i = 0; i < 2; i++) {
    const inSize = inSizes[i]!;
    const out = outSizes[i]!;
    // Pads of the forward conv out → in (TF.js' computeConv2DInfo with the same padding mode).
    const total = padding === 'same' ? Math.max((inSize - 1) * strides[i]! + k[i]! - out, 0) : 0;
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
    const full = strides[i]! * (inSize - 1) + k[i]! - total;
    const extra = out - full;
    if (extra < 0 || extra >= strides[i]!) throw unsupported(ctx, `cannot express output size ${out} from input ${inSize} (stride ${strides[i]}, kernel ${k[i]})`);
    outputPadding.push(extra);
  }
  const w = transposeData(kernel.data, kernel.shape, [3, 2, 0, 1]); // (Ci, Co, kH, kW)
  const inputs = [x.name, ctx.g.floats(`${ctx.layer.name}_W`, w.shape, w.data)];
  addBias(ctx, inputs, co);
  const attrs = { kernel_shape: k, strides, dilations: [1, 1], pads: [...begin, ...end], output_padding: outputPadding, group: 1 };
  const [y] = ctx.g.node('ConvTranspose', inputs, attrs, ctx.layer.name);
  return applyActivation(ctx.g, convOutput(ctx, y!), ctx.config['activation'] as string | undefined, ctx.layer.name, ctx.where);
};

export const CONV_CONVERTERS: Record<string, LayerConverter> = {
  Conv1D: convN(1),
  Conv2D: convN(2),
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  Conv2DTranspose: conv2dTranspose,
};
