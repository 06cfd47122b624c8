/**
 * Speed of the BENCHMARKS.md reference autoencoder (conv-ae, 28x28x1, depth 2, filters 32, latent 32,
 * batch 128) in vigil, side by side with the same model in PyTorch in the same run:
 *   - training samples/s on tfjs-wasm, without and with vigil's training kernels (issue 6), with the
 *     per-kernel time of one step before and after;
 *   - inference samples/s on tfjs-wasm and on ONNX Runtime (exported encoder.onnx + decoder.onnx,
 *     as the detector scores), 2 threads and 1 thread;
 *   - PyTorch 1 thread training and inference (bench/peers/torch_reference.py, when /usr/bin/python3
 *     has torch), and ORT on PyTorch's own ONNX export of the model;
 *   - MobileNet v1 feature extraction (PaDiM's taps, 224x224) images/s, tfjs vs ORT;
 *   - the conv1d autoencoder's windows/s, tfjs vs ORT.
 * Each figure is the best of `--rounds` rounds (the machine is shared). Single-threaded engines are
 * also timed by process CPU time, which waiting for a core does not inflate; ratios use the same
 * clock on both sides.
 *
 *   npm run bench -- speed [--rounds 3] [--steps 6] [--batches 12] [--threads 2] [--ep cpu] [--wasm-threads 2]
 *                          [--no-torch] [--no-backbone] [--out bench/results/speed.md]
 * (--threads: ONNX Runtime intra-op threads; --ep: ONNX Runtime execution providers in order, e.g.
 * webgpu,cpu on a GPU machine; --wasm-threads: XNNPACK threads of the multithreaded wasm build, timed
 * in a child process, 0 to skip.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { engineInfo, initEngine } from '../src/engine/backend.js';
import { registerTrainingKernels, unregisterTrainingKernels } from '../src/engine/kernels/training.js';
import { useThreadedWasm } from '../src/engine/kernels/wasm_threaded_backend.js';
import { EXECUTION_PROVIDERS, OrtSession, TfjsEngine, type ExecutionProvider, type InferenceEngine } from '../src/engine/onnx/index.js';
import { NetworkEngines } from '../src/engine/onnx/networks.js';
import { buildAutoencoder, forwardMacs, type NetworkShape } from '../src/models/conv-ae/network.js';
import { REFERENCE_CONFIG } from './fashion-mnist.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TORCH_SCRIPT = path.join(HERE, 'peers', 'torch_reference.py');
const PYTHON = '/usr/bin/python3';
const MOBILENET = path.resolve(HERE, '../../shared/data/mobilenet_v1');

const SHAPE: NetworkShape = { ...REFERENCE_CONFIG, variational: false, seed: 1 };
const BATCH = REFERENCE_CONFIG.batchSize;

/** Per-call wall and CPU milliseconds, best over rounds. */
interface Rate {
  wallMs: number;
  cpuMs: number;
}

async function timeBlock(fn: () => Promise<unknown> | unknown, reps: number): Promise<Rate> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await fn();
  const cpu = process.cpuUsage(c0);
  return { wallMs: (performance.now() - t0) / reps, cpuMs: (cpu.user + cpu.system) / 1000 / reps };
}

/** Best per-call times over `rounds` blocks of `reps` calls, after `warm` warm-up calls. */
async function measure(fn: () => Promise<unknown> | unknown, reps: number, rounds: number, warm = 2): Promise<Rate> {
  for (let i = 0; i < warm; i++) await fn();
  let best: Rate = { wallMs: Infinity, cpuMs: Infinity };
  for (let r = 0; r < rounds; r++) {
    const t = await timeBlock(fn, reps);
    best = { wallMs: Math.min(best.wallMs, t.wallMs), cpuMs: Math.min(best.cpuMs, t.cpuMs) };
  }
  return best;
}

/** One training step of the reference autoencoder: Adam on MSE(decoder(encoder(x)), x). */
function trainStep(nets: { encoder: tfl.LayersModel; decoder: tfl.LayersModel }, vars: tf.Variable[], opt: tf.Optimizer, x: tf.Tensor4D): void {
  const loss = opt.minimize(
    () => {
      const r = nets.decoder.apply(nets.encoder.apply(x, { training: true }), { training: true }) as tf.Tensor;
      return tf.mean(tf.square(tf.sub(r, x))) as tf.Scalar;
    },
    true,
    vars,
  );
  loss!.dataSync();
  loss!.dispose();
}

