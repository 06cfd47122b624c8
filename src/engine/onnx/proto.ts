/**
 * Thin typed helpers over onnx-proto (protobufjs' generated ONNX schema): float/int64 initializers,
 * node attributes, graph value infos and the final ModelProto encoding. Everything ONNX-specific
 * about bytes lives here; the exporter only speaks in names, shapes and numbers.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type { OnnxTypes };

/** ai.onnx opset the exporter targets, and the IR version that goes with it. */
export const OPSET = 13;
export const IR_VERSION = 7;

/** A node attribute value: int, float, string, int list or float list. */
export type AttrValue = number | string | readonly number[] | { floats: readonly number[] };

/** ONNX float32 initializer (row-major `dims`) from values; the bytes are little-endian float32. */
export function floatTensor(name: string, dims: readonly number[], values: Float32Array): OnnxTypes.ITensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== values.length) throw new RangeError(`initializer ${name}: ${values.length} values do not fill dims [${dims.join(', ')}]`);
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  return { name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes };
}

/** ONNX int64 initializer (e.g. a Reshape target or Pad amounts). */
export function int64Tensor(name: string, values: readonly number[]): OnnxTypes.ITensorProto {
  const data = new BigInt64Array(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(data.buffer) };
}

/**
 * Attribute from a plain value: integers → INT, other numbers → FLOAT, strings → STRING, arrays of
 * integers → INTS, `{ floats }` → FLOATS. `floatAttrs` names attributes that must be FLOAT even when
 * the value happens to be integral (alpha = 1, min = 0, ...).
 */
export function attribute(name: string, value: AttrValue, asFloat: boolean): OnnxTypes.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return asFloat || !Number.isInteger(value) ? { name, type: T.FLOAT, f: value } : { name, type: T.INT, i: value };
  }
  if ('floats' in value) return { name, type: T.FLOATS, floats: [...value.floats] };
  return { name, type: T.INTS, ints: [...(value as readonly number[])] };
}

/** Graph input/output description; `null` dims become the symbolic batch dimension 'N'. */
export function valueInfo(name: string, shape: readonly (number | null)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: shape.map((d) => (d === null ? { dimParam: 'N' } : { dimValue: d })) },
      },
    },
  };
}

export interface ModelParts {
  graphName: string;
  nodes: OnnxTypes.INodeProto[];
  initializers: OnnxTypes.ITensorProto[];
  inputs: OnnxTypes.IValueInfoProto[];
  outputs: OnnxTypes.IValueInfoProto[];
  /** Free-form key/value metadata stored in the model (producer details, layouts). */
  metadata: Record<string, string>;
  producerVersion: string;
}

/** Serialises a complete ONNX model. */
export function encodeModel(p: ModelParts): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'vigil',
    producerVersion: p.producerVersion,
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries(p.metadata).map(([key, value]) => ({ key, value })),
    graph: { name: p.graphName, node: p.nodes, initializer: p.initializers, input: p.inputs, output: p.outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Parses ONNX bytes (for tests and inspection). */
export function decodeModel(bytes: Uint8Array): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
