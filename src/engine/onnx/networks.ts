/**
 * A detector's networks as inference engines, with their ONNX exports kept beside the weights.
 *
 * After training: `NetworkEngines.export({ encoder, decoder })` exports each network, checks the
 * ONNX Runtime output against TF.js on a random batch, and runs it on ORT from then on (TF.js where
 * export, the check or ORT fails). `artifacts()` gives the files to save (`encoder.onnx`, ...; the
 * model store records their sizes and SHA-256 in the manifest) and the manifest state describing them.
 * After loading: `NetworkEngines.restore(state, files, models, dir)` opens the saved files on ORT,
 * falling back to the TF.js models per network when ORT does not load or the folder has no export.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../../core/errors.js';
import { OrtEngine, TfjsEngine, type InferenceEngine } from './engine.js';
import { exportLayersModel, type ExportedModel, type OnnxTensorSpec } from './export.js';
import { resolveInferenceOptions, type InferenceOptions, type ResolvedInferenceOptions } from './options.js';
import { OrtSession } from './runtime.js';

export const ONNX_STATE_VERSION = 1;

/** Largest max|ORT − TF.js| / max|TF.js| accepted when an export is checked. */
export const EXPORT_CHECK_TOLERANCE = 1e-4;

export interface OnnxNetworkEntry {
  /** File in the model folder, e.g. 'encoder.onnx'. */
  file: string;
  /** Graph inputs/outputs with TF.js shapes (null = batch). */
  inputs: OnnxTensorSpec[];
  outputs: OnnxTensorSpec[];
  opset: number;
  /** Relative error of ORT against TF.js on a random batch at export; null when ORT was unavailable. */
  checkedRelError: number | null;
}

/** What `manifest.state.onnx` holds. */
export interface OnnxNetworksState {
  version: number;
  networks: Record<string, OnnxNetworkEntry>;
  /** Networks saved without an ONNX file, and why. */
  skipped: Record<string, string>;
}

export interface ExportNetworksOptions extends InferenceOptions {
  /** Compare ORT with TF.js on a random batch before trusting an export (default true). */
  check?: boolean;
}

interface Exported {
  bytes: Uint8Array;
  entry: OnnxNetworkEntry;
}

/** Where each network runs, or why it fell back to TF.js. */
export interface EngineReport {
  engine: string;
  fallback: string | null;
}

export class NetworkEngines<K extends string> {
  private disposed = false;

  private constructor(
    private readonly engines: Record<K, InferenceEngine>,
    private readonly exported: Map<K, Exported>,
    private readonly skipped: Record<string, string>,
    private readonly fallbacks: Partial<Record<K, string>>,
  ) {}

  /** Exports, checks and opens `models` (see the module comment). Never fails for an unexportable network. */
  static async export<K extends string>(models: Record<K, tfl.LayersModel>, opts: ExportNetworksOptions = {}): Promise<NetworkEngines<K>> {
    const o = resolveInferenceOptions(opts);
    const engines = {} as Record<K, InferenceEngine>;
    const exported = new Map<K, Exported>();
    const skipped: Record<string, string> = {};
    const fallbacks: Partial<Record<K, string>> = {};
    try {
      for (const name of Object.keys(models) as K[]) {
        await exportOne(name, models[name], opts.check !== false, o, engines, exported, skipped, fallbacks);
      }
    } catch (e) {
      for (const engine of Object.values<InferenceEngine>(engines)) engine.dispose();
      throw e;
    }
    return new NetworkEngines(engines, exported, skipped, fallbacks);
  }

