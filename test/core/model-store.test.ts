import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, readdir, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readModelDir, writeModelDir, type ManifestDraft } from '../../src/core/model-store.js';
import { VigilError } from '../../src/core/errors.js';

const draft: ManifestDraft = {
  kind: 'test-kind',
  inputKind: 'table',
  config: { a: 1 },
  input: {},
  preprocess: {},
  postprocess: { threshold: 0.5 },
  state: {},
  training: null,
};

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'vigil-store-'));
}

function codeOf(e: unknown): string {
  assert.ok(e instanceof VigilError, `expected a VigilError, got ${String(e)}`);
  return e.code;
}

test('round trip keeps manifest fields and file bytes', async () => {
  const dir = path.join(await tmp(), 'model');
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  await writeModelDir(dir, draft, { 'weights.bin': bytes });
  const { manifest, files } = await readModelDir(dir);
  assert.equal(manifest.kind, 'test-kind');
  assert.equal(manifest.formatVersion, 1);
  assert.deepEqual([...files['weights.bin']!], [...bytes]);
});

test('rewriting replaces the old model and leaves no temp folders', async () => {
  const parent = await tmp();
  const dir = path.join(parent, 'model');
  await writeModelDir(dir, draft, { 'a.bin': new Uint8Array([1]) });
  await writeModelDir(dir, { ...draft, kind: 'second' }, { 'b.bin': new Uint8Array([2]) });
  const { manifest, files } = await readModelDir(dir);
  assert.equal(manifest.kind, 'second');
  assert.deepEqual(Object.keys(files), ['b.bin']);
  assert.deepEqual(await readdir(parent), ['model']);
});

test('a truncated weight file is reported as corrupt, naming the file', async () => {
  const dir = path.join(await tmp(), 'model');
  await writeModelDir(dir, draft, { 'weights.bin': new Uint8Array(64) });
  await truncate(path.join(dir, 'weights.bin'), 10);
  await assert.rejects(readModelDir(dir), (e) => codeOf(e) === 'E_MODEL_CORRUPT' && /weights\.bin.*truncated/.test((e as Error).message));
});

test('a flipped byte fails the checksum', async () => {
  const dir = path.join(await tmp(), 'model');
  await writeModelDir(dir, draft, { 'weights.bin': new Uint8Array(16) });
  const file = path.join(dir, 'weights.bin');
  const data = await readFile(file);
  data[3] ^= 0xff;
  await writeFile(file, data);
  await assert.rejects(readModelDir(dir), (e) => codeOf(e) === 'E_MODEL_CORRUPT' && /checksum/.test((e as Error).message));
});

test('a newer format version is incompatible, a missing folder is not found, bad JSON is corrupt', async () => {
  const dir = path.join(await tmp(), 'model');
  await writeModelDir(dir, draft, {});
  const manifestPath = path.join(dir, 'manifest.json');
  const m = JSON.parse(await readFile(manifestPath, 'utf8'));
  await writeFile(manifestPath, JSON.stringify({ ...m, formatVersion: 99 }));
  await assert.rejects(readModelDir(dir), (e) => codeOf(e) === 'E_MODEL_INCOMPATIBLE');
  await writeFile(manifestPath, '{"format": "vigil-model", ');
  await assert.rejects(readModelDir(dir), (e) => codeOf(e) === 'E_MODEL_CORRUPT');
  await assert.rejects(readModelDir(path.join(dir, 'nope')), (e) => codeOf(e) === 'E_NOT_FOUND');
});
