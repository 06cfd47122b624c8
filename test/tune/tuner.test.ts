import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadDetector } from '../../src/core/detector.js';
import { VigilError } from '../../src/core/errors.js';
import type { ImageSample } from '../../src/core/types.js';
import { generateTextureDataset } from '../../src/data/synthetic.js';
import '../../src/models/index.js';
import '../../src/pipeline/image-input.js';
import { inputAdapter } from '../../src/pipeline/inputs.js';
import { runTrain } from '../../src/cli/commands/train.js';
import { runTune } from '../../src/cli/commands/tune.js';
import { parseJournal, type TrialRecord } from '../../src/tune/journal.js';
import { tune, type TuneOptions } from '../../src/tune/tuner.js';
import { tempDir } from '../data/fixtures.js';

const SIZE = 16;
const input = { height: SIZE, width: SIZE, channels: 1 };
const space = {
  params: {
    depth: { type: 'choice' as const, values: [1, 2] },
    latent: { type: 'choice' as const, values: [8, 16, 32] },
    learningRate: { type: 'float' as const, min: 1e-3, max: 5e-3, log: true },
    aggregate: { type: 'choice' as const, values: ['mean', 'topk'] },
  },
};

async function journalTrials(dir: string): Promise<TrialRecord[]> {
  const entries = parseJournal(await readFile(path.join(dir, 'trials.jsonl'), 'utf8'), 'trials.jsonl');
  return entries.filter((e): e is TrialRecord => e.type === 'trial');
}

test('an interrupted search resumes from its journal and skips the finished trials', async () => {
  const { dir, cleanup } = await tempDir('tune-resume');
  try {
    const data = path.join(dir, 'data');
    await generateTextureDataset(data, { count: 70, size: SIZE, seed: 2 });
    const { normal } = await inputAdapter('image').loadTrain(data, input);
    const out = path.join(dir, 'tuned');
    const options = (signal?: AbortSignal, started: string[] = [], onStart?: (n: number) => void): TuneOptions => ({
      detector: 'conv-ae',
      out,
      dataset: data,
      budget: { trials: 8 },
      base: { height: SIZE, width: SIZE, filters: 4, batchSize: 16 },
      minResource: 1,
      maxResource: 3,
      seed: 5,
      space,
      signal,
      events: {
        trialStart: (t) => {
          started.push(t.id);
          onStart?.(started.length);
        },
      },
    });
    // First run: interrupted while the 4th trial trains (as SIGINT does in the CLI).
    const controller = new AbortController();
    const firstStarted: string[] = [];
    let abortInTraining = false;
    const first = await tune(
      {
        ...options(controller.signal, firstStarted, (n) => (abortInTraining = n === 4)),
        events: {
          ...options(controller.signal, firstStarted, (n) => (abortInTraining = n === 4)).events,
          training: { start() {}, update: () => abortInTraining && controller.abort(), stop() {} },
        },
      },
      { normal: normal as ImageSample[] },
    );
    assert.equal(first.interrupted, true);
    assert.equal(firstStarted.length, 4);
    const afterFirst = await journalTrials(out);
    assert.equal(afterFirst.length, 3, 'the interrupted trial is not recorded');
    assert.deepEqual(afterFirst.map((t) => t.id), firstStarted.slice(0, 3));

    // Second run: the same search picks up where it stopped.
    const secondStarted: string[] = [];
    const second = await tune(options(undefined, secondStarted), { normal: normal as ImageSample[] });
    assert.equal(second.interrupted, false);
    assert.equal(second.resumedTrials, 3);
    assert.equal(second.plan!.trials, 8);
    assert.deepEqual(second.plan!.rungs.map((r) => [r.configs, r.resource]), [
      [6, 1],
      [2, 3],
    ]);
    assert.ok(!secondStarted.some((id) => afterFirst.some((t) => t.id === id)), 'finished trials are not rerun');
    const all = await journalTrials(out);
    // Promotion: rung 1 retrains the two best of rung 0 with 3 epochs; the base configuration (0)
    // also runs with 3 epochs when halving dropped it, so the winner is never rated below it.
    const rung0 = all.filter((t) => t.resource === 1).sort((a, b) => (b.criterion ?? -1) - (a.criterion ?? -1) || a.configIndex - b.configIndex);
    const promoted = rung0.slice(0, 2).map((t) => t.configIndex);
    const finalists = promoted.includes(0) ? promoted : [...promoted, 0];
    const rung1 = all.filter((t) => t.resource === 3);
    assert.deepEqual(rung1.map((t) => t.configIndex).sort(), finalists.sort());
    assert.equal(secondStarted.length, 5 + finalists.length - 2);
    assert.equal(all.length, 8 + finalists.length - 2);
    assert.equal(new Set(all.map((t) => t.id)).size, all.length);
    assert.equal(second.best!.resource, 3);
    const bestCriterion = Math.max(...rung1.map((t) => t.criterion ?? -1));
    assert.equal(second.best!.criterion, bestCriterion, 'the winner is the best finalist, the base configuration included');
    assert.ok(all.every((t) => t.status === 'ok' && t.threshold && t.criterion! >= 0 && t.criterion! <= 1));

    // The same folder with another search is refused, naming what differs.
    await assert.rejects(
      tune({ ...options(), seed: 6 }, { normal: normal as ImageSample[] }),
      (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG' && /seed \(5 there, 6 now\)/.test(e.message) && /--fresh/.test(e.message),
    );
  } finally {
    await cleanup();
  }
});

test('vigil tune saves the best model and a config that vigil train reproduces', async () => {
  const { dir, cleanup } = await tempDir('tune-cli');
  try {
    const data = path.join(dir, 'data');
    await generateTextureDataset(data, { count: 60, size: SIZE, seed: 4 });
    const spaceFile = path.join(dir, 'space.json');
    await writeFile(spaceFile, JSON.stringify(space));
    const out = path.join(dir, 'tuned');
    const lines: string[] = [];
    const result = await runTune(
      data,
      { detector: 'conv-ae', out, budget: { trials: 4 }, size: { height: SIZE, width: SIZE }, set: { filters: 4, batchSize: 16 }, minResource: 1, maxResource: 3, space: spaceFile, seed: 1, quiet: true },
      (l) => lines.push(l),
    );
    assert.ok(lines.some((l) => l.startsWith('reproduce: vigil train')), lines.join('\n'));
    const bestConfig = JSON.parse(await readFile(path.join(out, 'best-config.json'), 'utf8'));
    assert.equal(bestConfig.filters, 4, 'fixed settings are kept');
    assert.equal(bestConfig.epochs, result.best!.resource);
    assert.equal(bestConfig.seed, 1);
    const run = JSON.parse(await readFile(path.join(out, 'best-run.json'), 'utf8'));
    assert.equal(run.command, 'train');
    assert.deepEqual(run.config, bestConfig);
    const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.selection, 'label-free');
    assert.ok(summary.leaderboard.length >= 1);

    // vigil train --config best-config.json gives the same model: same scores on the test split.
    const retrained = path.join(dir, 'retrained');
    await runTrain(data, { detector: 'conv-ae', out: retrained, config: path.join(out, 'best-config.json'), quiet: true }, () => undefined);
    const a = await loadDetector<ImageSample>(path.join(out, 'model'));
    const b = await loadDetector<ImageSample>(retrained);
    try {
      const samples = (await inputAdapter('image').loadTest(data, input)) as ImageSample[];
      const sa = (await a.score(samples)).map((r) => r.score);
      const sb = (await b.score(samples)).map((r) => r.score);
      sa.forEach((v, i) => assert.ok(Math.abs(v - sb[i]!) <= 1e-6 * Math.max(1, Math.abs(v)), `sample ${i}: ${v} vs ${sb[i]}`));
      assert.equal(a.postprocess.threshold, b.postprocess.threshold);
    } finally {
      a.dispose();
      b.dispose();
    }
  } finally {
    await cleanup();
  }
});

