/**
 * GFLOP/s of vigil's wasm conv kernels on the reference autoencoder's shapes (batch 128):
 *   G1: 28x28x1  -> conv 3x3 s2 'same' -> 14x14x32   (encoder 1; decoder 2 = conv2dTranspose 32->1, 14->28)
 *   G2: 14x14x32 -> conv 3x3 s2 'same' -> 7x7x64     (encoder 2; decoder 1 = conv2dTranspose 64->32, 7->14)
 * For each geometry: the XNNPACK Conv2D forward (reference speed), TF.js' original wasm
 * Conv2DBackpropInput, vigil's Conv2DBackpropInput (auto and each formulation), vigil's
 * Conv2DBackpropFilter (TF.js wasm has none; `--cpu-backend` adds the cpu backend's for scale).
 * All three ops on a geometry cost 2·N·outH·outW·kH·kW·Ci·Co FLOPs.
 *
 *   node --import tsx bench/kernels.ts [--reps 10] [--out bench/results/kernels.md] [--cpu-backend]
 *   npm run bench -- kernels
 */

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { engineInfo, initEngine } from '../src/engine/backend.js';
import { replacedWasmKernel, setBackpropInputPath, type BackpropInputPath } from '../src/engine/kernels/index.js';

interface Geometry {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same';
}

const GEOMETRIES: Geometry[] = [
  { name: 'G1 128x28x28x1 -> 14x14x32', x: [128, 28, 28, 1], filter: [3, 3, 1, 32], strides: 2, pad: 'same' },
  { name: 'G2 128x14x14x32 -> 7x7x64', x: [128, 14, 14, 32], filter: [3, 3, 32, 64], strides: 2, pad: 'same' },
];

interface Timing {
  /** Fastest CPU time: the least disturbed by other processes sharing the cores. */
  cpuMinMs: number;
  cpuMedianMs: number;
  wallMedianMs: number;
}

interface Row extends Timing {
  geometry: string;
  op: string;
  flops: number;
}

type Call = () => tf.TensorInfo;

function cpuMsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function summarise(cpu: number[], wall: number[]): Timing {
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
  return { cpuMinMs: sorted(cpu)[0]!, cpuMedianMs: median(cpu), wallMedianMs: median(wall) };
}

/** One timed call: CPU and wall ms. The output is freed outside the timed region. */
function timeOnce(call: Call, backend: tf.KernelBackend): [number, number] {
  const c0 = cpuMsNow();
  const t0 = performance.now();
  const out = call();
  const wall = performance.now() - t0;
  const cpu = cpuMsNow() - c0;
  backend.disposeData(out.dataId);
  return [cpu, wall];
}

interface Candidate {
  op: string;
  call: Call;
  /** Timed calls for this candidate (fewer for very slow ones). */
  reps: number;
  cpu: number[];
  wall: number[];
}

/**
 * Times the candidates round-robin after 2 warm-ups each, so that every kernel sees the same mix of
 * machine load. The kernels are single-threaded and synchronous, so CPU time is the work itself,
 * while wall time also counts waiting for a core on a shared machine.
 */
function measureRoundRobin(candidates: Candidate[], backend: tf.KernelBackend): void {
  for (const c of candidates) for (let i = 0; i < 2; i++) timeOnce(c.call, backend);
  const rounds = Math.max(...candidates.map((c) => c.reps));
  for (let round = 0; round < rounds; round++) {
    for (const c of candidates) {
      if (round >= c.reps) continue;
      const [cpu, wall] = timeOnce(c.call, backend);
      c.cpu.push(cpu);
      c.wall.push(wall);
    }
  }
}

function kernelCall(name: string, backend: tf.KernelBackend, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap, config = tf.getKernel(name, tf.getBackend())): Call {
  if (config === undefined) throw new Error(`kernel ${name} is not registered for ${tf.getBackend()}`);
  return () => config.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}

