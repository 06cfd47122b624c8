import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VigilError } from '../../src/core/errors.js';
import type { ImageSample } from '../../src/core/types.js';
import { initEngine } from '../../src/engine/backend.js';
import { FeatureExtractor } from '../../src/models/backbone/extract.js';
import { backboneBatch, reflectPad } from '../../src/models/backbone/input.js';
import { loadBackbone } from '../../src/models/backbone/loader.js';
import { defaultBackboneDir, resolveBackboneSource } from '../../src/models/backbone/source.js';
import { createTapModel } from '../../src/models/backbone/taps.js';
import { TINY_MOBILENET_TAPS, TINY_TAPS, writeTinyBackbone, writeTinyMobileNet } from './tiny-backbone.js';

const MOBILENET = defaultBackboneDir();
const HAVE_MOBILENET = existsSync(path.join(MOBILENET, 'model.json'));
const NO_MOBILENET = `the shared MobileNet v1 is not at ${MOBILENET}`;

function isVigil(code: string, pattern: RegExp) {
  return (e: unknown) => e instanceof VigilError && e.code === code && pattern.test(e.message);
}

function greySample(h: number, w: number, value: (i: number) => number, source = 'grey'): ImageSample {
  return { image: { height: h, width: w, channels: 1, data: Float32Array.from({ length: h * w }, (_, i) => value(i)) }, source };
}

test('MobileNet v1 taps load at the documented shapes', { skip: HAVE_MOBILENET ? false : NO_MOBILENET }, async () => {
  const backbone = await loadBackbone(MOBILENET);
  try {
    assert.deepEqual(backbone.input, { height: 224, width: 224, channels: 3 });
    const taps = createTapModel(backbone, ['conv_pw_3_relu', 'conv_pw_5_relu', 'conv_pw_11_relu']);
    const outs = tf.tidy(() => taps.model.predict(backboneBatch([greySample(224, 224, (i) => (i % 7) / 7)], 224, 224, 'tf')) as tf.Tensor[]);
    assert.deepEqual(
      outs.map((o) => o.shape),
      [
        [1, 56, 56, 128],
        [1, 28, 28, 256],
        [1, 14, 14, 512],
      ],
    );
    assert.deepEqual(taps.taps.map((t) => [t.name, t.height, t.width, t.channels]), [
      ['conv_pw_3_relu', 56, 56, 128],
      ['conv_pw_5_relu', 28, 28, 256],
      ['conv_pw_11_relu', 14, 14, 512],
    ]);
    tf.dispose(outs);
  } finally {
    backbone.model.dispose();
  }
});

test('MobileNet v1 runs at another input size (fully convolutional)', { skip: HAVE_MOBILENET ? false : NO_MOBILENET }, async () => {
  const ex = await FeatureExtractor.open({ backbone: MOBILENET, taps: ['conv_pw_5_relu'], height: 160, width: 96, scaling: 'tf', standardise: false, padding: 0, batchSize: 2 });
  try {
    assert.deepEqual(ex.taps[0], { name: 'conv_pw_5_relu', height: 20, width: 12, channels: 256 });
  } finally {
    ex.dispose();
  }
});

test('an unknown tap is E_BACKBONE listing valid layer names', { skip: HAVE_MOBILENET ? false : NO_MOBILENET }, async () => {
  await assert.rejects(
    FeatureExtractor.open({ backbone: MOBILENET, taps: ['conv_pw_55_relu'], height: 224, width: 224, scaling: 'tf', standardise: false, padding: 0, batchSize: 1 }),
    isVigil('E_BACKBONE', /no layer named "conv_pw_55_relu".*conv_pw_5_relu/),
  );
});

test('an input too small for the backbone is E_SHAPE naming the minimum size', { skip: HAVE_MOBILENET ? false : NO_MOBILENET }, async () => {
  await assert.rejects(
    FeatureExtractor.open({ backbone: MOBILENET, taps: ['conv_pw_11_relu'], height: 16, width: 16, scaling: 'tf', standardise: false, padding: 0, batchSize: 1 }),
    isVigil('E_SHAPE', /16x16 is too small.*conv_pw_11_relu.*at least 32x32/),
  );
});

