/**
 * TF.js' multithreaded wasm build (XNNPACK on a pthread pool) under Node.
 *
 * tfjs-backend-wasm ships `tfjs-backend-wasm-threaded-simd.{js,wasm}` and the pthread worker script,
 * but on Node it never uses them: its WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired to false there,
 * and its loader would start the workers from `blob:` URLs, which Node's worker_threads cannot load.
 * This module starts the same build with the worker script written to a file (Emscripten's Node
 * path then runs it with worker_threads) and the glue script named by path (the workers import it
 * with fs), and registers it as the 'wasm' backend, so every wasm kernel (TF.js' and vigil's) runs
 * on it unchanged.
 *
 * Call `useThreadedWasm({ threads })` before the wasm backend is first initialised (before
 * `initEngine()`); XNNPACK then splits convolutions and GEMMs over `threads` threads. JS-side work
 * (vigil's im2col, element-wise JS kernels) stays on the main thread.
 */
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

import { VigilError } from '../../core/errors.js';

const require = createRequire(import.meta.url);
const WASM_OUT = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
const GLUE = path.join(WASM_OUT, 'tfjs-backend-wasm-threaded-simd.js');
const BINARY = path.join(WASM_OUT, 'tfjs-backend-wasm-threaded-simd.wasm');
const WORKER = 'tfjs-backend-wasm-threaded-simd.worker.js';

/** TF.js' priority for 'wasm' (tfjs-backend-wasm/src/base.ts). */
const WASM_PRIORITY = 2;

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: unknown[]) => unknown;
  tfjs?: Record<string, unknown>;
  PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
}

export interface ThreadedWasmOptions {
  /** XNNPACK threads (default: the machine's core count). */
  threads?: number;
}

let installed: { threads: number } | null = null;

/** Writes the pthread worker script to a private temp folder (CommonJS: Emscripten's Node path uses require). */
async function workerFile(): Promise<string> {
  const { wasmWorkerContents } = require(path.join(WASM_OUT, WORKER)) as { wasmWorkerContents: string };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-wasm-threads-'));
  // Emscripten may start more workers from it later; remove it when the process ends.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'tfjs-wasm-pthread-worker.cjs');
  // The script is one line; its newlines are "\n" escapes that the template literal it ships in
  // turned into real ones (TF.js' own loader undoes this the same way before making its Blob).
  await writeFile(file, wasmWorkerContents.replace(/\n/g, '\\n'));
  return file;
}

/**
 * Instantiates the binary with `emscripten_num_logical_cores` reporting 2 × threads. The C side
 * caps its pool at logical cores / 2 (it assumes two hyperthreads per core), which on a 2-core
 * machine would allow one thread; this keeps the cap at the count asked for.
 */
function instantiateWith(threads: number): (imports: WebAssembly.Imports, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) => object {
  return (imports, receive) => {
    for (const ns of Object.values(imports)) {
      for (const [key, fn] of Object.entries(ns)) {
        if (typeof fn === 'function' && fn.name === '_emscripten_num_logical_cores') (ns as Record<string, unknown>)[key] = () => 2 * threads;
      }
    }
    void WebAssembly.instantiate(readFileSync(BINARY), imports).then((r) => receive(r.instance, r.module));
    return {};
  };
}

/** Starts the threaded module and wires the C entry points BackendWasm expects (as tfjs-backend-wasm's own init does). */
async function startModule(threads: number): Promise<EmscriptenModule> {
  const factory = require(GLUE) as Factory;
  const worker = await workerFile();
  const module = await factory({
    locateFile: (file: string) => (file.endsWith('.worker.js') ? worker : file.endsWith('.wasm') ? BINARY : path.join(WASM_OUT, file)),
    // The workers read this with fs and evaluate it: the path, not a Blob.
    mainScriptUrlOrBlob: GLUE,
    instantiateWasm: instantiateWith(threads),
  });
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/**
 * Registers the multithreaded build as the 'wasm' backend. Must run before the wasm backend is
 * initialised; E_CONFIG otherwise, or for a thread count outside 1..64. Idempotent for the same count.
 */
export function useThreadedWasm(opts: ThreadedWasmOptions = {}): void {
  const threads = opts.threads ?? os.cpus().length;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new VigilError('E_CONFIG', `useThreadedWasm: threads ${threads} must be an integer from 1 to 64`, { field: 'threads', value: threads });
  }
  if (installed?.threads === threads) return;
  if (tf.engine().registryFactory['wasm'] !== undefined && tf.engine().registry['wasm'] !== undefined) {
    throw new VigilError('E_CONFIG', 'useThreadedWasm: the wasm backend is already initialised; call it before initEngine()', { field: 'threads' });
  }
  setThreadsCount(threads);
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        const module = await startModule(threads);
        const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
        // XNNPACK's pool threads (started by the constructor) wait for work for the life of the
        // process; unreferenced, they no longer keep Node from exiting.
        for (const w of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) w.unref();
        return backend;
      } catch (e) {
        throw new VigilError('E_UNSUPPORTED', `the multithreaded wasm backend failed to start (${(e as Error).message})`, {}, { cause: e });
      }
    },
    WASM_PRIORITY,
  );
  installed = { threads };
}

/** Threads asked of `useThreadedWasm`, or null when the stock single-threaded build is in use. */
export function threadedWasmThreads(): number | null {
  return installed?.threads ?? null;
}
