/**
 * What a layer converter sees: the layer, its config, its inputs as graph values, and typed access
 * to its weights and config fields with errors that name the layer.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../../../core/errors.js';
import type { GraphBuilder, LogicalShape, Value } from '../graph.js';

export interface LayerWeight {
  /** Row-major values (never mutate: the cpu backend hands out its own buffer). */
  data: Float32Array;
  shape: number[];
}

export interface LayerContext {
  readonly g: GraphBuilder;
  readonly layer: tfl.layers.Layer;
  readonly className: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly inputs: readonly Value[];
  /** The TF.js output shape of this application of the layer. */
  readonly outputShape: LogicalShape;
  /** "layer 'conv2d_1' (Conv2D)", for messages. */
  readonly where: string;
  /** Weight by its name's last path component ('kernel', 'bias', 'gamma', ...), or null. */
  weight(suffix: string): LayerWeight | null;
}

/** Converts one layer application; returns the value standing for its output. */
export type LayerConverter = (ctx: LayerContext) => Value;

export function unsupported(ctx: Pick<LayerContext, 'where'>, what: string, details: Record<string, unknown> = {}): VigilError {
  return new VigilError('E_UNSUPPORTED', `onnx export: ${ctx.where}: ${what}`, { ...details });
}

/** A weight the layer must have (E_MODEL_CORRUPT naming the layer if it lacks it). */
export function requireWeight(ctx: LayerContext, suffix: string): LayerWeight {
  const w = ctx.weight(suffix);
  if (!w) throw new VigilError('E_MODEL_CORRUPT', `onnx export: ${ctx.where} has no '${suffix}' weight`, { weight: suffix });
  return w;
}

/** The single input of a one-input layer. */
export function onlyInput(ctx: LayerContext): Value {
  if (ctx.inputs.length !== 1) throw unsupported(ctx, `expected one input, got ${ctx.inputs.length}`);
  return ctx.inputs[0]!;
}

/** Config field as an array of `n` integers (a scalar is repeated). */
export function intTuple(ctx: LayerContext, field: string, n: number, fallback?: number): number[] {
  const v = ctx.config[field] ?? fallback;
  const arr = typeof v === 'number' ? Array.from({ length: n }, () => v) : Array.isArray(v) ? (v as unknown[]) : null;
  if (!arr || arr.length !== n || !arr.every((x) => Number.isInteger(x))) {
    throw unsupported(ctx, `config field '${field}' is ${JSON.stringify(v)}, expected ${n} integer(s)`, { field });
  }
  return arr as number[];
}

export function numberField(ctx: LayerContext, field: string, fallback?: number): number {
  const v = ctx.config[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw unsupported(ctx, `config field '${field}' is ${JSON.stringify(v)}, expected a number`, { field });
  return v;
}

export function stringField(ctx: LayerContext, field: string, fallback?: string): string {
  const v = ctx.config[field] ?? fallback;
  if (typeof v !== 'string') throw unsupported(ctx, `config field '${field}' is ${JSON.stringify(v)}, expected a string`, { field });
  return v;
}

/** Rejects channels_first data formats (vigil's networks are channels-last throughout). */
export function requireChannelsLast(ctx: LayerContext): void {
  const f = ctx.config['dataFormat'];
  if (f !== undefined && f !== null && f !== 'channelsLast') throw unsupported(ctx, `dataFormat '${String(f)}' is not supported, only channelsLast`, { dataFormat: f });
}

/** Logical axis (negative counts from the end) as a non-negative index, checked against the rank. */
export function normaliseAxis(ctx: LayerContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw unsupported(ctx, `axis ${axis} is out of range for rank ${rank}`, { axis });
  return a;
}

/** Row-major transpose of `data` (shape `shape`) by `perm`: out axis i = in axis perm[i]. */
export function transposeData(data: Float32Array, shape: readonly number[], perm: readonly number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i]!;
  }
  const strides = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i]! * strides[i]!;
    out[o] = data[src]!;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i]! < outShape[i]!) break;
      idx[i] = 0;
    }
  }
  return { data: out, shape: outShape };
}
