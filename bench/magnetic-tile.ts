/**
 * Magnetic tile defects (Huang et al. 2020), the protocol of ../shared/BENCHMARKS.md: sort the
 * MT_Free/Imgs/*.jpg names, index % 5 == 0 is a normal test image, the rest train; the test set also
 * holds every image of the five defect classes. Image AUROC, pixel AUROC and PRO (FPR <= 0.3) per
 * defect class and overall for PaDiM, PatchCore, a convolutional autoencoder (conv-ae) and the
 * feature-reconstruction autoencoder (feature-ae), with
 * training time, inference ms per image and model size; plus PatchCore's nearest-neighbour search
 * time per image against bank size. Writes bench/results/magnetic-tile.md.
 *
 *   node --import tsx bench/magnetic-tile.ts <magnetic-tile-dir> [--detectors padim,patchcore,patchcore-paper,conv-ae,feature-ae]
 *        [--train-step 1] [--test-step 1] [--out bench/results/magnetic-tile.md]
 *   npm run bench -- magnetic-tile <magnetic-tile-dir>
 *
 * --train-step / --test-step keep every n-th training image / test image of each label (quick runs
 * only; the results file says so).
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { getDetectorFactory, type Detector } from '../src/core/detector.js';
import { VigilError } from '../src/core/errors.js';
import type { ImageSample, ScoreResult } from '../src/core/types.js';
import { loadMagneticTile, loadSamples, type ImageRef } from '../src/data/layouts.js';
import { auroc, pixelAuroc, pro } from '../src/metrics/index.js';
import '../src/models/index.js';
import { searchTable, searchTimings, type SearchTiming } from './nearest.js';

/** The detectors this benchmark can run: registry kind and settings (everything else: defaults). */
const VARIANTS = {
  padim: { kind: 'padim', config: { channels: 1 } },
  patchcore: { kind: 'patchcore', config: { channels: 1 } },
  // The paper's patch scores: raw nearest-neighbour distances, no per-position standardisation.
  'patchcore-paper': { kind: 'patchcore', config: { channels: 1, normalisePositions: false } },
  // 128x128 keeps training to minutes on two cores; four stride-2 stages (16..128 filters) → 8x8.
  'conv-ae': {
    kind: 'conv-ae',
    config: { height: 128, width: 128, channels: 1, depth: 4, filters: 16, latent: 128, epochs: 20, batchSize: 32, aggregate: 'topk', topk: 0.01, blurSigma: 2 },
  },
  // Feature-reconstruction autoencoder on PatchCore's taps (defaults: 160 of 768 channels, 28x28 grid).
  'feature-ae': { kind: 'feature-ae', config: { channels: 1 } },
} as const satisfies Record<string, { kind: string; config: Record<string, unknown> }>;
type Kind = keyof typeof VARIANTS;
const KNOWN = Object.keys(VARIANTS) as Kind[];
const DEFAULT_RUN: Kind[] = ['padim', 'patchcore', 'patchcore-paper', 'conv-ae'];

/** Published figures from BENCHMARKS.md (image AUROC, %). */
const PEERS: [string, string, string][] = [
  ['OC-SVM / 1-NN', '58.7 / 80.0', 'as tabulated in DifferNet (Rudolph et al., WACV 2021)'],
  ['GeoTrans / GANomaly', '75.5 / 76.6', 'same table'],
  ['DifferNet', '97.7', 'Rudolph et al., WACV 2021'],
  ['CS-Flow', 'about 99', 'Rudolph et al., WACV 2022'],
];

interface ClassFigures {
  /** Test images (overall) or images of the class (per class). */
  images: number;
  imageAuroc: number;
  pixelAuroc: number | null;
  pro: number | null;
}

interface DetectorRun {
  kind: Kind;
  config: Record<string, unknown>;
  input: { height: number; width: number; channels: 1 | 3 };
  trainImages: number;
  trainSeconds: number;
  inferenceMs: number;
  modelBytes: number;
  overall: ClassFigures;
  perClass: Record<string, ClassFigures>;
  state: Record<string, unknown>;
}

const pct = (x: number | null) => (x === null ? '-' : (100 * x).toFixed(1));

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) total += (await stat(path.join(dir, f))).size;
  return total;
}

