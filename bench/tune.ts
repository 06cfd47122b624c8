/**
 * Tuning benchmark: does `vigil tune` (random search + successive halving, label-free selection on
 * planted defects) beat the default configuration, and what does the search cost?
 *
 *   npm run bench -- tune /usr/share/datasets/fashion-mnist [--classes 0,1,2] [--budget 13] [--trial-samples N]
 *   npm run bench -- tune ../shared/data/magnetic-tile [--budget 13] [--size 64]
 *
 * The default budget is 13 trials (9 configurations x 2 epochs, the best 3 x 7, the best 1 x 20): a
 * fixed amount of work, so that the result does not depend on how busy the machine is.
 *
 * Fashion-MNIST: the one-class protocol of ../shared/BENCHMARKS.md (train on the 6,000 training
 * images of class k, test on all 10,000 test images) on a few classes to fit the time; the default is
 * the reference autoencoder of that file (bench/fashion-mnist.ts REFERENCE_CONFIG, 20 epochs).
 * Magnetic tiles: the split of BENCHMARKS.md (every fifth MT_Free image is a test image), images
 * resized to --size; the default is conv-ae's own defaults at that size. The search never sees a test
 * image or a real anomaly: trials are judged on held-out normal training images and copies of them
 * with planted defects. The tuned model is refitted on all training images, like the default.
 *
 * Each run rewrites its own section of bench/results/tune.md (Fashion-MNIST or magnetic tiles).
 *
 * `--study` instead measures how well each label-free criterion ranks configurations: N random
 * configurations (the search space's first draws) are trained briefly on a subset, and the Spearman
 * correlation between each criterion and the test AUROC is reported (section "criterion study").
 *
 *   npm run bench -- tune /usr/share/datasets/fashion-mnist --study [--classes 0] [--configs 10]
 *   npm run bench -- tune ../shared/data/magnetic-tile --study [--configs 8]
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getDetectorFactory, loadDetector } from '../src/core/detector.js';
import type { ImageSample } from '../src/core/types.js';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, indicesOfClass, loadFashionMnist, packedSamples } from '../src/data/idx.js';
import { loadImageDataset, loadSamples, MAGNETIC_TILE_NORMAL } from '../src/data/layouts.js';
import { createRng } from '../src/data/random.js';
import { engineInfo, initEngine } from '../src/engine/backend.js';
import { auroc } from '../src/metrics/index.js';
import '../src/models/index.js';
import { parseBudget } from '../src/config/run-config.js';
import { describeChoice, f1At } from '../src/tune/threshold-choice.js';
import { pairedWinRate } from '../src/tune/criteria.js';
import { drawConfigurations, SEARCH_SPACES } from '../src/tune/space.js';
import { DEFAULT_IMAGE_ANOMALIES, holdOut, syntheticAnomalies, type ImageAnomalyKind } from '../src/tune/synthetic.js';
import { tune } from '../src/tune/tuner.js';
import { REFERENCE_CONFIG } from './fashion-mnist.js';

interface Task {
  name: string;
  /** What the default trains on (the protocol's training set). */
  train: ImageSample[];
  test: ImageSample[];
  defaults: Record<string, unknown>;
  /** What the search and the refit train on (the training set less a labelled validation split). */
  tuneTrain?: ImageSample[];
  /** Case (c): labelled validation images taken from the training split. */
  validation?: ImageSample[];
  /** Case (b): a few labelled anomalies taken from the training split. */
  anomalies?: ImageSample[];
}

type BenchSelection = 'label-free' | 'few-labels' | 'labelled';

interface Row {
  task: string;
  defaultAuroc: number;
  tunedAuroc: number;
  defaultF1: number;
  tunedF1: number;
  defaultMinutes: number;
  searchMinutes: number;
  refitMinutes: number;
  /** CPU minutes (user + system) of this process: robust to other work sharing the machine. */
  defaultCpu: number;
  searchCpu: number;
  refitCpu: number;
  trials: number;
  plan: string;
  best: string;
  threshold: string;
  defaultCriterion: number | null;
  bestCriterion: number;
}

const minutes = (s: number) => s / 60;
/** CPU minutes used by this process since `since` (process.cpuUsage()). */
const cpuMinutes = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 6e7;
};

