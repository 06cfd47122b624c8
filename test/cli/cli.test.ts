import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generateTextureDataset } from '../../src/data/synthetic.js';

const run = promisify(execFile);
const bin = path.resolve('bin/vigil.js');

async function vigil(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Error output must be one line naming the code and the culprit, never a stack trace. */
function assertOneLineError(r: { code: number; stderr: string }, code: string, mentions: RegExp): void {
  assert.notEqual(r.code, 0);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, new RegExp(`^error\\[${code}\\]`));
  assert.match(lines[0]!, mentions);
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'vigil-cli-'));
const data = path.join(tmp, 'data');
const model = path.join(tmp, 'model');
await generateTextureDataset(data, { count: 48, size: 32, seed: 3 });

test('train, score and evaluate work end to end and keep their output contracts', async () => {
  const t = await vigil('train', data, '--detector', 'conv-ae', '--out', model, '--epochs', '2', '--size', '32', '--seed', '1', '--set', 'depth=2', '--set', 'filters=8', '-q');
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /threshold .* model saved/);

  const maps = path.join(tmp, 'maps');
  const s = await vigil('score', model, path.join(data, 'test'), '--maps', maps, '--boxes');
  assert.equal(s.code, 0, s.stderr);
  const lines = s.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const testFiles = (await readdir(path.join(data, 'test'), { recursive: true })).filter((f) => f.endsWith('.png'));
  assert.equal(lines.length, testFiles.length);
  for (const l of lines) {
    assert.equal(typeof l.file, 'string');
    assert.equal(typeof l.score, 'number');
    assert.equal(typeof l.threshold, 'number');
    assert.equal(l.anomalous, (l.score as number) >= (l.threshold as number));
    assert.ok(Array.isArray(l.boxes));
  }
  assert.equal((await readdir(maps)).filter((f) => f.endsWith('.heatmap.png')).length, lines.length);

  const json = path.join(tmp, 'eval.json');
  const e = await vigil('evaluate', model, data, '--json', json);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /AUROC/);
  const figures = JSON.parse(await readFile(json, 'utf8'));
  for (const k of ['auroc', 'auprc', 'f1', 'precision', 'recall', 'threshold']) assert.equal(typeof figures.image[k], 'number', k);
  assert.equal(typeof figures.pixel.auroc, 'number');
});

test('bad input gets one line naming the file or field, and a non-zero exit', async () => {
  assertOneLineError(await vigil('train', path.join(tmp, 'nope'), '--out', path.join(tmp, 'm2')), 'E_NOT_FOUND', /nope/);
  assertOneLineError(await vigil('train', data, '--out', path.join(tmp, 'm3'), '--set', 'latent=-1'), 'E_CONFIG', /latent/);
  assertOneLineError(await vigil('train', data, '--out', path.join(tmp, 'm3'), '--detector', 'magic'), 'E_CONFIG', /magic/);

  const corrupt = path.join(tmp, 'corrupt.png');
  await writeFile(corrupt, Buffer.from('\x89PNG\r\n\x1a\n this is not really a png'));
  assertOneLineError(await vigil('score', model, corrupt), 'E_DECODE', /corrupt\.png/);

  const empty = path.join(tmp, 'empty');
  await mkdir(empty);
  assertOneLineError(await vigil('score', model, empty), 'E_EMPTY', /empty/);
  assertOneLineError(await vigil('score', path.join(tmp, 'no-model'), corrupt), 'E_NOT_FOUND', /no-model/);

  const weights = path.join(model, 'decoder.bin');
  const bytes = await readFile(weights);
  await writeFile(weights, bytes.subarray(0, bytes.length - 8));
  assertOneLineError(await vigil('score', model, corrupt), 'E_MODEL_CORRUPT', /decoder\.bin/);
  await writeFile(weights, bytes);
});

test('train mixes unlabelled normal data, labelled train/<defect> folders and --anomalies, and the threshold says what it rests on', async () => {
  const mixed = path.join(tmp, 'mixed');
  const info = await generateTextureDataset(mixed, { count: 24, size: 32, seed: 4, trainAnomalies: 4 });
  const extraDefect = Object.keys(info.testAnomalies)[0]!;
  const extra = (await readdir(path.join(mixed, 'test', extraDefect))).length;
  const out = path.join(tmp, 'mixed-model');
  const t = await vigil('train', mixed, '--detector', 'conv-ae', '--out', out, '--epochs', '2', '--size', '32', '--seed', '1', '--set', 'depth=2', '--set', 'filters=8', '--anomalies', path.join(mixed, 'test', extraDefect), '-q');
  assert.equal(t.code, 0, t.stderr);
  const split = /(\d+) labelled anomalies in training, (\d+) held out for the threshold/.exec(t.stderr);
  assert.ok(split, t.stderr);
  const total = 4 + extra;
  assert.equal(Number(split[1]) + Number(split[2]), total);
  assert.equal(Number(split[2]), Math.floor(0.3 * total));
  assert.match(t.stderr, new RegExp(`few-labels, resting on ${Math.floor(0.3 * total)} labelled anomalies`));
  const e = await vigil('evaluate', out, mixed);
  assert.equal(e.code, 0, e.stderr);
});

test('usage errors exit with code 2', async () => {
  const r = await vigil('train', data);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out/);
});
