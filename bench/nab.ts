/**
 * Numenta Anomaly Benchmark v1.1: vigil's conv1d-ae running online over all 58 series, learning only
 * from each series' probationary period (NAB's first min(15%, 750) rows), scored by NAB's own rules
 * (src/metrics/nab.ts: windows, scaled sigmoid, per-profile threshold sweep, normalisation) for the
 * standard, reward-low-FP and reward-low-FN profiles; plus points scored per second.
 *
 * A "windowed Gaussian" baseline (NAB's windowedGaussian detector: the tail probability of each value
 * under the mean and standard deviation of the previous up-to-6400 values, slid 100 at a time) runs
 * through the same scorer as a check of the scoring (NAB publishes 39.6 / 20.9 / 47.4 for it).
 *
 *   node --import tsx bench/nab.ts <nab-dir> [--only name,...] [--set key=value ...] [--variants] [--out bench/results/nab.md]
 *   npm run bench -- nab <nab-dir>
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { VigilError } from '../src/core/errors.js';
import { loadNabCorpus, type NabFile } from '../src/data/nab.js';
import '../src/models/index.js';
import { normalTail } from '../src/streaming/likelihood.js';
import { NAB_DEFAULT_CONFIG, NAB_DEFAULT_SCORER, NAB_PROFILE_NAMES, runNabOnline, scoreNabRows, type NabRunResult } from '../src/streaming/nab-run.js';
import type { OnlineScorerOptions } from '../src/streaming/online-scorer.js';

/** Published NAB v1.1 scores (BENCHMARKS.md): standard / low FP / low FN. */
const PEERS: [string, number, number, number][] = [
  ['ARTime', 74.9, 65.1, 80.4],
  ['Numenta HTM', 70.5, 62.6, 75.2],
  ['CAD OSE', 69.9, 67.0, 73.2],
  ['KNN CAD', 58.0, 43.4, 64.8],
  ['Random Cut Forest', 51.7, 38.4, 59.7],
  ['Twitter ADVec', 47.1, 33.6, 53.5],
  ['Windowed Gaussian', 39.6, 20.9, 47.4],
  ['Random', 11.0, 1.2, 19.5],
];

/** NAB's windowedGaussian detector: score = 1 - Q(|x - μ| / σ) over the previous window. */
export function windowedGaussianScores(values: Float32Array, windowSize = 6400, stepSize = 100): Float64Array {
  const out = new Float64Array(values.length);
  let window: number[] = [];
  let step: number[] = [];
  let mean = 0;
  let std = 1;
  const update = () => {
    mean = window.reduce((a, b) => a + b, 0) / window.length;
    std = Math.sqrt(window.reduce((a, b) => a + (b - mean) ** 2, 0) / window.length);
    if (std === 0) std = 0.000001;
  };
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (window.length > 0) out[i] = 1 - normalTail(Math.abs(x - mean) / std);
    if (window.length < windowSize) {
      window.push(x);
      update();
    } else {
      step.push(x);
      if (step.length === stepSize) {
        window = window.slice(stepSize).concat(step);
        step = [];
        update();
      }
    }
  }
  return out;
}

function parseSets(list: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new VigilError('E_CONFIG', `--set: "${item}" is not key=value`);
    const raw = item.slice(eq + 1);
    try {
      out[item.slice(0, eq)] = JSON.parse(raw);
    } catch {
      out[item.slice(0, eq)] = raw;
    }
  }
  return out;
}

const f1 = (v: number) => v.toFixed(1);