  /**
   * Opens the networks of a loaded model folder: `state` is `manifest.state.onnx` (undefined for
   * folders saved without exports), `files` the folder's verified files, `models` the TF.js networks
   * restored from the weights (the fallback). E_MODEL_CORRUPT when the state is malformed or names a
   * file the folder does not hold.
   */
  static async restore<K extends string>(
    state: unknown,
    files: Readonly<Record<string, Uint8Array>>,
    models: Record<K, tfl.LayersModel>,
    dir: string,
    opts: InferenceOptions = {},
  ): Promise<NetworkEngines<K>> {
    const o = resolveInferenceOptions(opts);
    const parsed = state === undefined || state === null ? null : parseState(state, dir);
    const engines = {} as Record<K, InferenceEngine>;
    const exported = new Map<K, Exported>();
    const fallbacks: Partial<Record<K, string>> = {};
    try {
      for (const name of Object.keys(models) as K[]) {
        engines[name] = new TfjsEngine(models[name], `${dir}: network ${name}`);
        const entry = parsed?.networks[name];
        if (!entry) {
          fallbacks[name] = parsed?.skipped[name] ?? `${dir}: no exported ${name}.onnx in the model folder`;
          continue;
        }
        const bytes = files[entry.file];
        if (!bytes) throw new VigilError('E_MODEL_CORRUPT', `${dir}: manifest state.onnx names ${entry.file}, which the manifest's files do not list`, { path: dir, file: entry.file });
        exported.set(name, { bytes, entry });
        if (o.backend === 'tfjs') {
          fallbacks[name] = 'TF.js was asked for (inference backend tfjs)';
          continue;
        }
        engines[name] = await openOrt(bytes, `${dir}/${entry.file}`, o, (why) => (fallbacks[name] = why)).catch((e: unknown) => {
          if (o.backend === 'onnxruntime') throw e;
          fallbacks[name] = (e as Error).message;
          return engines[name];
        });
      }
    } catch (e) {
      for (const engine of Object.values<InferenceEngine>(engines)) engine.dispose();
      throw e;
    }
    return new NetworkEngines(engines, exported, parsed?.skipped ?? {}, fallbacks);
  }

  engine(name: K): InferenceEngine {
    if (this.disposed) throw new VigilError('E_NOT_FITTED', `network ${name}: its engines were disposed`);
    return this.engines[name];
  }

  /** True when every network runs on ONNX Runtime. */
  get allOnnxRuntime(): boolean {
    return Object.values<InferenceEngine>(this.engines).every((e) => e.kind === 'onnxruntime');
  }

  /** Where each network runs and, for TF.js, why. */
  report(): Record<K, EngineReport> {
    const out = {} as Record<K, EngineReport>;
    for (const name of Object.keys(this.engines) as K[]) out[name] = { engine: this.engines[name].description, fallback: this.fallbacks[name] ?? null };
    return out;
  }

  /** ONNX files to write beside the weights, and the manifest state (`state.onnx`) that lists them. */
  artifacts(): { files: Record<string, Uint8Array>; state: OnnxNetworksState } {
    const files: Record<string, Uint8Array> = {};
    const networks: Record<string, OnnxNetworkEntry> = {};
    for (const [name, ex] of this.exported) {
      files[ex.entry.file] = ex.bytes;
      networks[name] = ex.entry;
    }
    return { files, state: { version: ONNX_STATE_VERSION, networks, skipped: { ...this.skipped } } };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const engine of Object.values<InferenceEngine>(this.engines)) engine.dispose();
  }
}

/** Exports, checks and opens one network, filling the maps `NetworkEngines.export` builds. */
async function exportOne<K extends string>(
  name: K,
  model: tfl.LayersModel,
  check: boolean,
  o: ResolvedInferenceOptions,
  engines: Record<K, InferenceEngine>,
  exported: Map<K, Exported>,
  skipped: Record<string, string>,
  fallbacks: Partial<Record<K, string>>,
): Promise<void> {
  const tfjs = new TfjsEngine(model, `network ${name}`);
  engines[name] = tfjs;
  const fallBack = (why: string, skip: boolean): void => {
    if (skip) skipped[name] = why;
    fallbacks[name] = why;
  };
  let spec: ExportedModel;
  try {
    spec = exportLayersModel(model);
  } catch (e) {
    if (!(e instanceof VigilError) || e.code !== 'E_UNSUPPORTED' || o.backend === 'onnxruntime') throw e;
    return fallBack(e.message, true);
  }
  const file = `${name}.onnx`;
  let ort: InferenceEngine | null = null;
  try {
    ort = await openOrt(spec.bytes, file, o, (why) => fallBack(why, false));
  } catch (e) {
    if (o.backend === 'onnxruntime') throw e;
    fallBack((e as Error).message, false);
  }
  let checked: number | null = null;
  if (ort && check) {
    checked = await compareEngines(tfjs, ort, spec.inputs[0]!.shape);
    if (checked !== null && !(checked <= EXPORT_CHECK_TOLERANCE)) {
      ort.dispose();
      const why = `${file}: ONNX Runtime differs from TF.js by ${checked.toExponential(2)} (relative), above ${EXPORT_CHECK_TOLERANCE}; not saved`;
      if (o.backend === 'onnxruntime') throw new VigilError('E_UNSUPPORTED', why, { file });
      return fallBack(why, true);
    }
  }
  exported.set(name, { bytes: spec.bytes, entry: { file, inputs: spec.inputs, outputs: spec.outputs, opset: spec.opset, checkedRelError: checked } });
  if (o.backend === 'tfjs') {
    ort?.dispose();
    fallBack('TF.js was asked for (inference backend tfjs)', false);
  } else if (ort) {
    engines[name] = ort;
  }
}