/**
 * Kernel name → process CPU ms in one step, the least over `reps` steps. Every wasm kernel is
 * wrapped for the duration; a kernel that calls others (vigil's conv gradients call XNNPACK's
 * Conv2D, BatchMatMul calls Transpose) is charged for them, so the column adds up to the step's
 * kernel time. CPU time, unlike tf.profile's wall clock, is not inflated by waiting for a core.
 */
async function kernelBreakdown(step: () => void, reps: number): Promise<Map<string, { ms: number; calls: number }>> {
  const originals = tf.getKernelsForBackend('wasm');
  let depth = 0;
  let current = new Map<string, { ms: number; calls: number }>();
  const wrap = (k: tf.KernelConfig): tf.KernelConfig => ({
    ...k,
    kernelFunc: (args) => {
      if (depth > 0) return k.kernelFunc(args);
      depth++;
      const c0 = process.cpuUsage();
      try {
        return k.kernelFunc(args);
      } finally {
        const c = process.cpuUsage(c0);
        depth--;
        const a = current.get(k.kernelName) ?? { ms: 0, calls: 0 };
        a.ms += (c.user + c.system) / 1000;
        a.calls++;
        current.set(k.kernelName, a);
      }
    },
  });
  const swap = (configs: readonly tf.KernelConfig[]) => {
    for (const k of configs) {
      tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel(k);
    }
  };
  const best = new Map<string, { ms: number; calls: number }>();
  swap(originals.map(wrap));
  try {
    for (let r = 0; r < reps; r++) {
      current = new Map();
      step();
      for (const [name, a] of current) if (!best.has(name) || a.ms < best.get(name)!.ms) best.set(name, a);
    }
  } finally {
    swap(originals);
  }
  return best;
}

interface TrainResult {
  before: Rate;
  after: Rate;
  kernelsBefore: Map<string, { ms: number; calls: number }>;
  kernelsAfter: Map<string, { ms: number; calls: number }>;
}

async function benchTraining(steps: number, rounds: number): Promise<TrainResult> {
  const nets = buildAutoencoder(SHAPE);
  const vars = [...nets.encoder.trainableWeights, ...nets.decoder.trainableWeights].map((w) => w.read() as tf.Variable);
  const opt = tf.train.adam(1e-3);
  const x = tf.randomUniform([BATCH, 28, 28, 1]) as tf.Tensor4D;
  const step = () => trainStep(nets, vars, opt, x);
  const best = { before: { wallMs: Infinity, cpuMs: Infinity }, after: { wallMs: Infinity, cpuMs: Infinity } };
  // Alternate before/after rounds so both see the same machine load.
  for (let r = 0; r < rounds; r++) {
    for (const which of ['before', 'after'] as const) {
      if (which === 'before') unregisterTrainingKernels();
      else registerTrainingKernels();
      const t = await measure(step, steps, 1, r === 0 ? 2 : 1);
      best[which] = { wallMs: Math.min(best[which].wallMs, t.wallMs), cpuMs: Math.min(best[which].cpuMs, t.cpuMs) };
    }
  }
  unregisterTrainingKernels();
  const kernelsBefore = await kernelBreakdown(step, 3);
  registerTrainingKernels();
  const kernelsAfter = await kernelBreakdown(step, 3);
  tf.dispose(x);
  opt.dispose();
  nets.encoder.dispose();
  nets.decoder.dispose();
  return { ...best, kernelsBefore, kernelsAfter };
}

/**
 * Training on the multithreaded wasm build, in a child process (the wasm build is chosen once per
 * process): `--train-child --wasm-threads N` prints the step times as JSON.
 */
