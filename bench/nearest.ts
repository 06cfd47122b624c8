/**
 * PatchCore's exact nearest-neighbour search: time per image (one image's patches against a bank of
 * random vectors; the cost does not depend on the values) for growing banks, on ONNX Runtime
 * (`searchAsync`, what PatchCore uses) and on the TF.js wasm backend (`search`, the fallback).
 * Writes bench/results/nearest.md.
 *
 *   npm run bench -- nearest [--patches 784] [--dim 768] [--banks 1024,4096,8192,16384]
 *
 * The defaults are PatchCore's on a 224x224 image with the MobileNet taps (28x28 patches, 768 dims).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRng } from '../src/data/random.js';
import { initEngine } from '../src/engine/backend.js';
import { NearestNeighbourIndex } from '../src/models/components/nearest.js';

export interface SearchTiming {
  bank: number;
  dim: number;
  patches: number;
  engine: 'onnxruntime' | 'tfjs';
  ms: number;
}

/** Mean time of 3 searches after a warm-up (the engine copies, and XNNPACK packs, the bank once). */
export async function searchTimings(patches: number, dim: number, banks: number[]): Promise<SearchTiming[]> {
  const rng = createRng(1);
  const queries = Float32Array.from({ length: patches * dim }, () => rng.normal());
  const timings: SearchTiming[] = [];
  for (const bank of banks) {
    const index = new NearestNeighbourIndex(Float32Array.from({ length: bank * dim }, () => rng.normal()), dim);
    try {
      for (const engine of ['onnxruntime', 'tfjs'] as const) {
        const search = () => (engine === 'tfjs' ? Promise.resolve(index.search(queries, patches)) : index.searchAsync(queries, patches));
        await search();
        const reps = 3;
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) await search();
        timings.push({ bank, dim, patches, engine, ms: (performance.now() - t0) / reps });
      }
    } finally {
      index.dispose();
    }
  }
  return timings;
}

/** Markdown lines: one row per bank size, both engines side by side. */
export function searchTable(timings: SearchTiming[]): string[] {
  const t = timings[0]!;
  const banks = [...new Set(timings.map((x) => x.bank))];
  const ms = (bank: number, engine: SearchTiming['engine']) => timings.find((x) => x.bank === bank && x.engine === engine)?.ms;
  return [
    `Exact search of one image's ${t.patches} patches (${t.dim} dims) against the memory bank by matrix products`,
    '(|q|² + |b|² − 2 q·b, argmin per patch, exact distance of the winner recomputed in float64), mean of 3 after a',
    'warm-up. ONNX Runtime (2 intra-op threads) is what PatchCore uses; TF.js wasm (1 thread) is the fallback.',
    '',
    '| bank vectors | ONNX Runtime ms per image | TF.js wasm ms per image | speed-up | ONNX Runtime GFLOP/s |',
    '|---:|---:|---:|---:|---:|',
    ...banks.map((b) => {
      const o = ms(b, 'onnxruntime')!;
      const w = ms(b, 'tfjs')!;
      const gflops = (2 * t.patches * t.dim * b) / (o * 1e6);
      return `| ${b} | ${o.toFixed(0)} | ${w.toFixed(0)} | ${(w / o).toFixed(1)}x | ${gflops.toFixed(1)} |`;
    }),
  ];
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      patches: { type: 'string', default: '784' },
      dim: { type: 'string', default: '768' },
      banks: { type: 'string', default: '1024,4096,8192,16384' },
      out: { type: 'string', default: 'bench/results/nearest.md' },
    },
  });
  await initEngine();
  const banks = values.banks!.split(',').map(Number);
  const timings = await searchTimings(Number(values.patches), Number(values.dim), banks);
  const [load] = os.loadavg();
  const md = [
    '# PatchCore nearest-neighbour search',
    '',
    `Command: \`${['npm run bench -- nearest', ...argv].join(' ')}\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} CPU cores, load average ${load!.toFixed(1)} at the end.`,
    '',
    ...searchTable(timings),
    '',
  ].join('\n');
  await mkdir(path.dirname(values.out!), { recursive: true });
  await writeFile(values.out!, md);
  process.stdout.write(md);
}