function benchGeometry(g: Geometry, reps: number): Row[] {
  const wasm = tf.backend() as BackendWasm;
  const [n, , , ci] = g.x;
  const info = tf.backend_util.computeConv2DInfo(g.x, g.filter, g.strides, 1, g.pad);
  const flops = 2 * n * info.outHeight * info.outWidth * g.filter[0] * g.filter[1] * ci * g.filter[3];
  const x = tf.randomNormal(g.x);
  const w = tf.randomNormal(g.filter);
  const dy = tf.randomNormal(info.outShape);
  const convAttrs = { strides: g.strides, pad: g.pad, dataFormat: 'NHWC', dilations: 1 };
  const candidates: Candidate[] = [];
  const add = (op: string, call: Call, r = reps) => candidates.push({ op, call, reps: r, cpu: [], wall: [] });
  const withPath = (path: BackpropInputPath, call: Call): Call => () => {
    setBackpropInputPath(path);
    return call();
  };

  add('Conv2D forward (TF.js wasm, XNNPACK)', kernelCall('Conv2D', wasm, { x, filter: w }, convAttrs));
  const original = replacedWasmKernel('Conv2DBackpropInput');
  if (original !== undefined) {
    original.setupFunc?.(wasm); // re-binds its C function; harmless if TF.js already did
    add('Conv2DBackpropInput, TF.js wasm original', kernelCall('Conv2DBackpropInput', wasm, { dy, filter: w }, { ...convAttrs, inputShape: g.x }, original), Math.min(reps, 3));
  }
  const vigilInput = kernelCall('Conv2DBackpropInput', wasm, { dy, filter: w }, { ...convAttrs, inputShape: g.x });
  for (const path of ['auto', 'gemm', 'phase'] as BackpropInputPath[]) add(`Conv2DBackpropInput, vigil (${path})`, withPath(path, vigilInput));
  add('Conv2DBackpropFilter, vigil', kernelCall('Conv2DBackpropFilter', wasm, { x, dy }, { ...convAttrs, filterShape: g.filter }));

  try {
    measureRoundRobin(candidates, wasm);
  } finally {
    setBackpropInputPath('auto');
  }
  const rows = candidates.map((c) => ({ geometry: g.name, op: c.op, flops, ...summarise(c.cpu, c.wall) }));
  tf.dispose([x, w, dy]);
  return rows;
}

/** The cpu backend's Conv2DBackpropFilter (the only one TF.js offers on Node without tfjs-node); slow, so opt-in. */
async function benchCpuFilter(g: Geometry): Promise<Row> {
  await tf.setBackend('cpu');
  try {
    const cpu = tf.backend();
    const info = tf.backend_util.computeConv2DInfo(g.x, g.filter, g.strides, 1, g.pad);
    const flops = 2 * g.x[0] * info.outHeight * info.outWidth * g.filter[0] * g.filter[1] * g.x[3] * g.filter[3];
    const x = tf.randomNormal(g.x);
    const dy = tf.randomNormal(info.outShape);
    const [cpuMs, wallMs] = timeOnce(kernelCall('Conv2DBackpropFilter', cpu, { x, dy }, { strides: g.strides, pad: g.pad, dataFormat: 'NHWC', filterShape: g.filter }), cpu);
    tf.dispose([x, dy]);
    return { geometry: g.name, op: 'Conv2DBackpropFilter, TF.js cpu backend (for scale, 1 call)', flops, ...summarise([cpuMs], [wallMs]) };
  } finally {
    await tf.setBackend('wasm');
  }
}