async function trainChild(threads: number, steps: number, rounds: number): Promise<void> {
  useThreadedWasm({ threads });
  await initEngine();
  registerTrainingKernels();
  const nets = buildAutoencoder(SHAPE);
  const vars = [...nets.encoder.trainableWeights, ...nets.decoder.trainableWeights].map((w) => w.read() as tf.Variable);
  const opt = tf.train.adam(1e-3);
  const x = tf.randomUniform([BATCH, 28, 28, 1]) as tf.Tensor4D;
  const rate = await measure(() => trainStep(nets, vars, opt, x), steps, rounds);
  process.stdout.write(JSON.stringify({ threads: engineInfo().threadCount, rate }) + '\n');
}

function runTrainChild(threads: number, steps: number, rounds: number): { threads: number; rate: Rate } | string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--train-child', '--wasm-threads', String(threads), '--steps', String(steps), '--rounds', String(rounds)], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) return `threaded child failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { threads: number; rate: Rate };
}

/** Encoder then decoder on one batch, as conv-ae scores. */
async function autoencode(enc: InferenceEngine, dec: InferenceEngine, x: Float32Array): Promise<void> {
  const h = await enc.run(x, [BATCH, 28, 28, 1]);
  await dec.run(h, [BATCH, SHAPE.latent]);
}

interface InferResult {
  tfjs: Rate;
  ort: Map<number, Rate>;
  /** Where ORT ran ("onnxruntime [cpu], 2 thread(s)") and, if the providers asked for failed, why. */
  engine: string;
  fallback: string | null;
}

async function benchInference(batches: number, rounds: number, threads: number[], providers: ExecutionProvider[]): Promise<InferResult> {
  const nets = buildAutoencoder(SHAPE);
  const x = Float32Array.from({ length: BATCH * 28 * 28 }, (_, i) => (i % 97) / 97);
  const tfjs = await measure(() => autoencode(new TfjsEngine(nets.encoder), new TfjsEngine(nets.decoder), x), batches, rounds);
  const ort = new Map<number, Rate>();
  let where = { engine: '', fallback: null as string | null };
  for (const t of threads) {
    const engines = await NetworkEngines.export(nets, { intraOpThreads: t, executionProviders: providers, check: false });
    if (!engines.allOnnxRuntime) throw new Error(`the reference autoencoder did not open on ONNX Runtime: ${JSON.stringify(engines.report())}`);
    if (t === threads[0]) where = engines.report().encoder;
    ort.set(t, await measure(() => autoencode(engines.engine('encoder'), engines.engine('decoder'), x), batches, rounds));
    engines.dispose();
  }
  nets.encoder.dispose();
  nets.decoder.dispose();
  return { tfjs, ort, ...where };
}

interface TorchResult {
  version: string;
  train: Rate;
  inference: Rate;
  onnx: string | null;
}

/** Runs the PyTorch peer (1 thread); null with a reason when torch is not there. */
function runTorch(steps: number, batches: number, onnxOut: string): TorchResult | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PYTHON} has no torch (apt-get install -y python3-torch)`;
  const r = spawnSync(PYTHON, [TORCH_SCRIPT, '--threads', '1', '--train-steps', String(steps), '--infer-batches', String(batches), '--export-onnx', onnxOut], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) return `torch_reference.py failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    torch: string;
    batch: number;
    train: { wall_s: number; cpu_s: number };
    inference: { wall_s: number; cpu_s: number };
    onnx?: string;
  };
  const per = (t: { wall_s: number; cpu_s: number }, n: number): Rate => ({ wallMs: (t.wall_s * 1000) / n, cpuMs: (t.cpu_s * 1000) / n });
  return { version: j.torch, train: per(j.train, steps), inference: per(j.inference, batches), onnx: j.onnx ?? null };
}

/** ORT on PyTorch's own export (NCHW input 'x'): the 'onnx' detector's path for a model trained elsewhere. */
async function benchTorchOnnx(file: string, batches: number, rounds: number, threads: number): Promise<Rate> {
  const session = await OrtSession.create(new Uint8Array(await readFile(file)), file, { intraOpThreads: threads });
  const x = Float32Array.from({ length: BATCH * 28 * 28 }, (_, i) => (i % 97) / 97);
  try {
    return await measure(() => session.run({ x: { data: x, shape: [BATCH, 1, 28, 28] } }), batches, rounds);
  } finally {
    await session.release();
  }
}