test('a time budget: the first trial is timed, the plan is sized to fit, and the search stops near the deadline', async () => {
  const { dir, cleanup } = await tempDir('tune-time');
  try {
    const data = path.join(dir, 'data');
    await generateTextureDataset(data, { count: 50, size: SIZE, seed: 9 });
    const { normal } = await inputAdapter('image').loadTrain(data, input);
    const out = path.join(dir, 'tuned');
    const started: { id: string; total: number }[] = [];
    const result = await tune(
      {
        detector: 'conv-ae',
        out,
        dataset: data,
        budget: { seconds: 6 },
        base: { height: SIZE, width: SIZE, filters: 4, batchSize: 16 },
        minResource: 1,
        maxResource: 3,
        space,
        events: { trialStart: (t) => started.push({ id: t.id, total: t.total }) },
      },
      { normal: normal as ImageSample[] },
    );
    assert.equal(started[0]!.id, 'c0@1', 'the base configuration at the smallest resource is timed first');
    assert.equal(started[0]!.total, 0, 'before it, the plan is unknown');
    const entries = parseJournal(await readFile(path.join(out, 'trials.jsonl'), 'utf8'), 'trials.jsonl');
    const plan = entries.find((e) => e.type === 'plan');
    assert.ok(plan && plan.type === 'plan' && /min budget; first trial/.test(plan.sizing), JSON.stringify(plan));
    assert.ok(result.plan!.trials >= 2);
    assert.equal(new Set(started.map((s) => s.id)).size, started.length, 'the timed trial is not run twice');
    // Trials only start while the estimate says they fit (10% grace); one trial may run past the end.
    const longest = Math.max(...result.trials.map((t) => t.seconds));
    assert.ok(result.searchSeconds <= 6 * 1.1 + longest + 1, `searched ${result.searchSeconds.toFixed(1)} s`);
    assert.ok(result.modelDir);
  } finally {
    await cleanup();
  }
});