/**
 * Fashion-MNIST tasks. With labels (cases b and c) they come from the *training* split only: the
 * other classes' training images are the anomalies; (c) also holds `labelled` of class k's training
 * images out of training as the normal half of the validation set.
 */
async function fashionTasks(dir: string, classes: number[], limit: number | null, seed: number, selection: BenchSelection, labelled: number): Promise<Task[]> {
  const data = await loadFashionMnist(dir);
  const test = packedSamples(data.test.images, { classes: data.test.labels, normalClasses: [0] });
  return classes.map((cls) => {
    let idx = indicesOfClass(data.train.labels, cls);
    if (limit !== null) idx = createRng(seed).shuffle(idx).slice(0, limit).sort((a, b) => a - b);
    const task: Task = {
      name: `fashion-mnist class ${cls} (${FASHION_MNIST_CLASSES[cls]})`,
      train: packedSamples(data.train.images, { indices: idx }),
      test: test.map((s) => ({ ...s, label: Number(s.category) === cls ? 0 : 1 })),
      defaults: { ...REFERENCE_CONFIG, epochs: 20 },
    };
    if (selection === 'label-free') return task;
    const others = createRng(`${seed}:others:${cls}`)
      .shuffle(Array.from(data.train.labels.keys()).filter((i) => data.train.labels[i] !== cls))
      .slice(0, labelled);
    const anomalies = packedSamples(data.train.images, { indices: others }).map((s) => ({ ...s, label: 1 as const }));
    if (selection === 'few-labels') return { ...task, anomalies };
    const order = createRng(`${seed}:validation:${cls}`).shuffle([...idx]);
    const held = new Set(order.slice(0, labelled));
    const normalVal = packedSamples(data.train.images, { indices: order.slice(0, labelled).sort((a, b) => a - b) }).map((s) => ({ ...s, label: 0 as const }));
    return { ...task, tuneTrain: packedSamples(data.train.images, { indices: idx.filter((i) => !held.has(i)) }), validation: [...normalVal, ...anomalies] };
  });
}

async function tileTask(dir: string, size: number, limit: number | null, seed: number): Promise<Task> {
  const layout = await loadImageDataset(dir);
  let refs = layout.train;
  if (limit !== null) refs = createRng(seed).shuffle([...refs]).slice(0, limit);
  const opts = { channels: 1 as const, size: { height: size, width: size }, masks: false };
  return {
    name: `magnetic tiles ${size}x${size}`,
    train: await loadSamples(refs, opts),
    test: await loadSamples(layout.test, opts),
    defaults: { height: size, width: size, channels: 1 },
  };
}

