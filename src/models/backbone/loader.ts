/**
 * Loads a pretrained CNN in TF.js layers format (a `model.json` plus its weight shards) from a
 * folder or an http(s) URL, with vigil's own IO: model.json and every shard are read with fs (or
 * fetch), checked, and handed to TF.js with `tf.io.fromMemory`.
 *
 * The input layer's batch shape is rewritten to the size the detector asks for, so a fully
 * convolutional backbone can run at any resolution (its weights do not depend on the size).
 *
 * Errors: a missing folder, model.json or weight shard, an unreadable URL, a graph-format model (no
 * TF.js converter is installed) or weights that do not fit the topology are E_BACKBONE errors that
 * name the file or URL.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../../core/errors.js';
import { initEngine } from '../../engine/backend.js';
import { isUrl } from './source.js';

/** A loaded backbone and what is known about it. */
export interface LoadedBackbone {
  /** The full network, input resized to `input`. */
  model: tfl.LayersModel;
  /** Folder (absolute) or URL it was loaded from. */
  source: string;
  /** The model.json file or URL. */
  modelFile: string;
  /** Input (H, W, C) the network now takes. */
  input: { height: number; width: number; channels: number };
  /** Input (H, W) the topology was saved with (null where the topology leaves it open). */
  nativeInput: { height: number | null; width: number | null };
}

export interface LoadBackboneOptions {
  /** Input size to run at; default the topology's own size. */
  height?: number;
  width?: number;
}

/** Reads model.json and the shards it lists, from a folder or over http(s). */
interface ArtifactReader {
  /** The model.json file or URL. */
  readonly modelFile: string;
  /** Where shard `name` lives (file path or URL), for messages. */
  locate(name: string): string;
  text(): Promise<string>;
  bytes(name: string): Promise<Uint8Array>;
}

function backboneError(message: string, details: Record<string, unknown>, cause?: unknown): VigilError {
  return new VigilError('E_BACKBONE', message, details, cause === undefined ? undefined : { cause });
}

