import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadNabCorpus } from '../../data/nab.js';
import '../../models/index.js';
import { NAB_DEFAULT_CONFIG, NAB_DEFAULT_SCORER, NAB_PROFILE_NAMES, runNabOnline } from '../../streaming/nab-run.js';
import { collectSetting } from '../options.js';

interface BenchNabOptions {
  detector: string;
  only?: string;
  set?: Record<string, unknown>;
  json?: string;
  quiet?: boolean;
}

/**
 * `vigil bench nab <dir>`: runs a sliding-window detector online over the NAB corpus (learning from
 * each series' probationary period only) and prints NAB's standard / low-FP / low-FN scores and the
 * points scored per second.
 */
export async function runBenchNab(dir: string, o: BenchNabOptions, out: (line: string) => void = (l) => process.stdout.write(l + '\n'), log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<void> {
  const corpus = await loadNabCorpus(dir, { only: o.only ? o.only.split(',') : undefined });
  const run = await runNabOnline(corpus, {
    detector: o.detector,
    config: { ...NAB_DEFAULT_CONFIG, ...(o.set ?? {}) },
    variants: [{ name: 'default', scorer: NAB_DEFAULT_SCORER }],
    log: o.quiet ? undefined : log,
  });
  const r = run.variants[0]!;
  out(`NAB v1.1, ${corpus.length} series, ${o.detector} online (learning from each series' probationary period only)`);
  for (const p of NAB_PROFILE_NAMES) out(`  ${p.padEnd(20)} ${r.scores[p].toFixed(1)}  (threshold ${r.corpus[p].threshold.toPrecision(4)})`);
  out(`  ${r.scoredPoints} points scored at ${(r.scoredPoints / r.scoreSeconds).toFixed(0)} points/s; ${run.trainSeconds.toFixed(0)} s of training for ${corpus.length} series`);
  if (o.json) {
    await mkdir(path.dirname(path.resolve(o.json)), { recursive: true });
    await writeFile(o.json, JSON.stringify({ scores: r.scores, series: r.series, points: run.points, trainSeconds: run.trainSeconds, scoredPoints: r.scoredPoints, scoreSeconds: r.scoreSeconds }, null, 2) + '\n');
  }
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks on public data sets');
  bench
    .command('nab')
    .description('score the Numenta Anomaly Benchmark corpus online: standard, low-FP and low-FN NAB scores, points/s')
    .argument('<dir>', 'NAB corpus root (data/ and labels/combined_windows.json)')
    .option('-d, --detector <kind>', 'sliding-window series detector', 'conv1d-ae')
    .option('--only <names>', 'comma-separated series (or parts of their names) to run')
    .option('--set <key=value>', 'one detector setting (repeatable)', collectSetting)
    .option('--json <file>', 'also write the figures as JSON')
    .option('-q, --quiet', 'no per-series lines')
    .action(async (dir: string, o: BenchNabOptions) => runBenchNab(dir, o));
}