async function runTask(task: Task, o: { budget: ReturnType<typeof parseBudget>; trialSamples: number | null; seed: number; work: string; eta: number; synthetic?: ImageAnomalyKind[]; selection: BenchSelection }): Promise<Row> {
  const labels = task.test.map((s) => s.label!);
  const log = (l: string) => process.stderr.write(`[${task.name}] ${l}\n`);
  // The default configuration, trained once.
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const det = getDetectorFactory('conv-ae').create({ ...task.defaults, seed: o.seed });
  await det.fit(task.train);
  const defaultMinutes = minutes((performance.now() - t0) / 1000);
  const defaultCpu = cpuMinutes(c0);
  const defScores = (await det.score(task.test)).map((r) => r.score);
  const defaultAuroc = auroc(defScores, labels);
  const defaultF1 = f1At(defScores, labels, det.postprocess.threshold!);
  det.dispose();
  log(`default: AUROC ${(100 * defaultAuroc).toFixed(1)}, F1 ${(100 * defaultF1).toFixed(1)}, ${defaultMinutes.toFixed(1)} min`);

  const out = path.join(o.work, `${task.name}-${o.selection}-${(o.synthetic ?? DEFAULT_IMAGE_ANOMALIES).join('+')}`.replace(/[^a-z0-9+]+/gi, '-'));
  const cSearch = process.cpuUsage();
  let searchCpu = 0;
  let cRefit = process.cpuUsage();
  const result = await tune(
    {
      detector: 'conv-ae',
      out,
      dataset: task.name,
      budget: o.budget,
      base: task.defaults,
      seed: o.seed,
      eta: o.eta,
      trialSamples: o.trialSamples ?? undefined,
      synthetic: o.synthetic,
      selection: o.selection,
      fresh: true,
      events: {
        log,
        planned: (plan, sizing) => log(`plan (${sizing}): ${plan.rungs.map((r) => `${r.configs} x ${r.resource} epochs`).join(' -> ')}`),
        trialEnd: (r, s) => log(`${s.done}/${s.total} c${r.configIndex}@${r.resource}: ${r.criterion?.toFixed(4) ?? r.error} in ${r.seconds.toFixed(0)} s ${JSON.stringify(r.settings)}`),
        refitStart: () => {
          searchCpu = cpuMinutes(cSearch);
          cRefit = process.cpuUsage();
        },
      },
    },
    { normal: task.tuneTrain ?? task.train, validation: task.validation, anomalies: task.anomalies },
  );
  const refitCpu = cpuMinutes(cRefit);
  const tuned = await loadDetector<ImageSample>(result.modelDir!);
  const tunedScores = (await tuned.score(task.test)).map((r) => r.score);
  const tunedAuroc = auroc(tunedScores, labels);
  const tunedF1 = f1At(tunedScores, labels, tuned.postprocess.threshold!);
  tuned.dispose();
  const best = result.best!;
  // The default (configuration 0) as the search saw it, at the highest rung it reached.
  const base = result.trials.filter((t) => t.configIndex === 0 && t.status === 'ok').sort((a, b) => b.resource - a.resource)[0];
  log(`tuned: AUROC ${(100 * tunedAuroc).toFixed(1)}, F1 ${(100 * tunedF1).toFixed(1)}; search ${minutes(result.searchSeconds).toFixed(1)} min, refit ${minutes(result.refitSeconds).toFixed(1)} min`);
  return {
    task: task.name,
    defaultAuroc,
    tunedAuroc,
    defaultF1,
    tunedF1,
    defaultMinutes,
    searchMinutes: minutes(result.searchSeconds),
    refitMinutes: minutes(result.refitSeconds),
    defaultCpu,
    searchCpu,
    refitCpu,
    trials: result.trials.length,
    plan: result.plan!.rungs.map((r) => `${r.configs}x${r.resource}`).join(' → '),
    best: `${Object.entries(best.settings).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') || 'the default settings'}, ${best.resource} epochs`,
    threshold: describeChoice(result.threshold!.choice),
    defaultCriterion: base ? base.criterion : null,
    bestCriterion: best.criterion!,
  };
}

const pct = (v: number) => (100 * v).toFixed(1);

