/**
 * ONNX Runtime sessions (onnxruntime-node), float32 in and out. The native binding is imported on
 * first use, so a platform where it does not load costs nothing until ORT is asked for, and the
 * failure is an E_UNSUPPORTED error a caller can fall back from.
 */
import type * as Ort from 'onnxruntime-node';
import { VigilError } from '../../core/errors.js';
import { resolveInferenceOptions, type ExecutionProvider, type InferenceOptions } from './options.js';

type OrtModule = typeof Ort;

let ortModule: Promise<OrtModule> | null = null;

/** The onnxruntime-node module (E_UNSUPPORTED if its native binding does not load). */
export async function loadOrt(): Promise<OrtModule> {
  ortModule ??= import('onnxruntime-node').catch((e: unknown) => {
    ortModule = null;
    throw new VigilError('E_UNSUPPORTED', `onnxruntime-node does not load on this machine (${(e as Error).message})`, {}, { cause: e });
  });
  return ortModule;
}

/** A float32 tensor in row-major order. */
export interface FloatTensor {
  data: Float32Array;
  shape: number[];
}

/** A graph input's or output's name and declared shape (strings are symbolic dimensions). */
export interface OrtValueInfo {
  name: string;
  shape: readonly (number | string)[];
}

export interface OrtSessionInfo {
  inputs: OrtValueInfo[];
  outputs: OrtValueInfo[];
  /** Execution providers asked for, in order. */
  executionProviders: readonly ExecutionProvider[];
  intraOpThreads: number;
}

function valueInfos(meta: readonly Ort.InferenceSession.ValueMetadata[], names: readonly string[]): OrtValueInfo[] {
  return names.map((name) => {
    const m = meta.find((x) => x.name === name);
    return { name, shape: m && m.isTensor ? [...m.shape] : [] };
  });
}

export class OrtSession {
  private released = false;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    /** What the session runs, for messages (e.g. the model file). */
    readonly what: string,
    readonly info: OrtSessionInfo,
  ) {}

  /**
   * Creates a session from ONNX bytes. `what` names the model in errors (a file path, or
   * 'encoder.onnx in <dir>'). E_MODEL_CORRUPT for bytes that are no ONNX model; E_UNSUPPORTED when ORT
   * does not load, an execution provider cannot start, or ORT rejects an operator.
   */
  static async create(bytes: Uint8Array, what: string, opts: InferenceOptions = {}): Promise<OrtSession> {
    const o = resolveInferenceOptions(opts);
    const ort = await loadOrt();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: o.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        executionProviders: [...o.executionProviders],
        logSeverityLevel: 3,
      });
    } catch (e) {
      const msg = (e as Error).message;
      // Bytes that are no ONNX model are corrupt; anything else (an execution provider that cannot
      // start, an operator or attribute ORT rejects) is unsupported here.
      const code = /protobuf|parsing failed|invalid model|ModelProto|model_path/i.test(msg) ? 'E_MODEL_CORRUPT' : 'E_UNSUPPORTED';
      throw new VigilError(code, `${what}: ONNX Runtime cannot load the model with providers [${o.executionProviders.join(', ')}] (${msg})`, { path: what }, { cause: e });
    }
    const info: OrtSessionInfo = {
      inputs: valueInfos(session.inputMetadata, session.inputNames),
      outputs: valueInfos(session.outputMetadata, session.outputNames),
      executionProviders: o.executionProviders,
      intraOpThreads: o.intraOpThreads,
    };
    return new OrtSession(ort, session, what, info);
  }

  /** Runs the graph; `feeds` by input name, every output returned by name. */
  async run(feeds: Record<string, FloatTensor>): Promise<Record<string, FloatTensor>> {
    if (this.released) throw new VigilError('E_NOT_FITTED', `${this.what}: the ONNX Runtime session was released`);
    const inputs: Record<string, Ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const count = t.shape.reduce((a, b) => a * b, 1);
      if (count !== t.data.length) throw new VigilError('E_SHAPE', `${this.what}: input '${name}' has ${t.data.length} values, shape [${t.shape.join(', ')}] needs ${count}`, { input: name });
      inputs[name] = new this.ort.Tensor('float32', t.data, t.shape);
    }
    let results: Ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(inputs);
    } catch (e) {
      throw new VigilError('E_SHAPE', `${this.what}: ONNX Runtime failed to run (${(e as Error).message})`, { path: this.what }, { cause: e });
    }
    const out: Record<string, FloatTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      if (t.type !== 'float32') throw new VigilError('E_UNSUPPORTED', `${this.what}: output '${name}' is ${t.type}, vigil reads float32 outputs`, { output: name });
      out[name] = { data: t.data as Float32Array, shape: t.dims.map(Number) };
    }
    return out;
  }

  /** Frees the native session (idempotent). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}
