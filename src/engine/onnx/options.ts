/**
 * Inference settings: which engine runs networks and how ONNX Runtime is set up. Defaults live here
 * only, optionally overridden once from the environment:
 *   VIGIL_INFERENCE   auto | onnxruntime | tfjs   (default auto: ORT when an exported model loads)
 *   VIGIL_ORT_THREADS intra-op threads            (default 1; a backbone's feature extraction asks for 2)
 *   VIGIL_ORT_EP      comma list of execution providers in order of preference (default cpu),
 *                     e.g. "webgpu,cpu" to try ONNX Runtime's WebGPU EP on a GPU machine
 */
import { VigilError } from '../../core/errors.js';

export type InferenceBackend = 'auto' | 'onnxruntime' | 'tfjs';
export const INFERENCE_BACKENDS: readonly InferenceBackend[] = ['auto', 'onnxruntime', 'tfjs'];

/** ONNX Runtime execution providers onnxruntime-node can be asked for (those bundled on Linux x64: cpu, webgpu). */
export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda' | 'tensorrt' | 'dml' | 'coreml';
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda', 'tensorrt', 'dml', 'coreml'];

export interface InferenceOptions {
  /** 'auto' (default): ORT when an exported model is there and loads, TF.js otherwise. */
  backend?: InferenceBackend;
  /**
   * ORT intra-op threads (default 1: vigil's autoencoders are small enough that a second thread costs
   * more than it gains, and a service scores many requests at once; bench/results/speed.md, service.md).
   */
  intraOpThreads?: number;
  /** ORT execution providers in order of preference (default ['cpu']). */
  executionProviders?: readonly ExecutionProvider[];
}

export type ResolvedInferenceOptions = Required<InferenceOptions>;

const DEFAULTS: ResolvedInferenceOptions = Object.freeze({ backend: 'auto', intraOpThreads: 1, executionProviders: Object.freeze(['cpu'] as ExecutionProvider[]) });

function checkBackend(v: string, field: string): InferenceBackend {
  if (!(INFERENCE_BACKENDS as readonly string[]).includes(v)) {
    throw new VigilError('E_CONFIG', `${field}: '${v}' is not an inference backend (use ${INFERENCE_BACKENDS.join(', ')})`, { field, value: v });
  }
  return v as InferenceBackend;
}

function checkThreads(v: number, field: string): number {
  if (!Number.isInteger(v) || v < 1 || v > 256) throw new VigilError('E_CONFIG', `${field}: ${v} must be an integer from 1 to 256`, { field, value: v });
  return v;
}

function checkProviders(v: readonly string[], field: string): ExecutionProvider[] {
  if (v.length === 0) throw new VigilError('E_CONFIG', `${field}: name at least one execution provider`, { field });
  for (const ep of v) {
    if (!(EXECUTION_PROVIDERS as readonly string[]).includes(ep)) {
      throw new VigilError('E_CONFIG', `${field}: '${ep}' is not an execution provider (use ${EXECUTION_PROVIDERS.join(', ')})`, { field, value: ep });
    }
  }
  return [...v] as ExecutionProvider[];
}

let fromEnv: ResolvedInferenceOptions | null = null;

/** Defaults with the environment's overrides (read and validated once). */
export function inferenceDefaults(env: NodeJS.ProcessEnv = process.env): ResolvedInferenceOptions {
  if (env === process.env && fromEnv) return fromEnv;
  const r: ResolvedInferenceOptions = {
    backend: env.VIGIL_INFERENCE ? checkBackend(env.VIGIL_INFERENCE, 'VIGIL_INFERENCE') : DEFAULTS.backend,
    intraOpThreads: env.VIGIL_ORT_THREADS ? checkThreads(Number(env.VIGIL_ORT_THREADS), 'VIGIL_ORT_THREADS') : DEFAULTS.intraOpThreads,
    executionProviders: env.VIGIL_ORT_EP
      ? checkProviders(
          env.VIGIL_ORT_EP.split(',').map((s) => s.trim()).filter(Boolean),
          'VIGIL_ORT_EP',
        )
      : DEFAULTS.executionProviders,
  };
  Object.freeze(r);
  if (env === process.env) fromEnv = r;
  return r;
}

/** `opts` over the defaults, validated. */
export function resolveInferenceOptions(opts: InferenceOptions = {}): ResolvedInferenceOptions {
  const d = inferenceDefaults();
  return Object.freeze({
    backend: opts.backend === undefined ? d.backend : checkBackend(opts.backend, 'inference.backend'),
    intraOpThreads: opts.intraOpThreads === undefined ? d.intraOpThreads : checkThreads(opts.intraOpThreads, 'inference.intraOpThreads'),
    executionProviders: opts.executionProviders === undefined ? d.executionProviders : checkProviders(opts.executionProviders, 'inference.executionProviders'),
  });
}
