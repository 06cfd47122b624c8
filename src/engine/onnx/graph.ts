/**
 * The ONNX graph under construction, with layout tracking.
 *
 * Every value carries the TF.js (logical) shape it stands for and a permutation `perm`: physical
 * axis i of the ONNX tensor holds logical axis perm[i]. TF.js is channels-last; ONNX convolutions
 * are channels-first, so a conv output (N, H, W, C) lives in ONNX as (N, C, H, W), perm [0, 3, 1, 2].
 * Converters ask for their inputs in the layout they need (`as`), and a Transpose is emitted only
 * when the layouts differ (once per value and layout). Graph inputs and outputs are plain (the
 * TF.js shape), so callers keep the NHWC interface.
 */
import { VigilError } from '../../core/errors.js';
import { attribute, floatTensor, int64Tensor, type AttrValue, type OnnxTypes } from './proto.js';

/** TF.js logical shape; null = the open batch dimension. */
export type LogicalShape = readonly (number | null)[];

export interface Value {
  /** ONNX value name. */
  readonly name: string;
  /** The TF.js shape this value stands for. */
  readonly shape: LogicalShape;
  /** Physical axis i holds logical axis perm[i]. */
  readonly perm: readonly number[];
}

export function identityPerm(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i);
}

/** Channels-first permutation of a channels-last rank-r shape: (N, ..., C) → (N, C, ...). */
export function channelsFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

function samePerm(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Names of attributes that ONNX defines as FLOAT even when the value is integral. */
const FLOAT_ATTRS = new Set(['alpha', 'beta', 'gamma', 'epsilon', 'momentum', 'min', 'max', 'bias', 'lambd']);

export class GraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly transposed = new Map<string, Value>();

  /** A fresh, unique value or node name derived from `base`. */
  unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./-]/g, '_') || 'v';
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Reserves an exact name (graph inputs/outputs); E_CONFIG if taken. */
  reserve(name: string): string {
    if (this.used.has(name)) throw new VigilError('E_CONFIG', `onnx export: the value name "${name}" is used twice`, { name });
    this.used.add(name);
    return name;
  }

  /** Adds a node; returns its output names (fresh ones derived from `base` unless given). */
  node(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, base = op, outputs?: readonly string[]): string[] {
    const outs = outputs ? [...outputs] : [this.unique(`${base}_out`)];
    this.nodes.push({
      opType: op,
      name: this.unique(`${base}_${op}`),
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v, FLOAT_ATTRS.has(k))),
    });
    return outs;
  }

  /** Adds a float32 initializer; returns its name. */
  floats(base: string, dims: readonly number[], values: Float32Array): string {
    const name = this.unique(base);
    this.initializers.push(floatTensor(name, dims, values));
    return name;
  }

  /** Adds an int64 initializer (shapes, pads, axes); returns its name. */
  int64s(base: string, values: readonly number[]): string {
    const name = this.unique(base);
    this.initializers.push(int64Tensor(name, values));
    return name;
  }

  /**
   * `v` in the layout `perm` (physical axis i = logical axis perm[i]), transposing when needed.
   * Transposes are cached, so asking twice costs one node.
   */
  as(v: Value, perm: readonly number[]): Value {
    if (samePerm(v.perm, perm)) return v;
    const key = `${v.name}|${perm.join(',')}`;
    const cached = this.transposed.get(key);
    if (cached) return cached;
    // Output axis i takes input axis t[i], which holds logical axis v.perm[t[i]] = perm[i].
    const t = perm.map((axis) => v.perm.indexOf(axis));
    const [name] = this.node('Transpose', [v.name], { perm: t }, `${v.name}_to_${perm.join('')}`);
    const out: Value = { name: name!, shape: v.shape, perm: [...perm] };
    this.transposed.set(key, out);
    return out;
  }

  /** `v` in TF.js' own layout. */
  plain(v: Value): Value {
    return this.as(v, identityPerm(v.shape.length));
  }

  /** `v` channels-first: (N, C, spatial...). */
  channelsFirst(v: Value): Value {
    return this.as(v, channelsFirstPerm(v.shape.length));
  }
}
