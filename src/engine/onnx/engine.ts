/**
 * One interface for a network's forward pass, whichever engine runs it: TF.js (the layers model
 * itself) or ONNX Runtime (its exported graph). Inputs and outputs are row-major float32 buffers in
 * TF.js' shapes (NHWC images, (N, L, C) series, (N, D) vectors), so a caller can swap engines
 * without touching its data.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../../core/errors.js';
import type { FloatTensor, OrtSession } from './runtime.js';

export type EngineKind = 'tfjs' | 'onnxruntime';

export interface InferenceEngine {
  readonly kind: EngineKind;
  /** e.g. "onnxruntime [cpu], 2 threads" or "tfjs (wasm)". */
  readonly description: string;
  /** Forward pass; returns the first output. `input` is row-major with `shape` (batch first). */
  run(input: Float32Array, shape: readonly number[]): Promise<Float32Array>;
  /** Forward pass; every output with its shape, in the model's output order. */
  runAll(input: Float32Array, shape: readonly number[]): Promise<FloatTensor[]>;
  /** Frees what the engine owns (the ORT session; a TF.js engine does not own its model). */
  dispose(): void;
}

function checkCount(what: string, input: Float32Array, shape: readonly number[]): void {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== input.length) {
    throw new VigilError('E_SHAPE', `${what}: input has ${input.length} values, shape [${shape.join(', ')}] needs ${count}`, { shape: [...shape] });
  }
}

/** Runs a TF.js layers model. The model stays the caller's: dispose() leaves it alone. */
export class TfjsEngine implements InferenceEngine {
  readonly kind = 'tfjs' as const;

  constructor(
    private readonly model: tfl.LayersModel,
    private readonly what = `network ${model.name}`,
  ) {}

  get description(): string {
    return `tfjs (${tf.getBackend()})`;
  }

  async run(input: Float32Array, shape: readonly number[]): Promise<Float32Array> {
    return (await this.runAll(input, shape))[0]!.data;
  }

  async runAll(input: Float32Array, shape: readonly number[]): Promise<FloatTensor[]> {
    checkCount(this.what, input, shape);
    const outs = tf.tidy(() => {
      const y = this.model.predict(tf.tensor(input, [...shape], 'float32'));
      return Array.isArray(y) ? y : [y];
    });
    try {
      return await Promise.all(outs.map(async (t) => ({ data: (await t.data()) as Float32Array, shape: [...t.shape] })));
    } finally {
      tf.dispose(outs);
    }
  }

  dispose(): void {}
}

/** Runs an exported graph on ONNX Runtime; owns (and releases) the session. */
export class OrtEngine implements InferenceEngine {
  readonly kind = 'onnxruntime' as const;
  private readonly inputName: string;

  constructor(private readonly session: OrtSession) {
    const first = session.info.inputs[0];
    if (!first || session.info.inputs.length !== 1) {
      throw new VigilError('E_UNSUPPORTED', `${session.what}: the model has ${session.info.inputs.length} inputs, an engine feeds exactly one`, { path: session.what });
    }
    this.inputName = first.name;
  }

  get description(): string {
    return `onnxruntime [${this.session.info.executionProviders.join(', ')}], ${this.session.info.intraOpThreads} thread(s)`;
  }

  async run(input: Float32Array, shape: readonly number[]): Promise<Float32Array> {
    return (await this.runAll(input, shape))[0]!.data;
  }

  async runAll(input: Float32Array, shape: readonly number[]): Promise<FloatTensor[]> {
    checkCount(this.session.what, input, shape);
    const out = await this.session.run({ [this.inputName]: { data: input, shape: [...shape] } });
    return this.session.info.outputs.map((o) => out[o.name]!);
  }

  dispose(): void {
    // Release is asynchronous in ORT; nothing waits on it and a failure leaves nothing to clean up.
    void this.session.release().catch(() => undefined);
  }
}