interface Variant {
  name: string;
  scorer: Omit<OnlineScorerOptions, 'probation'>;
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      only: { type: 'string' },
      set: { type: 'string', multiple: true },
      scorer: { type: 'string' },
      variants: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results/nab.md' },
    },
  });
  const dir = positionals[0];
  if (!dir) throw new VigilError('E_CONFIG', 'usage: bench/nab.ts <nab-dir> [--only a,b] [--set key=value ...] [--scorer JSON] [--variants] [--out file]');
  const corpus: NabFile[] = await loadNabCorpus(dir, { only: values.only ? values.only.split(',') : undefined });
  const log = (l: string) => process.stderr.write(l + '\n');

  const baseline = scoreNabRows(corpus, corpus.map((f) => windowedGaussianScores(f.series.values)));
  log(`windowed gaussian: ${NAB_PROFILE_NAMES.map((p) => f1(baseline.scores[p])).join(' / ')}`);

  const config = { ...NAB_DEFAULT_CONFIG, ...parseSets(values.set) };
  const main: Variant = { name: 'conv1d-ae, likelihood + range rule + cooldown (default)', scorer: { ...NAB_DEFAULT_SCORER, ...(values.scorer ? (JSON.parse(values.scorer) as object) : {}) } };
  const variants: Variant[] = [main];
  if (values.variants) {
    variants.push({ name: 'conv1d-ae, likelihood + cooldown, no range rule', scorer: { ...main.scorer, rangeTolerance: null } });
    variants.push({ name: 'conv1d-ae, likelihood only (no range rule, no cooldown)', scorer: { ...main.scorer, rangeTolerance: null, cooldown: 0 } });
  }
  const results: { v: Variant; r: NabRunResult }[] = [];
  for (const v of variants) {
    log(`running ${v.name}`);
    const r = await runNabOnline(corpus, { detector: 'conv1d-ae', config, scorer: v.scorer, log });
    log(`${v.name}: ${NAB_PROFILE_NAMES.map((p) => f1(r.scores[p])).join(' / ')}; ${(r.scoredPoints / r.scoreSeconds).toFixed(0)} points/s`);
    results.push({ v, r });
  }

  const cmd = `node --import tsx bench/nab.ts ${dir}${values.only ? ` --only ${values.only}` : ''}${(values.set ?? []).map((s) => ` --set ${s}`).join('')}${values.scorer ? ` --scorer '${values.scorer}'` : ''}${values.variants ? ' --variants' : ''}`;
  const first = results[0]!.r;
  const md = [
    '# NAB v1.1: online conv1d-ae',
    '',
    `Command: \`${cmd}\``,
    '',
    `Corpus: ${corpus.length} series, ${first.points} rows, ${corpus.reduce((a, f) => a + f.windows.length, 0)} anomaly windows. Machine: ${os.cpus().length} CPU cores shared with other jobs, TF.js wasm backend.`,
    '',
    'Protocol: each series is pushed point by point through `OnlineScorer` (src/streaming/online-scorer.ts). The conv1d-ae learns only from the',
    "series' probationary period (NAB's first min(15%, 750) rows; the model is never updated afterwards). Per point, the score is the",
    "reconstruction error of the newest point of the latest window; it is normalised online by HTM's anomaly likelihood (on NAB's log",
    'scale); optionally a value outside the range seen so far counts as anomalous (HTM\'s "spatial" rule, 5% tolerance); after an alarm',
    '(normalised score >= 0.5) the next `cooldown` points are reported as 0. NAB\'s scorer (src/metrics/nab.ts) then sweeps the',
    'threshold per profile over the pooled corpus and normalises between the null and the perfect detector.',
    '',
    `conv1d-ae settings: ${JSON.stringify(config)}. Scorer: ${JSON.stringify(main.scorer)}.`,
    '',
    '| detector | standard | low FP | low FN | source |',
    '|---|---:|---:|---:|---|',
    ...results.map(({ v, r }) => `| **vigil ${v.name}** | **${f1(r.scores.standard)}** | **${f1(r.scores.reward_low_FP_rate)}** | **${f1(r.scores.reward_low_FN_rate)}** | this run |`),
    `| Windowed Gaussian (this run, same scorer) | ${f1(baseline.scores.standard)} | ${f1(baseline.scores.reward_low_FP_rate)} | ${f1(baseline.scores.reward_low_FN_rate)} | bench/nab.ts, check of the scorer |`,
    ...PEERS.map(([n, s, fp, fn]) => `| ${n} | ${s} | ${fp} | ${fn} | NAB scoreboard (BENCHMARKS.md) |`),
    '',
    '## Speed',
    '',
    '| variant | rows | training (s) | rows scored after probation | scoring points/s (one engine call per point) |',
    '|---|---:|---:|---:|---:|',
    ...results.map(({ v, r }) => `| ${v.name} | ${r.points} | ${r.trainSeconds.toFixed(0)} | ${r.scoredPoints} | ${(r.scoredPoints / r.scoreSeconds).toFixed(0)} |`),
    '',
    '## Per series (default variant, standard profile)',
    '',
    '| series | rows | windows | detected | false positives | raw score | alarms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...first.corpus.standard.perSeries.map((s, i) => `| ${s.name} | ${first.series[i]!.rows} | ${s.windows} | ${s.detectedWindows} | ${s.fp} | ${s.score.toFixed(2)} | ${first.series[i]!.alarms} |`),
  ].join('\n');
  await mkdir(path.dirname(values.out!), { recursive: true });
  await writeFile(values.out!, md + '\n');
  process.stdout.write(md + '\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