/**
 * Multiply-adds of one forward pass per item: Conv1D/2D, DepthwiseConv2D and Dense as output
 * positions × kernel size, Conv2DTranspose as input positions × kernel size; nested models recursed.
 */
function modelMacs(model: tfl.LayersModel): number {
  let macs = 0;
  for (const layer of model.layers) {
    if ('layers' in layer) {
      macs += modelMacs(layer as tfl.LayersModel);
      continue;
    }
    const kernel = layer.weights.find((w) => /kernel$/.test(w.originalName))?.shape as number[] | undefined;
    if (!kernel) continue;
    const k = kernel.reduce((a, b) => a * b, 1);
    const positions = (shape: (number | null)[]) => shape.slice(1, -1).reduce<number>((a, b) => a * (b ?? 1), 1);
    const transposed = layer.getClassName() === 'Conv2DTranspose';
    macs += positions((transposed ? (layer.input as tfl.SymbolicTensor).shape : layer.outputShape) as (number | null)[]) * k;
  }
  return macs;
}

interface PairResult {
  what: string;
  unit: string;
  batch: number;
  macs: number;
  tfjs: Rate;
  ort: Rate;
}

/** tfjs vs ORT (2 threads) on `model` with inputs of `shape` (batch first). */
async function benchPair(
  what: string,
  unit: string,
  model: tfl.LayersModel,
  shape: number[],
  batches: number,
  rounds: number,
  threads: number,
  providers: ExecutionProvider[],
): Promise<PairResult> {
  const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => ((i % 251) / 251) * 2 - 1);
  const tfjs = new TfjsEngine(model);
  const tfjsRate = await measure(() => tfjs.runAll(x, shape), batches, rounds, 1);
  const engines = await NetworkEngines.export({ net: model }, { intraOpThreads: threads, executionProviders: providers, check: false });
  if (!engines.allOnnxRuntime) throw new Error(`${what} did not open on ONNX Runtime: ${JSON.stringify(engines.report())}`);
  const ort = engines.engine('net');
  const ortRate = await measure(() => ort.runAll(x, shape), batches, rounds, 1);
  engines.dispose();
  return { what, unit, batch: shape[0]!, macs: modelMacs(model), tfjs: tfjsRate, ort: ortRate };
}

async function benchBackbone(batches: number, rounds: number, threads: number, providers: ExecutionProvider[]): Promise<PairResult | string> {
  if (!existsSync(MOBILENET)) return `no ${MOBILENET}`;
  const { loadBackbone } = await import('../src/models/backbone/loader.js');
  const { createTapModel } = await import('../src/models/backbone/taps.js');
  const { PADIM_DEFAULT_TAPS } = await import('../src/models/padim/detector.js');
  const backbone = await loadBackbone(MOBILENET, { height: 224, width: 224 });
  const taps = createTapModel(backbone, PADIM_DEFAULT_TAPS);
  try {
    return await benchPair(`MobileNet v1 224x224, PaDiM taps (${PADIM_DEFAULT_TAPS.join(', ')})`, 'images/s', taps.model, [8, 224, 224, 3], batches, rounds, threads, providers);
  } finally {
    backbone.model.dispose();
  }
}

async function benchSeries(batches: number, rounds: number, threads: number, providers: ExecutionProvider[]): Promise<PairResult | string> {
  const file = path.resolve(HERE, '../src/models/conv1d-ae/network.ts');
  if (!existsSync(file)) return 'no conv1d-ae detector';
  const { buildConv1dAutoencoder } = await import('../src/models/conv1d-ae/network.js');
  const nets = buildConv1dAutoencoder({ window: 64, channels: 1, depth: 2, filters: 16, kernelSize: 5, latent: 16, variational: false, seed: 1 });
  const { sequential } = await import('@tensorflow/tfjs-layers');
  const whole = sequential({ name: 'conv1d_ae', layers: [nets.encoder, nets.decoder] });
  try {
    return await benchPair('conv1d-ae (window 64, 1 channel, depth 2, filters 16, kernel 5, latent 16), encoder + decoder', 'windows/s', whole, [256, 64, 1], batches, rounds, threads, providers);
  } finally {
    nets.encoder.dispose();
    nets.decoder.dispose();
  }
}