function section(kind: string, rows: Row[], o: { command: string; budget: string; trialSamples: number | null; limit: number | null; size: number; synthetic: readonly string[]; selection: BenchSelection; labelled: number; key: string }): string {
  const info = engineInfo();
  const lines = [
    `<!-- ${o.key} -->`,
    `${kind === 'fashion-mnist' ? '## One-class Fashion-MNIST' : '## Magnetic tile defects'}: ${o.selection} selection${o.selection === 'label-free' ? ` on ${o.synthetic.join(' + ')}` : ''}`,
    '',
    `Command: \`${o.command}\`  `,
    `Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}) shared with other work, Node ${process.version}, TF.js ${info.backend}${info.simd ? ' (SIMD)' : ''}, one thread  `,
    `Date: ${new Date().toISOString().slice(0, 10)}; search budget ${/^\d+$/.test(o.budget) ? `${o.budget} trials` : o.budget} per task${o.trialSamples ? `, trials trained on ${o.trialSamples} images (the refit on all)` : ''}${o.limit ? `; **training limited to ${o.limit} images (smoke run)**` : ''}`,
    '',
    kind === 'fashion-mnist'
      ? `Protocol (../shared/BENCHMARKS.md): train on the 6,000 training images of class k, test on all 10,000 test images (class k normal). ${rows.length} class(es) only, to fit the time on two shared cores. Default = the reference autoencoder (depth 2, 32 filters, latent 32, PyTorch init, MSE, mean, Adam 1e-3, batch 128, 20 epochs).`
      : `Protocol (../shared/BENCHMARKS.md): sorted MT_Free images, every fifth a test image, the rest training; test = those + all 392 defect images; images resized to ${o.size}x${o.size} grey. Default = conv-ae's defaults (depth 3, 32 filters, latent 64, MSE, mean, 20 epochs).`,
    '',
    `${
      o.selection === 'label-free'
        ? `Selection is label-free: trials are judged by the AUROC between held-out normal training images and altered copies of them (${o.synthetic.join(' and ')}${o.synthetic.length > 1 ? ', taken in turn' : ''}; defect: planted scratches, spots and cracks from \`plantDefect\`; rotate: whole images turned by 90° or flipped); no test image and no real anomaly is used.`
        : o.selection === 'labelled'
          ? `Selection on a labelled validation set taken from the training split: ${o.labelled} training images of class k (held out of training, so the search and the refit train on ${6000 - o.labelled}) and ${o.labelled} training images of the other classes; metric AUROC. No test image is used.`
          : `Selection with a few labels: ${o.labelled} training images of other classes as labelled anomalies (half the criterion), held-out normal images with synthetic anomalies (the other half). No test image is used.`
    } Cost of the search, of the refit of the winner on all training images and, for scale, of one training of the default: CPU minutes of the benchmark process (TF.js wasm runs on one thread, so this is the time it needs with a core to itself) and, in brackets, wall minutes on this machine, which was shared with other work at the time.`,
    '',
    '| task | default AUROC | tuned AUROC | Δ | default F1 | tuned F1 | search CPU min (wall) | refit CPU min (wall) | default training CPU min (wall) | trials (plan: configs x epochs) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.task} | ${pct(r.defaultAuroc)} | **${pct(r.tunedAuroc)}** | ${r.tunedAuroc >= r.defaultAuroc ? '+' : ''}${pct(r.tunedAuroc - r.defaultAuroc)} | ${pct(r.defaultF1)} | ${pct(r.tunedF1)} | ${r.searchCpu.toFixed(1)} (${r.searchMinutes.toFixed(1)}) | ${r.refitCpu.toFixed(1)} (${r.refitMinutes.toFixed(1)}) | ${r.defaultCpu.toFixed(1)} (${r.defaultMinutes.toFixed(1)}) | ${r.trials} (${r.plan}) |`,
    );
  }
  if (rows.length > 1) {
    const mean = (f: (r: Row) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
    lines.push(
      `| mean | ${pct(mean((r) => r.defaultAuroc))} | **${pct(mean((r) => r.tunedAuroc))}** | ${pct(mean((r) => r.tunedAuroc - r.defaultAuroc))} | ${pct(mean((r) => r.defaultF1))} | ${pct(mean((r) => r.tunedF1))} | ${mean((r) => r.searchCpu).toFixed(1)} (${mean((r) => r.searchMinutes).toFixed(1)}) | ${mean((r) => r.refitCpu).toFixed(1)} (${mean((r) => r.refitMinutes).toFixed(1)}) | ${mean((r) => r.defaultCpu).toFixed(1)} (${mean((r) => r.defaultMinutes).toFixed(1)}) | |`,
    );
  }
  lines.push('', `Chosen configurations (${o.selection} criterion of the winner vs the default's at the largest budget the search gave it):`, '');
  for (const r of rows) {
    lines.push(`- ${r.task}: ${r.best}; threshold ${r.threshold}; criterion ${r.bestCriterion.toFixed(3)} vs default ${r.defaultCriterion === null ? '–' : r.defaultCriterion.toFixed(3)}`);
  }
  lines.push('');
  if (kind === 'fashion-mnist') {
    lines.push(
      'Peers (../shared/BENCHMARKS.md, all ten classes): the reference conv autoencoder in PyTorch 1.13, 20 epochs: 90.1 / 98.8 / 86.5 on classes 0 / 1 / 2 (mean of ten 90.3), about 78 s of training per class on one thread; Deep SVDD 84.8, GEOM 93.5, DN2 94.5, PANDA 95.6 (means of ten).',
    );
  } else {
    lines.push('Peers (../shared/BENCHMARKS.md, image AUROC): OC-SVM 58.7, 1-NN 80.0, GeoTrans 75.5, GANomaly 76.6, DifferNet 97.7, CS-Flow about 99.');
  }
  lines.push(`<!-- /${o.key} -->`);
  return lines.join('\n');
}