test('reflect padding: taps keep the unpadded grid; a padding that is not whole cells is E_CONFIG', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-backbone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tiny = await writeTinyBackbone(path.join(dir, 'tiny'), 32);
  const settings = { backbone: tiny, taps: [...TINY_TAPS], height: 32, width: 32, scaling: 'tf' as const, standardise: true, batchSize: 1 };
  const ex = await FeatureExtractor.open({ ...settings, padding: 8 });
  try {
    assert.deepEqual(ex.taps.map((x) => [x.height, x.width]), [[16, 16], [8, 8]]);
    const shapes: number[] = [];
    await ex.forEachBatch([greySample(32, 32, (i) => (i % 32) / 32)], (taps) => tf.concat([tf.reshape(taps[0]!, [-1]), tf.reshape(taps[1]!, [-1])]), (v) => void shapes.push(v.length));
    assert.deepEqual(shapes, [16 * 16 * 8 + 8 * 8 * 16]);
  } finally {
    ex.dispose();
  }
  await assert.rejects(FeatureExtractor.open({ ...settings, padding: 6 }), isVigil('E_CONFIG', /padding: 6 px is not a whole number of cells of tap "tap_b" \(stride 4 px\)/));
});

test('tiny layers model: loads from a folder, taps and batched extraction with progress', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-backbone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeTinyBackbone(path.join(dir, 'tiny'), 32);
  const ex = await FeatureExtractor.open({ backbone: path.join(dir, 'tiny'), taps: [...TINY_TAPS], height: 32, width: 32, scaling: 'tf', standardise: false, padding: 0, batchSize: 2 });
  try {
    assert.deepEqual(
      ex.taps.map((x) => [x.name, x.height, x.width, x.channels]),
      [
        ['tap_a', 16, 16, 8],
        ['tap_b', 8, 8, 16],
      ],
    );
    const samples = [0.1, 0.5, 0.9].map((v, i) => greySample(32, 32, () => v, `s${i}`));
    const seen: [number, number, number][] = [];
    const progress: number[] = [];
    const before = tf.memory().numTensors;
    await ex.forEachBatch(
      samples,
      (taps) => tf.mean(taps[1]!, [1, 2]),
      (values, offset, count) => void seen.push([offset, count, values.length]),
      { progress: { start: (n) => progress.push(-n), update: (d) => progress.push(d), stop: () => progress.push(0) } },
    );
    assert.deepEqual(seen, [
      [0, 2, 32],
      [2, 1, 16],
    ]);
    assert.deepEqual(progress, [-3, 2, 3, 0]);
    assert.equal(tf.memory().numTensors, before, 'no tensors leak from a batch');
  } finally {
    ex.dispose();
  }
});

test('a folder missing a weight shard is E_BACKBONE naming the file', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-backbone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tiny = await writeTinyBackbone(path.join(dir, 'tiny'), 32);
  await rm(path.join(tiny, 'group1-shard1of1.bin'));
  await assert.rejects(loadBackbone(tiny), isVigil('E_BACKBONE', /weight shard is missing: .*group1-shard1of1\.bin/));
});

test('MobileNet folder with one shard removed is E_BACKBONE naming that shard', { skip: HAVE_MOBILENET ? false : NO_MOBILENET }, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-backbone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const name of await readdir(MOBILENET)) {
    if (name !== 'group7-shard1of1') await symlink(path.join(MOBILENET, name), path.join(dir, name));
  }
  await assert.rejects(loadBackbone(dir), isVigil('E_BACKBONE', /missing: .*group7-shard1of1/));
});

