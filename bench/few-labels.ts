/**
 * Few labels: the same detector trained with 0%, 1% and 5% of the test anomalies labelled (moved from
 * the test set into training; 30% of them, rounded down, held out to set the threshold), AUROC and
 * F1 at the chosen threshold on what remains.
 *
 *   npm run bench -- few-labels fashion-mnist [dir] [--classes 0,4,6] [--epochs 8]
 *   npm run bench -- few-labels magnetic-tile <dir> [--detector conv-ae|feature-ae] [--epochs N] [--size 128]
 *   ... [--config '{"mirrorAnomalies":false}']   (detector settings merged over the task's)
 *   ... [--seed 1] [--dump rows.json]   (label draw and training seed; test scores per row)
 *
 * On the magnetic tiles, conv-ae runs at --size (default 128); feature-ae runs at the backbone's
 * 224x224 (--size is ignored) with the settings of bench/magnetic-tile.ts plus --epochs.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getDetectorFactory } from '../src/core/detector.js';
import type { ImageSample } from '../src/core/types.js';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, indicesOfClass, loadFashionMnist, packedSamples } from '../src/data/idx.js';
import { loadImageDataset, loadSamples } from '../src/data/layouts.js';
import { createRng } from '../src/data/random.js';
import { initEngine } from '../src/engine/backend.js';
import { auroc } from '../src/metrics/index.js';
import '../src/models/index.js';
import { splitLabelledAnomalies } from '../src/cli/commands/train.js';
import { REFERENCE_CONFIG } from './fashion-mnist.js';

interface Task {
  name: string;
  /** Registry kind of the detector. */
  detector: string;
  train: ImageSample[];
  test: ImageSample[];
  config: Record<string, unknown>;
}

interface Row {
  task: string;
  fraction: number;
  labelled: number;
  auroc: number;
  f1: number;
  threshold: number;
  method: string;
  trainSeconds: number;
  /** The unsupervised (0%) model on this row's test set: the paired baseline. */
  baseline: { auroc: number; f1: number };
  /** What --dump writes: the test scores and labels, the threshold's parameters. */
  detail: { scores: number[]; labels: number[]; threshold: Record<string, unknown> };
}

const FRACTIONS = [0, 0.01, 0.05];