/** Image AUROC, pixel AUROC and PRO of `idx` (normal test images plus one class, or everything). */
function figures(samples: ImageSample[], results: ScoreResult[], idx: number[], width: number): ClassFigures {
  const labels = idx.map((i) => samples[i]!.label!);
  const scores = idx.map((i) => results[i]!.score);
  const withMaps = idx.filter((i) => results[i]!.map && samples[i]!.mask);
  let pixel: number | null = null;
  let region: number | null = null;
  if (withMaps.length === idx.length && withMaps.some((i) => samples[i]!.label === 1)) {
    const maps = withMaps.map((i) => results[i]!.map!.values);
    const masks = withMaps.map((i) => samples[i]!.mask!);
    pixel = pixelAuroc(maps, masks);
    region = pro(maps, masks, { width, maxFpr: 0.3 });
  }
  return { images: idx.length, imageAuroc: auroc(scores, labels), pixelAuroc: pixel, pro: region };
}

async function runDetector(kind: Kind, overrides: Record<string, unknown>, trainRefs: ImageRef[], testRefs: ImageRef[], log: (s: string) => void): Promise<{ run: DetectorRun; detector: Detector<ImageSample> }> {
  const variant = VARIANTS[kind];
  const config = { ...variant.config, ...overrides };
  const detector = getDetectorFactory(variant.kind).create(config) as Detector<ImageSample>;
  const input = detector.summary().input as DetectorRun['input'];
  const size = { height: input.height, width: input.width };
  log(`${kind}: decoding ${trainRefs.length} training and ${testRefs.length} test images at ${size.height}x${size.width}`);
  const train = await loadSamples(trainRefs, { channels: input.channels, size });
  const test = await loadSamples(testRefs, { channels: input.channels, size, masks: true });
  let t0 = performance.now();
  const report = await detector.fit(train, { seed: 0 });
  const trainSeconds = (performance.now() - t0) / 1000;
  log(`${kind}: trained in ${trainSeconds.toFixed(1)} s`);
  t0 = performance.now();
  const results = await detector.score(test);
  const inferenceMs = (performance.now() - t0) / test.length;
  log(`${kind}: scored ${test.length} images, ${inferenceMs.toFixed(0)} ms per image`);
  const tmp = path.join(os.tmpdir(), `vigil-bench-mt-${kind}-${process.pid}`);
  const manifest = await detector.save(tmp);
  const modelBytes = await dirBytes(tmp);
  const all = test.map((_, i) => i);
  const normal = all.filter((i) => test[i]!.label === 0);
  const classes = [...new Set(test.filter((s) => s.label === 1).map((s) => s.category!))].sort();
  const perClass: Record<string, ClassFigures> = {};
  for (const c of classes) {
    const members = all.filter((i) => test[i]!.category === c);
    perClass[c] = { ...figures(test, results, [...normal, ...members], input.width), images: members.length };
  }
  const overall = figures(test, results, all, input.width);
  log(`${kind}: image AUROC ${pct(overall.imageAuroc)}, pixel AUROC ${pct(overall.pixelAuroc)}, PRO ${pct(overall.pro)}`);
  return {
    run: {
      kind,
      config,
      input,
      trainImages: report.trainSamples + report.validationSamples,
      trainSeconds,
      inferenceMs,
      modelBytes,
      overall,
      perClass,
      state: manifest.state,
    },
    detector,
  };
}

function markdown(command: string, runs: DetectorRun[], timings: SearchTiming[], notes: string[]): string {
  const classes = [...new Set(runs.flatMap((r) => Object.keys(r.perClass)))].sort();
  const lines: string[] = [
    '# Magnetic tile defects',
    '',
    `Command: \`${command}\``,
    '',
    `Run ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} shared CPU cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), TF.js wasm backend, single thread.`,
    'Protocol (../shared/BENCHMARKS.md): sorted `MT_Free/Imgs/*.jpg`, index % 5 == 0 → normal test image, the rest train; test = those',
    'normal images + every image of the five defect classes. Images are stretched to the detector\'s input size (masks with them,',
    'nearest neighbour); pixel AUROC and PRO (per-region overlap, FPR ≤ 0.3, normalised) are computed at that size over all test',
    'images. Per-class figures: the normal test images plus that class. Every detector holds out 10% of the training images to fit',
    'its label-free threshold, so it is fitted on 90% of them.',
    ...notes.map((n) => `${n}`),
    '',
    '## Overall',
    '',
    '| detector | input | image AUROC | pixel AUROC | PRO | train images | training s | inference ms/image | model size |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...runs.map(
      (r) =>
        `| vigil ${r.kind} | ${r.input.height}x${r.input.width} | ${pct(r.overall.imageAuroc)} | ${pct(r.overall.pixelAuroc)} | ${pct(r.overall.pro)} | ${r.trainImages} | ${r.trainSeconds.toFixed(0)} | ${r.inferenceMs.toFixed(0)} | ${(r.modelBytes / 1048576).toFixed(1)} MB |`,
    ),
    ...PEERS.map(([m, a, src]) => `| ${m} (${src}) | | ${a} | | | | | | |`),
    '',
    '## Per defect class (image AUROC / pixel AUROC / PRO)',
    '',
    `| detector | ${classes.join(' | ')} |`,
    `|---|${classes.map(() => '---:').join('|')}|`,
    ...runs.map((r) => `| ${r.kind} | ${classes.map((c) => (r.perClass[c] ? `${pct(r.perClass[c]!.imageAuroc)} / ${pct(r.perClass[c]!.pixelAuroc)} / ${pct(r.perClass[c]!.pro)}` : '-')).join(' | ')} |`),
    `| defect images | ${classes.map((c) => String(runs[0]?.perClass[c]?.images ?? '-')).join(' | ')} |`,
    '',
    '## Settings',
    '',
    ...runs.map((r) => `- ${r.kind}: config ${JSON.stringify(r.config)} (other keys at their defaults); model state ${JSON.stringify(summariseState(r.state))}`),
  ];
  if (timings.length > 0) lines.push('', '## PatchCore nearest-neighbour search', '', ...searchTable(timings));
  return lines.join('\n') + '\n';
}