/** CPU and wall time per optimizer step of the reference conv autoencoder, batch 128. */
async function benchTrainStep(reps: number): Promise<Timing> {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tfl.layers.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tfl.layers.conv2dTranspose({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tfl.layers.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
  const xs = tf.randomUniform([128, 28, 28, 1]);
  for (let i = 0; i < 2; i++) await model.trainOnBatch(xs, xs);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = cpuMsNow();
    const t0 = performance.now();
    await model.trainOnBatch(xs, xs);
    wall.push(performance.now() - t0);
    cpu.push(cpuMsNow() - c0);
  }
  xs.dispose();
  model.dispose();
  return summarise(cpu, wall);
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string', default: '10' },
      out: { type: 'string', default: 'bench/results/kernels.md' },
      'cpu-backend': { type: 'boolean', default: false },
    },
  });
  const reps = Math.max(1, Number(values.reps));
  await initEngine();
  const rows: Row[] = [];
  for (const g of GEOMETRIES) {
    rows.push(...benchGeometry(g, reps));
    if (values['cpu-backend']) rows.push(await benchCpuFilter(g));
  }
  const step = await benchTrainStep(Math.min(reps, 5));

  const info = engineInfo();
  const command = `node --import tsx bench/kernels.ts ${argv.join(' ')}`.trim();
  const gf = (r: Row) => (r.flops / r.cpuMinMs / 1e6).toFixed(2);
  const find = (geometry: string, op: string) => rows.find((r) => r.geometry === geometry && r.op.startsWith(op));
  const speedups = GEOMETRIES.map((g) => {
    const before = find(g.name, 'Conv2DBackpropInput, TF.js');
    const after = find(g.name, 'Conv2DBackpropInput, vigil (auto)');
    const fwd = find(g.name, 'Conv2D forward');
    const filter = find(g.name, 'Conv2DBackpropFilter, vigil');
    const parts = [];
    if (before && after) parts.push(`Conv2DBackpropInput ${(before.cpuMinMs / after.cpuMinMs).toFixed(1)}x faster than TF.js' own`);
    if (fwd && after && filter) parts.push(`input / filter gradient at ${(fwd.cpuMinMs / after.cpuMinMs).toFixed(2)}x / ${(fwd.cpuMinMs / filter.cpuMinMs).toFixed(2)}x the forward conv's speed`);
    return `- ${g.name.split(' ')[0]}: ${parts.join('; ')}.`;
  });
  const lines = [
    '# vigil wasm conv kernels',
    '',
    `Command: \`${command}\`  `,
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg()[0]!.toFixed(1)} at the end of the run, Node ${process.version}, TF.js ${info.tfjsVersion} backend ${info.backend}, SIMD ${info.simd ? 'yes' : 'no'}, threads ${info.threadCount ?? '?'}  `,
    `Date: ${new Date().toISOString().slice(0, 10)}; ${reps} timed calls per kernel (3 for the original TF.js kernel), taken round-robin across the kernels of a geometry after 2 warm-ups each`,
    '',
    'FLOPs per call = 2·N·outH·outW·kH·kW·Ci·Co, the same for a Conv2D, its input gradient and its filter gradient: G1 14.5 MFLOP, G2 231 MFLOP.',
    'The kernels are single-threaded and synchronous, so their CPU time (process user+system) is the work itself; wall time also counts',
    'waiting for a core when the machine is shared. GFLOP/s use the fastest CPU time, the figure least disturbed by other processes.',
    '',
    ...(os.loadavg()[0]! > os.cpus().length
      ? ['The load average exceeded the core count during this run: other processes shared the cores (and their caches), so expect', 'run-to-run variation even in CPU time; compare kernels within one run.', '']
      : []),
    '| geometry | kernel | CPU ms (min) | CPU ms (median) | wall ms (median) | GFLOP/s |',
    '|---|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.geometry} | ${r.op} | ${r.cpuMinMs.toFixed(2)} | ${r.cpuMedianMs.toFixed(2)} | ${r.wallMedianMs.toFixed(2)} | ${gf(r)} |`),
    '',
    ...speedups,
    '',
    `Reference autoencoder (conv 1→32 s2, conv 32→64 s2, conv2dTranspose 64→32 s2, conv2dTranspose 32→1 s2; ReLU, sigmoid out; tfjs-layers, Adam, MSE), batch 128, one training step: ${step.cpuMinMs.toFixed(1)} ms CPU min, ${step.cpuMedianMs.toFixed(1)} ms CPU median, ${step.wallMedianMs.toFixed(1)} ms wall median = ${((128 / step.cpuMinMs) * 1000).toFixed(0)} samples/s at the fastest. Without vigil's kernels this model cannot train on wasm (no Conv2DBackpropFilter).`,
    '',
  ];
  const table = lines.join('\n');
  await mkdir(path.dirname(values.out!), { recursive: true });
  await writeFile(values.out!, table);
  process.stdout.write(table);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