// ------------------------------------------------------------------------------------------------
// Report

/** Nominal clock: os.cpus() (0 in some VMs), else /proc/cpuinfo's "cpu MHz". */
function cpuMhz(): number {
  const fromOs = os.cpus()[0]?.speed ?? 0;
  if (fromOs > 0) return fromOs;
  try {
    const m = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? Math.round(Number(m[1])) : 0;
  } catch {
    return 0;
  }
}

const perS = (n: number, ms: number) => (n * 1000) / ms;
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const gflops = (flopPerSample: number, samplesPerS: number) => (flopPerSample * samplesPerS) / 1e9;

interface Report {
  command: string;
  threads: number;
  train: TrainResult;
  infer: InferResult;
  torch: TorchResult | string;
  torchOnnx: Map<number, Rate> | null;
  backbone: PairResult | string;
  series: PairResult | string;
  threaded: { threads: number; rate: Rate } | string;
  loadBefore: number;
  loadAfter: number;
}

function breakdownTable(r: TrainResult): string[] {
  const names = [...new Set([...r.kernelsBefore.keys(), ...r.kernelsAfter.keys()])];
  const total = (m: Map<string, { ms: number }>) => [...m.values()].reduce((s, a) => s + a.ms, 0);
  names.sort((a, b) => (r.kernelsBefore.get(b)?.ms ?? 0) + (r.kernelsAfter.get(b)?.ms ?? 0) - (r.kernelsBefore.get(a)?.ms ?? 0) - (r.kernelsAfter.get(a)?.ms ?? 0));
  const cell = (m: Map<string, { ms: number; calls: number }>, n: string) => {
    const k = m.get(n);
    return k ? `${k.ms.toFixed(1)} (${k.calls})` : '-';
  };
  const shown = names.filter((n) => (r.kernelsBefore.get(n)?.ms ?? 0) >= 0.5 || (r.kernelsAfter.get(n)?.ms ?? 0) >= 0.5);
  return [
    '| kernel | before: CPU ms (calls) | after: CPU ms (calls) |',
    '|---|---:|---:|',
    ...shown.map((n) => `| ${n} | ${cell(r.kernelsBefore, n)} | ${cell(r.kernelsAfter, n)} |`),
    `| **all kernels** | **${total(r.kernelsBefore).toFixed(1)}** | **${total(r.kernelsAfter).toFixed(1)}** |`,
  ];
}

/** BENCHMARKS.md's PyTorch figures (idle machine, wall time, 1 thread) beside this run's single-thread CPU-time figures. */
function idleComparison(rep: Report, trainFlop: number): string[] {
  const IDLE_TORCH = { train: 1850, inference: 7200 };
  const train = perS(BATCH, rep.train.after.cpuMs);
  const ort1 = rep.infer.ort.get(1);
  const lines = [
    `Against BENCHMARKS.md's PyTorch figures for an idle machine (about ${IDLE_TORCH.train} train / ${IDLE_TORCH.inference} inference samples/s, 1 thread), this run's single-thread CPU-time figures give: training ${fmt(train)} samples/s = ${(train / IDLE_TORCH.train).toFixed(2)}x (${fmt(gflops(trainFlop, train))} GFLOP/s)`,
  ];
  if (ort1) {
    const inf = perS(BATCH, ort1.cpuMs);
    lines[0] += `; ONNX Runtime inference ${fmt(inf)} samples/s = ${(inf / IDLE_TORCH.inference).toFixed(2)}x on one thread (BENCHMARKS.md measured ORT at about 15,000 samples/s = 2.1x with 2 threads on an idle machine)`;
  }
  lines[0] += '. CPU time on a busy machine still runs slower than an idle core (shared caches and SMT siblings), so these are lower bounds for vigil.';
  return [...lines, ''];
}