/** The state keys worth printing (sizes and thresholds, not arrays). */
function summariseState(state: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) if (typeof v === 'number' || (typeof v === 'object' && v !== null && !Array.isArray(v) && k === 'grid')) out[k] = v;
  return out;
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      detectors: { type: 'string', default: DEFAULT_RUN.join(',') },
      'train-step': { type: 'string', default: '1' },
      'test-step': { type: 'string', default: '1' },
      out: { type: 'string', default: 'bench/results/magnetic-tile.md' },
      // key=value (JSON value) over every selected detector's settings, for trying variants.
      set: { type: 'string', multiple: true, default: [] },
    },
  });
  const overrides: Record<string, unknown> = {};
  for (const kv of values.set!) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new VigilError('E_CONFIG', `--set ${kv}: expected key=value`, { value: kv });
    const raw = kv.slice(eq + 1);
    let v: unknown = raw;
    try {
      v = JSON.parse(raw);
    } catch {
      // a bare string
    }
    overrides[kv.slice(0, eq)] = v;
  }
  const dir = positionals[0];
  if (!dir) throw new VigilError('E_CONFIG', `usage: bench/magnetic-tile.ts <magnetic-tile-dir> [--detectors ${KNOWN.join(',')}] [--out file]`);
  const kinds = values.detectors!.split(',').map((k) => k.trim()) as Kind[];
  for (const k of kinds) if (!KNOWN.includes(k)) throw new VigilError('E_CONFIG', `--detectors: unknown "${k}", expected some of ${KNOWN.join(', ')}`, { value: k });
  const trainStep = Number(values['train-step']);
  const testStep = Number(values['test-step']);
  const log = (s: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

  const ds = await loadMagneticTile(dir);
  const trainRefs = ds.train.filter((_, i) => i % trainStep === 0);
  const testRefs = [...ds.test.filter((r) => r.label === 0).filter((_, i) => i % testStep === 0), ...ds.test.filter((r) => r.label === 1).filter((_, i) => i % testStep === 0)];
  const notes: string[] = [];
  if (trainStep > 1 || testStep > 1) notes.push(`**Quick run**: every ${trainStep}th training image and every ${testStep}th test image only; not the full protocol.`);
  const runs: DetectorRun[] = [];
  let timings: SearchTiming[] = [];
  for (const kind of kinds) {
    const { run, detector } = await runDetector(kind, overrides, trainRefs, testRefs, log);
    detector.dispose();
    runs.push(run);
    if (VARIANTS[kind].kind === 'patchcore' && timings.length === 0) {
      const grid = run.state.grid as { height: number; width: number };
      const dim = run.state.dim as number;
      const bank = run.state.bankSize as number;
      const sizes = [...new Set([1024, 4096, 8192, 16384, bank])].filter((s) => s <= Math.max(bank, 16384)).sort((a, b) => a - b);
      timings = await searchTimings(grid.height * grid.width, dim, sizes);
      log(`patchcore search: ${timings.map((t) => `${t.bank} (${t.engine}): ${t.ms.toFixed(0)} ms`).join(', ')}`);
    }
  }
  const command = `node --import tsx bench/magnetic-tile.ts ${argv.join(' ')}`;
  const md = markdown(command, runs, timings, notes);
  await mkdir(path.dirname(values.out!), { recursive: true });
  await writeFile(values.out!, md);
  process.stdout.write(md);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
