/**
 * TF.js layers model (Sequential or functional, nested models inlined) → ONNX (opset 13).
 *
 * The graph is walked from the model's outputs back through each symbolic tensor's inputs, so
 * shared layers and branches are converted once per application. Inputs and outputs keep TF.js'
 * shapes (NHWC for images, (N, L, C) for series): callers feed and read the same buffers they give
 * TF.js. Inside, convolutions run channels-first and Transposes sit only where the layout changes
 * (see graph.ts).
 *
 *   const { bytes, inputs, outputs } = exportLayersModel(model);
 *   // inputs[0] = { name: 'input', shape: [null, 28, 28, 1] }
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../../core/errors.js';
import { VIGIL_VERSION } from '../../core/version.js';
import { LAYER_CONVERTERS } from './convert/index.js';
import type { LayerContext, LayerWeight } from './convert/types.js';
import { GraphBuilder, identityPerm, type LogicalShape, type Value } from './graph.js';
import { encodeModel, OPSET, valueInfo } from './proto.js';

/** A graph input or output: its ONNX name and TF.js shape (null = batch). */
export interface OnnxTensorSpec {
  name: string;
  shape: (number | null)[];
}

export interface ExportOptions {
  /** Graph input names; default 'input' for one input, else the input layers' names. */
  inputNames?: readonly string[];
  /** Graph output names; default 'output' for one output, else the output layers' names. */
  outputNames?: readonly string[];
}

export interface ExportedModel {
  /** The serialised ONNX ModelProto. */
  bytes: Uint8Array;
  inputs: OnnxTensorSpec[];
  outputs: OnnxTensorSpec[];
  opset: number;
  /** Node count, for reports. */
  nodes: number;
}

type Scope = Map<number, Value>;

function sanitise(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function defaultNames(given: readonly string[] | undefined, tensors: readonly tfl.SymbolicTensor[], single: string, what: string): string[] {
  if (given) {
    if (given.length !== tensors.length) throw new VigilError('E_CONFIG', `onnx export: ${given.length} ${what} names for ${tensors.length} ${what}s`, { field: `${what}Names` });
    return [...given];
  }
  return tensors.length === 1 ? [single] : tensors.map((t) => sanitise(t.sourceLayer.name));
}

/** The layer's weights by the last component of their names ('kernel', 'bias', 'gamma', ...). */
function weightReader(layer: tfl.layers.Layer, where: string): (suffix: string) => LayerWeight | null {
  const bySuffix = new Map<string, tfl.LayerVariable>();
  for (const w of layer.weights) bySuffix.set(w.originalName.split('/').pop() ?? w.originalName, w);
  return (suffix) => {
    const w = bySuffix.get(suffix);
    if (!w) return null;
    if (w.dtype !== 'float32') throw new VigilError('E_UNSUPPORTED', `onnx export: ${where}: weight '${suffix}' is ${w.dtype}, only float32 is exported`);
    return { data: w.read().dataSync() as Float32Array, shape: [...w.shape] as number[] };
  };
}

class Walker {
  constructor(private readonly g: GraphBuilder) {}

  /** The value standing for symbolic tensor `t` (converting its layer, and what feeds it, once). */
  evaluate(t: tfl.SymbolicTensor, scope: Scope): Value {
    const known = scope.get(t.id);
    if (known) return known;
    const layer = t.sourceLayer;
    const className = layer.getClassName();
    const where = `layer '${layer.name}' (${className})`;
    if (className === 'InputLayer') {
      throw new VigilError('E_UNSUPPORTED', `onnx export: ${where} feeds the graph but is not one of the model's inputs`, { layer: layer.name });
    }
    const inputs = t.inputs.map((i) => this.evaluate(i, scope));
    const out = layer instanceof tfl.LayersModel ? this.inline(layer, t, inputs) : this.convert(layer, className, where, t, inputs);
    scope.set(t.id, out);
    return out;
  }

  /** A nested model applied as a layer: its own graph, with its inputs bound to `inputs`. */
  private inline(model: tfl.LayersModel, t: tfl.SymbolicTensor, inputs: Value[]): Value {
    if (model.inputs.length !== inputs.length) {
      throw new VigilError('E_UNSUPPORTED', `onnx export: nested model '${model.name}' takes ${model.inputs.length} inputs, is called with ${inputs.length}`);
    }
    const inner: Scope = new Map(model.inputs.map((it, i) => [it.id, inputs[i]!]));
    const output = model.outputs[t.tensorIndex ?? 0];
    if (!output) throw new VigilError('E_UNSUPPORTED', `onnx export: nested model '${model.name}' has no output ${t.tensorIndex}`);
    return this.evaluate(output, inner);
  }

  private convert(layer: tfl.layers.Layer, className: string, where: string, t: tfl.SymbolicTensor, inputs: Value[]): Value {
    const converter = LAYER_CONVERTERS[className];
    if (!converter) {
      throw new VigilError('E_UNSUPPORTED', `onnx export: ${where} has no ONNX converter (supported: ${Object.keys(LAYER_CONVERTERS).sort().join(', ')})`, {
        layer: layer.name,
        className,
      });
    }
    if ((t.tensorIndex ?? 0) !== 0) throw new VigilError('E_UNSUPPORTED', `onnx export: ${where}: layers with several outputs are not supported`);
    const ctx: LayerContext = {
      g: this.g,
      layer,
      className,
      config: layer.getConfig() as Record<string, unknown>,
      inputs,
      outputShape: t.shape as LogicalShape,
      where,
      weight: weightReader(layer, where),
    };
    return converter(ctx);
  }
}

/**
 * Exports `model` to ONNX. Throws E_UNSUPPORTED naming the layer (and listing what is supported)
 * when a layer, activation or setting has no ONNX form.
 */
export function exportLayersModel(model: tfl.LayersModel, opts: ExportOptions = {}): ExportedModel {
  const g = new GraphBuilder();
  const inputNames = defaultNames(opts.inputNames, model.inputs, 'input', 'input').map((n) => g.reserve(n));
  const outputNames = defaultNames(opts.outputNames, model.outputs, 'output', 'output').map((n) => g.reserve(n));
  const scope: Scope = new Map();
  const inputs: OnnxTensorSpec[] = model.inputs.map((t, i) => {
    const shape = [...t.shape] as (number | null)[];
    scope.set(t.id, { name: inputNames[i]!, shape, perm: identityPerm(shape.length) });
    return { name: inputNames[i]!, shape };
  });
  const walker = new Walker(g);
  const outputs: OnnxTensorSpec[] = model.outputs.map((t, i) => {
    const v = g.plain(walker.evaluate(t, scope));
    g.node('Identity', [v.name], {}, outputNames[i]!, [outputNames[i]!]);
    return { name: outputNames[i]!, shape: [...v.shape] };
  });
  const bytes = encodeModel({
    graphName: sanitise(model.name),
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: inputs.map((s) => valueInfo(s.name, s.shape)),
    outputs: outputs.map((s) => valueInfo(s.name, s.shape)),
    metadata: {
      'vigil.source': `tfjs-layers model '${model.name}'`,
      'vigil.layout': 'inputs and outputs keep TF.js shapes (channels-last)',
    },
    producerVersion: VIGIL_VERSION,
  });
  return { bytes, inputs, outputs, opset: OPSET, nodes: g.nodes.length };
}