function render(rep: Report): string {
  const info = engineInfo();
  const mhz = cpuMhz();
  const fwdFlop = 2 * forwardMacs(SHAPE);
  // Training: forward + input and weight gradients of every layer but the first conv's input gradient.
  const firstConvMacs = (SHAPE.height / 2) * (SHAPE.width / 2) * SHAPE.filters * 9 * SHAPE.channels;
  const trainFlop = 3 * fwdFlop - 2 * firstConvMacs;
  const peakNative = (mhz * 32) / 1000; // GFLOP/s per core: 2 × 256-bit FMA pipes = 16 FP32 FMA/cycle
  const peakWasm = (mhz * 16) / 1000; // 4-lane SIMD128, mul and add issued separately on 4 FP pipes
  const t = rep.train;
  const torch = typeof rep.torch === 'string' ? null : rep.torch;
  const rows: string[][] = [];
  const row = (engine: string, train: Rate | null, infer: Rate | null, threads: string, clock: 'cpu' | 'wall') => {
    const ms = (r: Rate) => (clock === 'cpu' ? r.cpuMs : r.wallMs);
    const tr = train ? perS(BATCH, ms(train)) : null;
    const inf = infer ? perS(BATCH, ms(infer)) : null;
    rows.push([
      engine,
      threads,
      clock === 'cpu' ? 'CPU time' : 'wall',
      tr ? fmt(tr) : '-',
      inf ? fmt(inf) : '-',
      tr ? fmt(gflops(trainFlop, tr)) : '-',
      inf ? fmt(gflops(fwdFlop, inf)) : '-',
      // Wall times of processes run minutes apart on a shared machine do not compare; CPU times do.
      torch && tr && clock === 'cpu' ? `${(tr / perS(BATCH, ms(torch.train))).toFixed(2)}x` : '-',
      torch && inf && clock === 'cpu' ? `${(inf / perS(BATCH, ms(torch.inference))).toFixed(2)}x` : '-',
    ]);
  };
  if (torch) {
    row(`PyTorch ${torch.version}`, torch.train, torch.inference, '1', 'cpu');
    row(`PyTorch ${torch.version}`, torch.train, torch.inference, '1', 'wall');
  }
  row('vigil tfjs-wasm, TF.js kernels + vigil conv kernels (before)', t.before, null, '1', 'cpu');
  row('vigil tfjs-wasm + issue-6 training kernels (after)', t.after, rep.infer.tfjs, '1', 'cpu');
  row('vigil tfjs-wasm + issue-6 training kernels (after)', t.after, rep.infer.tfjs, '1', 'wall');
  if (typeof rep.threaded !== 'string') row('vigil tfjs-wasm multithreaded build + training kernels', rep.threaded.rate, null, String(rep.threaded.threads), 'wall');
  for (const [threads, r] of [...rep.infer.ort].sort((a, b) => a[0] - b[0])) {
    const name = `vigil ONNX Runtime [${rep.infer.engine.replace(/^onnxruntime \[([^\]]*)\].*$/, '$1')}] (exported encoder + decoder)`;
    if (threads === 1) row(name, null, r, '1', 'cpu');
    row(name, null, r, String(threads), 'wall');
  }
  if (rep.torchOnnx) for (const [threads, r] of rep.torchOnnx) row("ONNX Runtime on PyTorch's ONNX export ('onnx' detector path)", null, r, String(threads), 'wall');

  const pair = (p: PairResult | string, title: string): string[] => {
    if (typeof p === 'string') return [`${title}: skipped (${p}).`, ''];
    const tfjsRate = perS(p.batch, p.tfjs.wallMs);
    const ortRate = perS(p.batch, p.ort.wallMs);
    return [
      `${title}: ${p.what}, batch ${p.batch}, ${((2 * p.macs) / 1e6).toFixed(p.macs > 5e7 ? 0 : 2)} MFLOP per item.`,
      '',
      `| engine | ${p.unit} (wall) | GFLOP/s |`,
      '|---|---:|---:|',
      `| tfjs-wasm, 1 thread | ${fmt(tfjsRate)} | ${fmt(gflops(2 * p.macs, tfjsRate))} |`,
      `| ONNX Runtime, ${rep.threads} threads | ${fmt(ortRate)} | ${fmt(gflops(2 * p.macs, ortRate))} |`,
      '',
      `ORT / tfjs: ${(ortRate / tfjsRate).toFixed(1)}x.`,
      '',
    ];
  };

  const lines = [
    '# Speed: vigil vs PyTorch on the reference autoencoder',
    '',
    `Command: \`${rep.command}\`  `,
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}, ${mhz} MHz), load average ${rep.loadBefore.toFixed(1)} at the start and ${rep.loadAfter.toFixed(1)} at the end of the run (the machine is shared), Node ${process.version}, TF.js ${info.tfjsVersion} wasm (SIMD ${info.simd ? 'yes' : 'no'}, ${info.threadCount ?? 1} thread), onnxruntime-node 1.30 (CPU EP)  `,
    `Date: ${new Date().toISOString().slice(0, 10)}. Each figure is the best of the run's rounds. Single-threaded engines are also given by process CPU time, which a busy machine inflates far less than wall time; the ratios to PyTorch compare CPU times only (wall times of runs minutes apart on a shared machine do not compare). Multithreaded figures exist only as wall time and are meaningful only on an idle machine.`,
    '',
    `Model: conv-ae 28x28x1, depth 2, filters 32, latent 32 (BENCHMARKS.md "Speed peers"), batch ${BATCH}; ${(fwdFlop / 1e6).toFixed(2)} MFLOP forward and ${(trainFlop / 1e6).toFixed(2)} MFLOP per training sample (forward + both gradients, no input gradient for the first conv).`,
    '',
    '| engine | threads | clock | train samples/s | inference samples/s | train GFLOP/s | inference GFLOP/s | train vs PyTorch | inference vs PyTorch |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    rep.infer.fallback ? `ONNX Runtime execution providers: ${rep.infer.fallback}.` : `ONNX Runtime: ${rep.infer.engine}.`,
    '',
    typeof rep.threaded === 'string'
      ? `Multithreaded wasm: ${rep.threaded}.`
      : `Multithreaded wasm: TF.js' threaded-simd build started under Node by src/engine/kernels/wasm_threaded_backend.ts (XNNPACK on ${rep.threaded.threads} threads; vigil's JS-side kernel work stays on the main thread); wall time only, since CPU time adds the threads up.`,
    '',
    typeof rep.torch === 'string' ? `PyTorch: skipped (${rep.torch}).` : `PyTorch: \`${PYTHON} bench/peers/torch_reference.py --threads 1\` (torch ${rep.torch.version}, same network, Adam, MSE, batch ${BATCH}).`,
    '',
    `Peak estimate: ${mhz} MHz × 32 FLOP/cycle (Zen 4: two 256-bit FMA pipes, 16 FP32 FMAs per cycle) = ${peakNative.toFixed(0)} GFLOP/s per core natively (ONNX Runtime, PyTorch); wasm SIMD128 has no FMA, so 4 lanes × 4 FP pipes = 16 FLOP/cycle = ${peakWasm.toFixed(0)} GFLOP/s per core for tfjs-wasm. Sustained clocks and the shared machine put real ceilings lower.`,
    '',
    ...idleComparison(rep, trainFlop),
    '## Training step breakdown (tfjs-wasm, one step of batch 128)',
    '',
    `Before = TF.js 4.22 wasm kernels with vigil's conv gradient kernels (src/engine/kernels/index.ts); after = plus the issue-6 training kernels (src/engine/kernels/training.ts: BatchMatMul with transposed operands on XNNPACK, LeakyRelu on XNNPACK's PReLU, the LeakyRelu gradient as dy · step(x, alpha)). Step time, best round: before ${t.before.cpuMs.toFixed(1)} ms CPU / ${t.before.wallMs.toFixed(1)} ms wall, after ${t.after.cpuMs.toFixed(1)} ms CPU / ${t.after.wallMs.toFixed(1)} ms wall (${(t.before.cpuMs / t.after.cpuMs).toFixed(2)}x by CPU time). Kernel times: process CPU ms per kernel (a kernel's calls to other kernels included), least of 3 steps each.`,
    '',
    ...breakdownTable(t),
    '',
    '## Feature extraction and time series',
    '',
    ...pair(rep.backbone, 'Backbone'),
    ...pair(rep.series, 'Time series'),
    '## GPU: ONNX Runtime WebGPU execution provider',
    '',
    "onnxruntime-node 1.30 bundles the WebGPU EP on Linux x64 (Dawn over Vulkan). Select it per run with `--ep webgpu,cpu` here, or for every detector with `VIGIL_ORT_EP=webgpu,cpu` (or `executionProviders: ['webgpu', 'cpu']` in `InferenceOptions` / the onnx detector's config); listing `cpu` second lets ORT place nodes WebGPU lacks on the CPU. Where no adapter can be created (no GPU, no Vulkan loader `libvulkan.so.1` or no NVIDIA Vulkan ICD), session creation fails and vigil reopens the model on the CPU EP, saying why in the engine report and in this file.",
    '',
    '    npm run bench -- speed --ep webgpu,cpu --no-torch --wasm-threads 0',
    '    VIGIL_ORT_EP=webgpu,cpu node --import tsx --test test/engine/onnx-runtime.test.ts',
    '',
  ];
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string', default: '3' },
      steps: { type: 'string', default: '6' },
      batches: { type: 'string', default: '12' },
      threads: { type: 'string', default: '2' },
      'no-torch': { type: 'boolean', default: false },
      'no-backbone': { type: 'boolean', default: false },
      'wasm-threads': { type: 'string', default: '2' },
      ep: { type: 'string', default: 'cpu' },
      'train-child': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results/speed.md' },
    },
  });
  const rounds = Math.max(1, Number(values.rounds));
  const steps = Math.max(1, Number(values.steps));
  const batches = Math.max(1, Number(values.batches));
  const threads = Math.max(1, Number(values.threads));
  const wasmThreads = Math.max(0, Number(values['wasm-threads']));
  if (values['train-child']) return trainChild(Math.max(1, wasmThreads), steps, rounds);
  const providers = values.ep!.split(',').map((p) => p.trim()) as ExecutionProvider[];
  const unknown = providers.filter((p) => !EXECUTION_PROVIDERS.includes(p));
  if (unknown.length > 0) throw new Error(`--ep: unknown execution provider(s) ${unknown.join(', ')} (use ${EXECUTION_PROVIDERS.join(', ')})`);
  const loadBefore = os.loadavg()[0]!;
  await initEngine();
  const log = (m: string) => process.stderr.write(`speed: ${m}\n`);

  log('training (tfjs-wasm, before/after)');
  const train = await benchTraining(steps, rounds);
  registerTrainingKernels();
  log(`training (tfjs-wasm multithreaded, ${wasmThreads} threads, child process)`);
  const threaded = wasmThreads > 0 ? runTrainChild(wasmThreads, steps, rounds) : 'not run (--wasm-threads 0)';
  log('inference (tfjs-wasm, ONNX Runtime)');
  const infer = await benchInference(batches, rounds, [...new Set([threads, 1])], providers);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'vigil-speed-'));
  let torch: TorchResult | string = 'skipped (--no-torch)';
  let torchOnnx: Map<number, Rate> | null = null;
  try {
    if (!values['no-torch']) {
      log('PyTorch peer');
      torch = runTorch(steps * rounds, batches * rounds, path.join(tmp, 'torch_ae.onnx'));
      if (typeof torch !== 'string' && torch.onnx) {
        torchOnnx = new Map([[threads, await benchTorchOnnx(torch.onnx, batches, rounds, threads)]]);
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  log('backbone');
  const backbone = values['no-backbone'] ? 'skipped (--no-backbone)' : await benchBackbone(Math.max(2, Math.round(batches / 4)), rounds, threads, providers);
  log('time series');
  const series = await benchSeries(batches, rounds, threads, providers);
  const report = render({
    command: `npm run bench -- speed ${argv.join(' ')}`.trim(),
    threads,
    train,
    infer,
    torch,
    torchOnnx,
    backbone,
    series,
    threaded,
    loadBefore,
    loadAfter: os.loadavg()[0]!,
  });
  await mkdir(path.dirname(values.out!), { recursive: true });
  await writeFile(values.out!, report);
  process.stdout.write(report);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