test('missing folders, graph models and truncated shards are E_BACKBONE errors', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-backbone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const missing = path.join(dir, 'nowhere');
  await assert.rejects(loadBackbone(missing), isVigil('E_BACKBONE', new RegExp(`${missing}: no such folder`)));

  const graph = path.join(dir, 'graph');
  await writeTinyBackbone(graph, 32);
  await writeFile(path.join(graph, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
  await assert.rejects(loadBackbone(graph), isVigil('E_BACKBONE', /graph model.*layers format/));

  const cut = path.join(dir, 'cut');
  await writeTinyBackbone(cut, 32);
  const shard = path.join(cut, 'group1-shard1of1.bin');
  await writeFile(shard, (await readFile(shard)).subarray(0, 100));
  await assert.rejects(loadBackbone(cut), isVigil('E_BACKBONE', /hold 100 bytes/));
});

test('backboneBatch: grey repeated to RGB and scaled to [-1, 1]; wrong size is E_SHAPE', async () => {
  await initEngine();
  const s = greySample(2, 2, (i) => [0, 0.25, 0.5, 1][i]!);
  const x = backboneBatch([s], 2, 2, 'tf');
  assert.deepEqual(x.shape, [1, 2, 2, 3]);
  assert.deepEqual(Array.from(x.dataSync()), [-1, -1, -1, -0.5, -0.5, -0.5, 0, 0, 0, 1, 1, 1]);
  x.dispose();
  const net = backboneBatch([{ image: { height: 1, width: 1, channels: 3, data: Float32Array.of(0.485, 0.456, 0.406) }, source: 'rgb' }], 1, 1, 'imagenet');
  for (const v of net.dataSync()) assert.ok(Math.abs(v) < 1e-6);
  net.dispose();
  assert.throws(() => backboneBatch([greySample(3, 2, () => 0, 'small.png')], 2, 2, 'tf'), isVigil('E_SHAPE', /small\.png: image is 3x2x1/));
});

test('resolveBackboneSource: default, absolute paths, URLs unchanged', () => {
  assert.equal(resolveBackboneSource(undefined), MOBILENET);
  assert.equal(resolveBackboneSource('rel/dir'), path.resolve('rel/dir'));
  assert.equal(resolveBackboneSource('https://example.org/m/model.json'), 'https://example.org/m/model.json');
});

/**
 * Every tap value of `samples` from an extractor opened with `inference`, flattened in batch order,
 * and where its taps ran.
 */
async function tapValues(settings: Parameters<typeof FeatureExtractor.open>[0], inference: Parameters<typeof FeatureExtractor.open>[1], samples: ImageSample[]) {
  const ex = await FeatureExtractor.open(settings, inference);
  try {
    const parts: Float32Array[] = [];
    await ex.forEachBatch(samples, (taps) => tf.concat(taps.map((t) => tf.reshape(t, [t.shape[0], -1])), 1), (v) => void parts.push(v.slice()));
    const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((o, p) => (all.set(p, o), o + p.length), 0);
    return { values: all, engine: ex.engineReport.engine };
  } finally {
    ex.dispose();
  }
}

/** max |a - b| / max |a|. */
function relError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    ref = Math.max(ref, Math.abs(a[i]!));
  }
  assert.ok(ref > 0, 'the taps are not all zero');
  return diff / ref;
}

function textureSamples(n: number, h: number, w: number): ImageSample[] {
  return Array.from({ length: n }, (_, k) => greySample(h, w, (i) => 0.5 + 0.4 * Math.sin((i % w) * (0.3 + 0.1 * k)) * Math.cos(Math.floor(i / w) * 0.17), `tex${k}`));
}

test('tiny MobileNet-like backbone (zero padding, depthwise conv, batch norm, ReLU6): ONNX Runtime taps match TF.js within 1e-5', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-backbone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tiny = await writeTinyMobileNet(path.join(dir, 'tiny-mobilenet'), 32);
  const settings = { backbone: tiny, taps: [...TINY_MOBILENET_TAPS], height: 32, width: 24, scaling: 'tf' as const, standardise: true, padding: 4, batchSize: 2 };
  const samples = textureSamples(3, 32, 24);
  const ref = await tapValues(settings, { backend: 'tfjs' }, samples);
  const ort = await tapValues(settings, { intraOpThreads: 1 }, samples);
  assert.match(ref.engine, /^tfjs/);
  assert.match(ort.engine, /^onnxruntime/, 'the taps run on ONNX Runtime by default');
  assert.equal(ort.values.length, 3 * (16 * 12 * 16 + 8 * 6 * 24));
  assert.ok(relError(ref.values, ort.values) <= 1e-5);
});

test('MobileNet v1: ONNX Runtime taps match TF.js within 1e-5 (PatchCore and PaDiM taps, reflect padding)', { skip: HAVE_MOBILENET ? false : NO_MOBILENET }, async () => {
  const settings = { backbone: MOBILENET, taps: ['conv_pw_3_relu', 'conv_pw_5_relu', 'conv_pw_11_relu'], height: 96, width: 128, scaling: 'tf' as const, standardise: false, padding: 16, batchSize: 2 };
  const samples = textureSamples(2, 96, 128);
  const ref = await tapValues(settings, { backend: 'tfjs' }, samples);
  const ort = await tapValues(settings, { intraOpThreads: 1 }, samples);
  assert.match(ort.engine, /^onnxruntime/);
  assert.ok(relError(ref.values, ort.values) <= 1e-5);
});

test('reflectPad matches tf.mirrorPad reflect', async () => {
  await initEngine();
  const data = Float32Array.from({ length: 2 * 4 * 5 * 3 }, (_, i) => i * 0.5 - 7);
  const want = tf.tidy(() => tf.mirrorPad(tf.tensor4d(data, [2, 4, 5, 3]), [[0, 0], [2, 2], [2, 2], [0, 0]], 'reflect').dataSync());
  assert.deepEqual(Array.from(reflectPad(data, 2, 4, 5, 3, 2)), Array.from(want));
});
