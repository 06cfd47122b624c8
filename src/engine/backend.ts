/**
 * TF.js engine set-up for vigil: the wasm backend (XNNPACK) with vigil's conv gradient kernels, or
 * the plain-JS cpu backend. Call `await initEngine()` once before building or running models; every
 * later call is cheap.
 *
 * Side-effect imports, in this order:
 *  - tfjs-backend-wasm / tfjs-backend-cpu register the backends and their kernels;
 *  - tfjs-layers: tfjs-core's Node bundle ships no gradient functions, and tfjs-layers' bundle
 *    registers core's full gradient set into TF.js' global registry when it loads. Without it
 *    `tf.grad` fails with "gradient function not found".
 */

import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';

import { VigilError } from '../core/errors.js';
import { registerVigilKernels, vigilKernelNames, vigilKernelsRegistered } from './kernels/index.js';
import { registerTrainingKernels } from './kernels/training.js';

export type EngineBackend = 'wasm' | 'cpu';

export interface EngineOptions {
  /** Backend to make active; default 'wasm'. */
  backend?: EngineBackend;
}

export interface EngineInfo {
  /** Active TF.js backend, or null before any was set. */
  backend: string | null;
  /** Whether initEngine has completed at least once. */
  initialized: boolean;
  /** Whether the wasm binary in use is the SIMD build (false until wasm is initialised). */
  simd: boolean;
  /** Whether the wasm backend runs multi-threaded; TF.js' wasm build is single-threaded on Node. */
  threads: boolean;
  /** XNNPACK thread count (null until wasm is initialised). */
  threadCount: number | null;
  /** vigil's wasm kernels and whether they are the ones registered now. */
  kernels: { names: string[]; registered: boolean };
  /** tfjs-core version. */
  tfjsVersion: string;
}

interface WasmState {
  simd: boolean;
  multithreaded: boolean;
  threads: number;
}

let commonSetup: Promise<void> | null = null;
let wasmSetup: Promise<WasmState> | null = null;
let wasmState: WasmState | null = null;
let initialized = false;

/**
 * Makes `opts.backend` (default 'wasm') the active TF.js backend. On first use of wasm it loads the
 * wasm binary and registers vigil's kernels (once; later calls reuse them). Also puts TF.js in
 * production mode, which in 4.22 only silences its console warnings (e.g. the Node.js banner).
 * Throws E_CONFIG for an unknown backend, E_UNSUPPORTED if the backend cannot start.
 */
export async function initEngine(opts: EngineOptions = {}): Promise<void> {
  const want = opts.backend ?? 'wasm';
  if (want !== 'wasm' && want !== 'cpu') {
    throw new VigilError('E_CONFIG', `initEngine: backend '${String(want)}' is not supported, use 'wasm' or 'cpu'`, { backend: want });
  }
  commonSetup ??= setupCommon();
  await commonSetup;
  if (want === 'wasm') {
    // A failed start is not memoised, so a later call can retry.
    wasmSetup ??= setupWasm().catch((e: unknown) => {
      wasmSetup = null;
      throw e;
    });
    wasmState = await wasmSetup;
  }
  if (tf.getBackend() !== want) await activate(want);
  await tf.ready();
  initialized = true;
}

/** What the engine is running on; cheap and synchronous. */
export function engineInfo(): EngineInfo {
  return {
    backend: tf.getBackend() ?? null,
    initialized,
    simd: wasmState?.simd ?? false,
    threads: wasmState?.multithreaded ?? false,
    threadCount: wasmState?.threads ?? null,
    kernels: { names: vigilKernelNames(), registered: vigilKernelsRegistered() },
    tfjsVersion: tf.version_core,
  };
}

async function setupCommon(): Promise<void> {
  tf.enableProdMode();
  if (tf.getGradient('Conv2D') === undefined) {
    throw new VigilError('E_UNSUPPORTED', 'TF.js gradients are not registered: @tensorflow/tfjs-layers did not load its gradient set', {});
  }
}

async function setupWasm(): Promise<WasmState> {
  // Initialise wasm before replacing its kernels: TF.js runs each kernel's setup (binding its C
  // function) only for kernels registered at initialisation, and the replaced one stays callable.
  const before = { exception: process.listeners('uncaughtException'), rejection: process.listeners('unhandledRejection') };
  await activate('wasm');
  // Emscripten's glue installs process-wide handlers that print its whole source on any uncaught
  // error; drop them so failures surface as ordinary Node errors (the CLI prints one line).
  for (const l of process.listeners('uncaughtException')) if (!before.exception.includes(l)) process.removeListener('uncaughtException', l);
  for (const l of process.listeners('unhandledRejection')) if (!before.rejection.includes(l)) process.removeListener('unhandledRejection', l);
  registerVigilKernels();
  // Faster BatchMatMul / LeakyReLU and its gradient for training (kernels/training.ts).
  registerTrainingKernels();
  const env = tf.env();
  return {
    simd: (await env.getAsync('WASM_HAS_SIMD_SUPPORT')) === true,
    multithreaded: (await env.getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true,
    threads: getThreadsCount(),
  };
}

async function activate(name: EngineBackend): Promise<void> {
  let ok = false;
  let cause: unknown;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    cause = e;
  }
  if (!ok) {
    // TF.js reports the reason through console warnings, which production mode silences.
    throw new VigilError('E_UNSUPPORTED', `the TF.js '${name}' backend failed to initialise`, { backend: name }, { cause });
  }
}
