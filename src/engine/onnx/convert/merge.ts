/**
 * Merge layers → ONNX: Add, Multiply, Average, Maximum, Minimum, Concatenate. All inputs
 * are brought to the first input's layout (so a residual sum of two conv outputs stays
 * channels-first), and Concatenate's axis is mapped to that layout's physical axis.
 */
import type { Value } from '../graph.js';
import { normaliseAxis, numberField, unsupported, type LayerContext, type LayerConverter } from './types.js';

function aligned(ctx: LayerContext): Value[] {
  if (ctx.inputs.length < 2) throw unsupported(ctx, `needs at least two inputs, got ${ctx.inputs.length}`);
  const first = ctx.inputs[0]!;
  for (const v of ctx.inputs) {
    if (v.shape.length !== first.shape.length) throw unsupported(ctx, `inputs of ranks ${ctx.inputs.map((i) => i.shape.length).join(', ')} (broadcasting merges are not supported)`);
  }
  return ctx.inputs.map((v) => ctx.g.as(v, first.perm));
}

/** Variadic ONNX op (Sum, Mean, Max, Min) or a chain of binary ones (Mul). */
function merge(op: string, variadic: boolean): LayerConverter {
  return (ctx) => {
    const xs = aligned(ctx);
    let name: string;
    if (variadic) {
      [name] = ctx.g.node(op, xs.map((x) => x.name), {}, ctx.layer.name) as [string];
    } else {
      name = xs[0]!.name;
      for (const x of xs.slice(1)) [name] = ctx.g.node(op, [name, x.name], {}, ctx.layer.name) as [string];
    }
    return { name, shape: ctx.outputShape, perm: xs[0]!.perm };
  };
}

const concatenate: LayerConverter = (ctx) => {
  const xs = aligned(ctx);
  const axis = normaliseAxis(ctx, numberField(ctx, 'axis', -1), xs[0]!.shape.length);
  const [y] = ctx.g.node('Concat', xs.map((x) => x.name), { axis: xs[0]!.perm.indexOf(axis) }, ctx.layer.name);
  return { name: y!, shape: ctx.outputShape, perm: xs[0]!.perm };
};

export const MERGE_CONVERTERS: Record<string, LayerConverter> = {
  Add: merge('Sum', true),
  Average: merge('Mean', true),
  Maximum: merge('Max', true),
  Minimum: merge('Min', true),
  Multiply: merge('Mul', false),
  Concatenate: concatenate,
};