/** Replaces (or appends) this data set's section of the results file. */
async function writeSection(file: string, kind: string, text: string): Promise<void> {
  let doc = '';
  try {
    doc = await readFile(file, 'utf8');
  } catch {
    doc = '# Tuning: `vigil tune` against the default configuration\n\nWritten by `npm run bench -- tune <dir>`; each data set has its own section.\n';
  }
  const esc = kind.replace(/[+]/g, '\\+');
  const re = new RegExp(`<!-- ${esc} -->[\\s\\S]*?<!-- /${esc} -->`);
  doc = re.test(doc) ? doc.replace(re, text) : `${doc.trimEnd()}\n\n${text}\n`;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, doc.endsWith('\n') ? doc : doc + '\n');
}

/** Spearman rank correlation (average ranks for ties). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const ranks = (v: readonly number[]) => {
    const order = v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(v.length);
    for (let i = 0; i < order.length; ) {
      let j = i;
      while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
      for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  ra.forEach((x, i) => {
    num += (x - ma) * (rb[i]! - mb);
    da += (x - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  });
  return num / Math.sqrt(da * db || 1);
}

/** The criterion study: brief trainings of `configs` configurations, each criterion against the test AUROC. */
async function study(task: Task, o: { configs: number; epochs: number; trainLimit: number; testLimit: number; seed: number }): Promise<string> {
  const log = (l: string) => process.stderr.write(`[study ${task.name}] ${l}\n`);
  const normal = createRng(o.seed + 1).shuffle([...task.train]).slice(0, o.trainLimit);
  const test = task.test.slice(0, o.testLimit);
  const labels = test.map((s) => s.label!);
  const { train, heldOut } = holdOut('image', normal, { fraction: 0.2, seed: o.seed, max: 200 });
  const kinds = ['defect', 'cutpaste', 'rotate'] as const;
  const made = Object.fromEntries(kinds.map((k) => [k, syntheticAnomalies('image', heldOut, o.seed, { imageKinds: [k] })])) as Record<(typeof kinds)[number], ImageSample[]>;
  const factory = getDetectorFactory('conv-ae');
  const valid = (sett: Record<string, unknown>) => {
    try {
      factory.create({ ...task.defaults, ...sett }).dispose();
      return true;
    } catch {
      return false;
    }
  };
  const configs = drawConfigurations(SEARCH_SPACES['conv-ae']!, o.configs, o.seed, valid);
  const rows: Record<string, number>[] = [];
  for (const [i, sett] of configs.entries()) {
    const det = factory.create({ ...task.defaults, ...sett, epochs: o.epochs, seed: o.seed });
    await det.fit(train);
    const sc = async (x: ImageSample[]) => (await det.score(x)).map((r) => r.score);
    const n = await sc(heldOut);
    const au = (p: number[]) => auroc([...n, ...p], [...n.map(() => 0), ...p.map(() => 1)]);
    const row: Record<string, number> = { config: i, test: auroc(await sc(test), labels) };
    for (const k of kinds) {
      const p = await sc(made[k]);
      row[k] = au(p);
      row[`paired ${k}`] = pairedWinRate(n, p);
    }
    row['defect+rotate (default)'] = (row.defect! + row.rotate!) / 2;
    row['all three'] = (row.defect! + row.cutpaste! + row.rotate!) / 3;
    rows.push(row);
    det.dispose();
    log(`config ${i}: ${JSON.stringify(sett)} test ${row.test!.toFixed(3)} defect ${row.defect!.toFixed(3)} rotate ${row.rotate!.toFixed(3)}`);
  }
  const criteria = ['defect', 'cutpaste', 'rotate', 'defect+rotate (default)', 'all three', 'paired defect', 'paired cutpaste', 'paired rotate'];
  const lines = [
    `### Criterion study: ${task.name}`,
    '',
    `${configs.length} configurations (configuration 0 = the default, then the search space's draws for seed ${o.seed}), each trained ${o.epochs} epochs on ${train.length} images (${heldOut.length} more held out), tested on ${test.length} test images. Unpaired AUROC of held-out normal images vs their altered copies per kind of alteration, and the paired win rate (the altered copy scores above its own original).`,
    '',
    `| criterion | Spearman ρ with test AUROC |`,
    '|---|---|',
    ...criteria.map((c) => `| ${c} | ${spearman(rows.map((r) => r[c]!), rows.map((r) => r.test!)).toFixed(2)} |`),
    '',
    `| config | test AUROC | ${criteria.join(' | ')} |`,
    `|---|---|${criteria.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.config} | ${(100 * r.test!).toFixed(1)} | ${criteria.map((c) => (100 * r[c]!).toFixed(1)).join(' | ')} |`),
    '',
  ];
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      classes: { type: 'string', default: '0,1,2' },
      budget: { type: 'string' },
      'trial-samples': { type: 'string' },
      synthetic: { type: 'string' },
      size: { type: 'string', default: '64' },
      seed: { type: 'string', default: '0' },
      eta: { type: 'string', default: '3' },
      limit: { type: 'string' },
      study: { type: 'boolean', default: false },
      configs: { type: 'string' },
      selection: { type: 'string', default: 'label-free' },
      labelled: { type: 'string', default: '500' },
      work: { type: 'string', default: path.join(os.tmpdir(), 'vigil-bench-tune') },
      out: { type: 'string', default: 'bench/results/tune.md' },
    },
  });
  const dir = positionals[0] ?? DEBIAN_FASHION_MNIST_DIR;
  const kind = existsSync(path.join(dir, MAGNETIC_TILE_NORMAL)) ? 'magnetic-tile' : 'fashion-mnist';
  const seed = Number(values.seed);
  const size = Number(values.size);
  const limit = values.limit ? Number(values.limit) : null;
  const budgetText = values.budget ?? '13';
  const trialSamples = values['trial-samples'] ? Number(values['trial-samples']) : null;
  await initEngine();
  const selection = values.selection as BenchSelection;
  if (!['label-free', 'few-labels', 'labelled'].includes(selection)) throw new Error(`--selection: ${selection} is not label-free, few-labels or labelled`);
  if (selection !== 'label-free' && kind !== 'fashion-mnist') throw new Error('--selection with labels is only set up for Fashion-MNIST (the magnetic tiles have no labelled data outside the test set)');
  const labelled = Number(values.labelled);
  const tasks =
    kind === 'fashion-mnist' ? await fashionTasks(dir, values.classes!.split(',').map(Number), limit, seed, selection, labelled) : [await tileTask(dir, size, limit, seed)];
  if (values.study) {
    const parts: string[] = [];
    for (const task of tasks.slice(0, kind === 'fashion-mnist' ? tasks.length : 1)) {
      parts.push(
        await study(task, {
          configs: Number(values.configs ?? (kind === 'fashion-mnist' ? 10 : 8)),
          epochs: kind === 'fashion-mnist' ? 5 : 4,
          trainLimit: kind === 'fashion-mnist' ? 1200 : 500,
          testLimit: kind === 'fashion-mnist' ? 2000 : Infinity,
          seed,
        }),
      );
    }
    const text = [`<!-- study-${kind} -->`, `Command: \`npm run bench -- tune ${argv.join(' ')}\`  `, '', ...parts, `<!-- /study-${kind} -->`].join('\n');
    await writeSection(values.out!, `study-${kind}`, text);
    process.stdout.write(text + '\n');
    return;
  }
  const rows: Row[] = [];
  for (const task of tasks) rows.push(await runTask(task, { budget: parseBudget(budgetText, '--budget'), trialSamples, seed, work: values.work!, eta: Number(values.eta), synthetic: values.synthetic?.split(',') as ImageAnomalyKind[] | undefined, selection }));
  const synthetic = values.synthetic?.split(',') ?? DEFAULT_IMAGE_ANOMALIES;
  const key = `${kind}-${selection}${selection === 'label-free' ? `-${synthetic.join('+')}` : ''}`;
  const text = section(kind, rows, { command: `npm run bench -- tune ${argv.join(' ')}`.trim(), budget: budgetText, trialSamples, limit, size, synthetic, selection, labelled, key });
  await writeSection(values.out!, key, text);
  process.stdout.write(text + '\n');
}