async function folderReader(source: string): Promise<ArtifactReader> {
  const abs = path.resolve(source);
  const st = await stat(abs).catch(() => null);
  if (!st) throw backboneError(`backbone ${abs}: no such folder (expected a TF.js layers model: model.json + weight shards)`, { path: abs });
  const dir = st.isDirectory() ? abs : path.dirname(abs);
  const modelFile = st.isDirectory() ? path.join(abs, 'model.json') : abs;
  return {
    modelFile,
    locate: (name) => path.join(dir, name),
    async text() {
      try {
        return await readFile(modelFile, 'utf8');
      } catch (e) {
        throw backboneError(`backbone ${modelFile}: cannot read model.json (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { path: modelFile }, e);
      }
    },
    async bytes(name) {
      const file = path.join(dir, name);
      try {
        return await readFile(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const what = code === 'ENOENT' ? 'weight shard is missing' : `cannot read weight shard (${code ?? (e as Error).message})`;
        throw backboneError(`backbone ${dir}: ${what}: ${file} (listed in ${path.basename(modelFile)})`, { path: file, shard: name }, e);
      }
    },
  };
}

function urlReader(source: string): ArtifactReader {
  const modelFile = /\.json(\?.*)?$/i.test(source) ? source : `${source.replace(/\/+$/, '')}/model.json`;
  const get = async (url: string, what: string): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw backboneError(`backbone ${url}: cannot fetch ${what} (${(e as Error).message})`, { url }, e);
    }
    if (!res.ok) throw backboneError(`backbone ${url}: fetching ${what} failed with HTTP ${res.status} ${res.statusText}`, { url, status: res.status });
    return res;
  };
  return {
    modelFile,
    locate: (name) => new URL(name, modelFile).href,
    text: async () => (await get(modelFile, 'model.json')).text(),
    bytes: async (name) => new Uint8Array(await (await get(new URL(name, modelFile).href, `weight shard ${name}`)).arrayBuffer()),
  };
}

interface KerasLayerJson {
  class_name: string;
  config: Record<string, unknown>;
  [key: string]: unknown;
}

/** The `config.layers` list of a Keras functional/sequential topology (with or without the model_config wrapper). */
function topologyLayers(topology: Record<string, unknown>): KerasLayerJson[] | null {
  const modelConfig = (topology.model_config ?? topology) as { config?: { layers?: unknown } };
  const layers = modelConfig?.config?.layers;
  return Array.isArray(layers) ? (layers as KerasLayerJson[]) : null;
}

/** Sets the one input layer's batch shape to (null, H, W, C); returns the size it had before. */
function resizeInputLayer(
  layers: KerasLayerJson[],
  where: string,
  height: number | undefined,
  width: number | undefined,
): { native: { height: number | null; width: number | null }; input: { height: number; width: number; channels: number } } {
  // Functional models have an InputLayer; Sequential ones carry the batch shape on their first layer.
  const inputs = layers.filter((l) => l.class_name === 'InputLayer');
  const holder = inputs.length === 0 && layers[0]?.config?.batch_input_shape ? layers[0] : inputs.length === 1 ? inputs[0] : undefined;
  if (!holder) throw backboneError(`backbone ${where}: expected one input layer, found ${inputs.length}`, { path: where });
  const cfg = holder.config;
  const shape = (cfg.batch_input_shape ?? cfg.batchInputShape ?? cfg.batch_shape) as (number | null)[] | undefined;
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw backboneError(`backbone ${where}: the input layer's shape ${JSON.stringify(shape)} is not an image batch (N, H, W, C)`, { path: where });
  }
  const native = { height: shape[1] ?? null, width: shape[2] ?? null };
  const channels = shape[3];
  if (typeof channels !== 'number') throw backboneError(`backbone ${where}: the input layer does not fix its channel count`, { path: where });
  const h = height ?? native.height;
  const w = width ?? native.width;
  if (h === null || w === null) throw backboneError(`backbone ${where}: the topology leaves the input size open; give height and width`, { path: where });
  delete cfg.batchInputShape;
  delete cfg.batch_shape;
  cfg.batch_input_shape = [null, h, w, channels];
  return { native, input: { height: h, width: w, channels } };
}

/** Flattens the weights manifest, reading every shard (checked for presence) in manifest order. */
async function readWeights(reader: ArtifactReader, manifest: unknown): Promise<{ specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer }> {
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw backboneError(`backbone ${reader.modelFile}: no weightsManifest (a TF.js layers model lists its weight shards there)`, { path: reader.modelFile });
  }
  const groups = manifest as tf.io.WeightsManifestConfig;
  const specs = groups.flatMap((g) => g.weights ?? []);
  const chunks: Uint8Array[] = [];
  for (const g of groups) for (const p of g.paths ?? []) chunks.push(await reader.bytes(p));
  const total = chunks.reduce((s, c) => s + c.byteLength, 0);
  const expected = specs.reduce((s, w) => s + w.shape.reduce((a: number, b: number) => a * b, 1) * bytesPerValue(w), 0);
  if (total !== expected) {
    throw backboneError(`backbone ${reader.modelFile}: the weight shards hold ${total} bytes, the manifest's ${specs.length} weights need ${expected} (a shard is truncated or from another model)`, {
      path: reader.modelFile,
      bytes: total,
      expected,
    });
  }
  const data = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.byteLength;
  }
  return { specs, data: data.buffer };
}

function bytesPerValue(w: tf.io.WeightsManifestEntry): number {
  const q = w.quantization?.dtype;
  if (q === 'uint8') return 1;
  if (q === 'uint16' || q === 'float16') return 2;
  return w.dtype === 'bool' ? 1 : 4;
}

/**
 * Loads the backbone at `source` (folder, model.json path or http(s) URL), resized to
 * `opts.height` x `opts.width` when given. Initialises the engine first.
 */
export async function loadBackbone(source: string, opts: LoadBackboneOptions = {}): Promise<LoadedBackbone> {
  await initEngine();
  const reader = isUrl(source) ? urlReader(source) : await folderReader(source);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await reader.text()) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof VigilError) throw e;
    throw backboneError(`backbone ${reader.modelFile}: model.json is not valid JSON (${(e as Error).message})`, { path: reader.modelFile }, e);
  }
  const topology = json.modelTopology as Record<string, unknown> | undefined;
  if (json.format === 'graph-model' || (topology && 'node' in topology)) {
    throw backboneError(
      `backbone ${reader.modelFile}: a TF.js graph model; vigil needs the layers format (model.json from tensorflowjs_converter --output_format tfjs_layers_model), since it taps named layers`,
      { path: reader.modelFile, format: 'graph-model' },
    );
  }
  const layers = topology ? topologyLayers(topology) : null;
  if (!topology || !layers) {
    throw backboneError(`backbone ${reader.modelFile}: no Keras modelTopology with layers (not a TF.js layers model)`, { path: reader.modelFile });
  }
  const sizes = resizeInputLayer(layers, reader.modelFile, opts.height, opts.width);
  const { specs, data } = await readWeights(reader, json.weightsManifest);
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: specs, weightData: data }));
  } catch (e) {
    const msg = (e as Error).message;
    const code = /negative|dimension|shape/i.test(msg) && (opts.height !== undefined || opts.width !== undefined) ? 'E_SHAPE' : 'E_BACKBONE';
    throw new VigilError(code, `backbone ${reader.modelFile}: cannot build the network at ${sizes.input.height}x${sizes.input.width} (${msg})`, { path: reader.modelFile }, { cause: e });
  }
  return {
    model,
    source: isUrl(source) ? source : path.dirname(reader.modelFile),
    modelFile: reader.modelFile,
    input: sizes.input,
    nativeInput: sizes.native,
  };
}