function f1At(scores: number[], labels: number[], t: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  scores.forEach((s, i) => {
    if (s >= t && labels[i]) tp++;
    else if (s >= t) fp++;
    else if (labels[i]) fn++;
  });
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

async function runTask(task: Task, seed: number): Promise<Row[]> {
  const rows: Row[] = [];
  const anomalies = task.test.filter((s) => s.label === 1);
  const order = createRng(seed).shuffle(anomalies.map((_, i) => i));
  // The 0% model's score and threshold, so each labelled run is compared on its own test set.
  let unsupervised: { scores: Map<ImageSample, number>; threshold: number } | null = null;
  for (const fraction of FRACTIONS) {
    const n = Math.ceil(fraction * anomalies.length);
    const chosen = new Set(order.slice(0, n).map((i) => anomalies[i]!));
    const labelled = [...chosen];
    const test = task.test.filter((s) => !chosen.has(s));
    const split = splitLabelledAnomalies(labelled, 0.3, seed);
    const det = getDetectorFactory(task.detector).create({ ...task.config, seed });
    const t0 = performance.now();
    await det.fit(task.train, { seed, anomalies: split.train, validationAnomalies: split.threshold });
    const trainSeconds = (performance.now() - t0) / 1000;
    const scores = (await det.score(test)).map((r) => r.score);
    const labels = test.map((s) => s.label!);
    const t = det.postprocess.threshold!;
    unsupervised ??= { scores: new Map(test.map((s, i) => [s, scores[i]!])), threshold: t };
    const base = test.map((s) => unsupervised!.scores.get(s)!);
    const row: Row = {
      task: task.name,
      fraction,
      labelled: n,
      auroc: auroc(scores, labels),
      f1: f1At(scores, labels, t),
      threshold: t,
      method: det.postprocess.state.method ?? '',
      trainSeconds,
      baseline: { auroc: auroc(base, labels), f1: f1At(base, labels, unsupervised.threshold) },
      detail: { scores, labels, threshold: { ...det.postprocess.state } },
    };
    rows.push(row);
    det.dispose();
    process.stderr.write(
      `${task.name} ${(fraction * 100).toFixed(0)}% (${n} labelled): AUROC ${(100 * row.auroc).toFixed(1)}, F1 ${(100 * row.f1).toFixed(1)} (${row.method}); ` +
        `0% model on this test set: AUROC ${(100 * row.baseline.auroc).toFixed(1)}, F1 ${(100 * row.baseline.f1).toFixed(1)}\n`,
    );
  }
  return rows;
}

async function fashionTasks(dir: string, classes: number[], epochs: number): Promise<Task[]> {
  const data = await loadFashionMnist(dir);
  return classes.map((cls) => {
    const test = packedSamples(data.test.images, { classes: data.test.labels, normalClasses: [cls] });
    return {
      name: `fashion-mnist ${cls} ${FASHION_MNIST_CLASSES[cls]}`,
      detector: 'conv-ae',
      train: packedSamples(data.train.images, { indices: indicesOfClass(data.train.labels, cls) }),
      test,
      config: { ...REFERENCE_CONFIG, epochs, patience: 0 },
    };
  });
}

/** feature-ae's settings on the magnetic tiles: keep in step with its entry in bench/magnetic-tile.ts. */
const FEATURE_AE_TILE_CONFIG = { channels: 1 };

async function magneticTileTask(dir: string, detector: string, epochs: number | undefined, size: number): Promise<Task> {
  const ds = await loadImageDataset(dir);
  const config: Record<string, unknown> =
    detector === 'feature-ae'
      ? { ...FEATURE_AE_TILE_CONFIG, ...(epochs ? { epochs } : {}) }
      : { height: size, width: size, channels: 1, depth: 4, filters: 16, latent: 64, epochs: epochs ?? 30, batchSize: 32, loss: 'mse+ssim', aggregate: 'topk', topk: 0.01, blurSigma: 2, patience: 0 };
  const input = getDetectorFactory(detector).create(config).summary().input as { height: number; width: number };
  const opts = { channels: 1 as const, size: { height: input.height, width: input.width }, masks: false };
  return {
    name: `magnetic-tile ${detector}`,
    detector,
    train: await loadSamples(ds.train, opts),
    test: await loadSamples(ds.test, opts),
    config,
  };
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      classes: { type: 'string', default: '0,4,6' },
      epochs: { type: 'string' },
      size: { type: 'string', default: '128' },
      seed: { type: 'string', default: '1' },
      detector: { type: 'string', default: 'conv-ae' },
      // Detector settings (JSON) merged over the task's, e.g. '{"mirrorAnomalies":false}'.
      config: { type: 'string' },
      // Write every row's test scores, labels and threshold parameters to this JSON file.
      dump: { type: 'string' },
    },
  });
  const [which, dirArg] = positionals;
  await initEngine();
  let tasks: Task[];
  if (which === 'fashion-mnist') tasks = await fashionTasks(dirArg ?? DEBIAN_FASHION_MNIST_DIR, values.classes!.split(',').map(Number), Number(values.epochs ?? 8));
  else if (which === 'magnetic-tile' && dirArg) {
    if (!['conv-ae', 'feature-ae'].includes(values.detector!)) throw new Error(`--detector: "${values.detector}", expected conv-ae or feature-ae`);
    tasks = [await magneticTileTask(dirArg, values.detector!, values.epochs ? Number(values.epochs) : undefined, Number(values.size))];
  } else throw new Error('usage: few-labels fashion-mnist [dir] | few-labels magnetic-tile <dir> [--detector conv-ae|feature-ae]');
  if (values.config) {
    let extra: unknown;
    try {
      extra = JSON.parse(values.config);
    } catch (e) {
      throw new Error(`--config: not JSON (${(e as Error).message}): ${values.config}`);
    }
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new Error(`--config: expected a JSON object of detector settings, got ${values.config}`);
    for (const task of tasks) task.config = { ...task.config, ...extra };
  }
  const rows: Row[] = [];
  for (const task of tasks) rows.push(...(await runTask(task, Number(values.seed))));
  if (values.dump) await writeFile(values.dump, JSON.stringify(rows));
  const out = 'bench/results/few-labels.md';
  // One section per data set and detector (conv-ae keeps the plain data-set name).
  let key = which === 'magnetic-tile' && values.detector !== 'conv-ae' ? `${which} ${values.detector}` : which!;
  if (values.config) key += ` ${values.config}`;
  if (values.seed !== '1') key += ` seed ${values.seed}`;
  const section = formatSection(key, rows, `npm run bench -- few-labels ${argv.join(' ')}`);
  await mkdir(path.dirname(out), { recursive: true });
  // Each data set has its own section; re-running one replaces only that section.
  let text = '';
  try {
    text = await readFile(out, 'utf8');
  } catch {
    text = '# Few labels: semi-supervised conv-ae with 0%, 1% and 5% of the anomalies labelled\n\n' +
      'Labelled anomalies are drawn (seeded) from the test anomalies and removed from the test set; 70% train with the push-away loss, 30% (rounded down) set the threshold with the normals held out from training (few-label threshold). Figures in %.\n';
  }
  const marker = `\n## ${key}\n`;
  const start = text.indexOf(marker);
  if (start >= 0) {
    const end = text.indexOf('\n## ', start + marker.length);
    text = text.slice(0, start) + (end >= 0 ? text.slice(end) : '');
  }
  await writeFile(out, text.trimEnd() + '\n' + section);
  process.stdout.write(section);
}

function formatSection(which: string, rows: Row[], command: string): string {
  const pct = (v: number) => (100 * v).toFixed(1);
  const gain = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}`;
  const lines = [
    ``,
    `## ${which}`,
    ``,
    `Command: \`${command}\`, ${new Date().toISOString().slice(0, 10)}`,
    ``,
    'Gains are against the unsupervised (0%) model scored on the same test set (the labelled anomalies removed).',
    ``,
    '| task | labelled | AUROC | F1 at threshold | AUROC gain | F1 gain | threshold method | training s |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const gains = r.fraction === 0 ? ['', ''] : [gain(r.auroc - r.baseline.auroc), gain(r.f1 - r.baseline.f1)];
    lines.push(`| ${r.task} | ${(100 * r.fraction).toFixed(0)}% (${r.labelled}) | ${pct(r.auroc)} | ${pct(r.f1)} | ${gains.join(' | ')} | ${r.method} | ${r.trainSeconds.toFixed(0)} |`);
  }
  for (const fraction of FRACTIONS) {
    const rs = rows.filter((r) => r.fraction === fraction);
    const mean = (f: (r: Row) => number) => rs.reduce((s, r) => s + f(r), 0) / rs.length;
    const gains = fraction === 0 ? ['', ''] : [gain(mean((r) => r.auroc - r.baseline.auroc)), gain(mean((r) => r.f1 - r.baseline.f1))];
    lines.push(`| **mean** | ${(100 * fraction).toFixed(0)}% | **${pct(mean((r) => r.auroc))}** | **${pct(mean((r) => r.f1))}** | ${gains.join(' | ')} | | |`);
  }
  return lines.join('\n') + '\n';
}