/**
 * An ORT engine for `bytes` with the configured providers; when those are more than the CPU EP and
 * fail to start (no GPU, no driver), the CPU EP alone, with the reason passed to `onFallback`.
 */
async function openOrt(bytes: Uint8Array, what: string, o: ResolvedInferenceOptions, onFallback: (why: string) => void = () => undefined): Promise<InferenceEngine> {
  let session: OrtSession;
  try {
    session = await OrtSession.create(bytes, what, o);
  } catch (e) {
    const cpuOnly = o.executionProviders.length === 1 && o.executionProviders[0] === 'cpu';
    if (cpuOnly || !(e instanceof VigilError) || e.code !== 'E_UNSUPPORTED') throw e;
    session = await OrtSession.create(bytes, what, { ...o, executionProviders: ['cpu'] });
    onFallback(`${e.message}; running on the cpu execution provider`);
  }
  try {
    return new OrtEngine(session);
  } catch (e) {
    await session.release();
    throw e;
  }
}

/**
 * max|b − a| / max|a| over every output for a deterministic pseudo-random batch of 2 in [−1, 1];
 * null when the input shape has open dimensions besides the batch (nothing to feed).
 */
export async function compareEngines(reference: InferenceEngine, candidate: InferenceEngine, inputShape: readonly (number | null)[]): Promise<number | null> {
  if (inputShape.slice(1).some((d) => d === null)) return null;
  const shape = [2, ...(inputShape.slice(1) as number[])];
  const input = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = 0x9e3779b9;
  for (let i = 0; i < input.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    input[i] = (s / 2 ** 32) * 2 - 1;
  }
  const [ref, got] = await Promise.all([reference.runAll(input, shape), candidate.runAll(input, shape)]);
  if (ref.length !== got.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  ref.forEach((r, k) => {
    const g = got[k]!;
    if (g.data.length !== r.data.length) maxDiff = Infinity;
    for (let i = 0; i < r.data.length && maxDiff !== Infinity; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(r.data[i]! - g.data[i]!));
      maxRef = Math.max(maxRef, Math.abs(r.data[i]!));
    }
  });
  return maxDiff / Math.max(maxRef, 1e-12);
}

function parseState(state: unknown, dir: string): OnnxNetworksState {
  const fail = (what: string): never => {
    throw new VigilError('E_MODEL_CORRUPT', `${dir}: manifest field state.onnx${what}`, { path: dir, field: 'state.onnx' });
  };
  if (typeof state !== 'object' || state === null) return fail(' is not an object');
  const s = state as Record<string, unknown>;
  if (typeof s.version !== 'number') return fail('.version is missing');
  if (s.version > ONNX_STATE_VERSION) {
    throw new VigilError('E_MODEL_INCOMPATIBLE', `${dir}: state.onnx version ${s.version} is newer than this vigil reads (${ONNX_STATE_VERSION})`, { path: dir });
  }
  if (typeof s.networks !== 'object' || s.networks === null) return fail('.networks is not an object');
  for (const [name, e] of Object.entries(s.networks as Record<string, unknown>)) {
    const entry = e as Partial<OnnxNetworkEntry> | null;
    if (typeof entry?.file !== 'string' || !Array.isArray(entry.inputs) || !Array.isArray(entry.outputs)) fail(`.networks.${name} is malformed`);
  }
  const skipped = typeof s.skipped === 'object' && s.skipped !== null ? (s.skipped as Record<string, string>) : {};
  return { version: s.version, networks: s.networks as Record<string, OnnxNetworkEntry>, skipped };
}
