/**
 * Spatial layers → ONNX, channels-first: ZeroPadding2D (Pad), Max/AveragePooling1D/2D (pads as
 * TF.js computes them; average pooling excludes the padding from its count, as TF.js does), global
 * pooling (then (N, C)), UpSampling2D (Resize with TF.js' asymmetric coordinates).
 */
import { channelsFirstPerm, type Value } from '../graph.js';
import type { AttrValue } from '../proto.js';
import { intTuple, onlyInput, requireChannelsLast, stringField, unsupported, type LayerContext, type LayerConverter } from './types.js';

function channelsFirstOut(ctx: LayerContext, name: string): Value {
  return { name, shape: ctx.outputShape, perm: channelsFirstPerm(ctx.outputShape.length) };
}

/** ZeroPadding2D: padding [[top, bottom], [left, right]]. */
const zeroPadding2d: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  const x = ctx.g.channelsFirst(onlyInput(ctx));
  const p = ctx.config['padding'];
  const ok = Array.isArray(p) && p.length === 2 && p.every((a) => Array.isArray(a) && a.length === 2 && a.every((v) => Number.isInteger(v) && v >= 0));
  if (!ok) throw unsupported(ctx, `padding ${JSON.stringify(p)} is not [[top, bottom], [left, right]]`);
  const [[top, bottom], [left, right]] = p as [[number, number], [number, number]];
  const pads = ctx.g.int64s(`${ctx.layer.name}_pads`, [0, 0, top, left, 0, 0, bottom, right]);
  const [y] = ctx.g.node('Pad', [x.name, pads], { mode: 'constant' }, ctx.layer.name);
  return channelsFirstOut(ctx, y!);
};

function pooling(op: 'MaxPool' | 'AveragePool', r: 1 | 2): LayerConverter {
  return (ctx) => {
    requireChannelsLast(ctx);
    const x = ctx.g.channelsFirst(onlyInput(ctx));
    const pool = intTuple(ctx, 'poolSize', r);
    const strides = ctx.config['strides'] === null || ctx.config['strides'] === undefined ? pool : intTuple(ctx, 'strides', r);
    const padding = stringField(ctx, 'padding', 'valid');
    const sizes = x.shape.slice(1, -1);
    let pads: number[];
    if (padding === 'valid') {
      pads = new Array<number>(2 * r).fill(0);
    } else if (padding === 'same') {
      if (sizes.some((s) => s === null)) throw unsupported(ctx, "padding 'same' needs fixed spatial sizes");
      const begin: number[] = [];
      const end: number[] = [];
      sizes.forEach((s, i) => {
        const out = Math.ceil(s! / strides[i]!);
        const total = Math.max((out - 1) * strides[i]! + pool[i]! - s!, 0);
        begin.push(Math.floor(total / 2));
        end.push(total - Math.floor(total / 2));
      });
      pads = [...begin, ...end];
    } else {
      throw unsupported(ctx, `padding '${padding}' is not supported`, { padding });
    }
    const attrs: Record<string, AttrValue> = { kernel_shape: pool, strides, pads };
    if (op === 'AveragePool') attrs['count_include_pad'] = 0;
    const [y] = ctx.g.node(op, [x.name], attrs, ctx.layer.name);
    return channelsFirstOut(ctx, y!);
  };
}

/** Global pooling over the spatial axes: (N, ..., C) → (N, C). */
function globalPooling(op: 'GlobalAveragePool' | 'GlobalMaxPool'): LayerConverter {
  return (ctx) => {
    requireChannelsLast(ctx);
    if (ctx.config['keepDims'] === true) throw unsupported(ctx, 'keepDims is not supported');
    const x = ctx.g.channelsFirst(onlyInput(ctx));
    const [pooled] = ctx.g.node(op, [x.name], {}, ctx.layer.name); // (N, C, 1, ...)
    const [y] = ctx.g.node('Flatten', [pooled!], { axis: 1 }, ctx.layer.name);
    return { name: y!, shape: ctx.outputShape, perm: [0, 1] };
  };
}

/** UpSampling2D by integer factors, nearest or bilinear, as TF.js resizes (no corner alignment, no half-pixel centres). */
const upSampling2d: LayerConverter = (ctx) => {
  requireChannelsLast(ctx);
  const x = ctx.g.channelsFirst(onlyInput(ctx));
  const [sh, sw] = intTuple(ctx, 'size', 2, 2);
  const interpolation = stringField(ctx, 'interpolation', 'nearest');
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') throw unsupported(ctx, `interpolation '${interpolation}' is not supported`);
  const scales = ctx.g.floats(`${ctx.layer.name}_scales`, [4], Float32Array.of(1, 1, sh!, sw!));
  const attrs: Record<string, AttrValue> = { mode: interpolation === 'nearest' ? 'nearest' : 'linear', coordinate_transformation_mode: 'asymmetric' };
  if (interpolation === 'nearest') attrs['nearest_mode'] = 'floor';
  const [y] = ctx.g.node('Resize', [x.name, '', scales], attrs, ctx.layer.name);
  return channelsFirstOut(ctx, y!);
};

export const SPATIAL_CONVERTERS: Record<string, LayerConverter> = {
  ZeroPadding2D: zeroPadding2d,
  MaxPooling1D: pooling('MaxPool', 1),
  MaxPooling2D: pooling('MaxPool', 2),
  AveragePooling1D: pooling('AveragePool', 1),
  AveragePooling2D: pooling('AveragePool', 2),
  GlobalAveragePooling1D: globalPooling('GlobalAveragePool'),
  GlobalAveragePooling2D: globalPooling('GlobalAveragePool'),
  GlobalMaxPooling1D: globalPooling('GlobalMaxPool'),
  GlobalMaxPooling2D: globalPooling('GlobalMaxPool'),
  UpSampling2D: upSampling2d,
};
