import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runEvaluate } from '../../src/cli/commands/evaluate.js';
import { runTrain } from '../../src/cli/commands/train.js';
import { loadDetector, type Detector } from '../../src/core/detector.js';
import { VigilError } from '../../src/core/errors.js';
import { readManifest } from '../../src/core/model-store.js';
import type { Image, ImageSample } from '../../src/core/types.js';
import { createRng } from '../../src/data/random.js';
import { generateTextureDataset, plantDefect, renderTexture, textureStyle, type DefectKind } from '../../src/data/synthetic.js';
import '../../src/models/index.js';
import { featureAeFactory } from '../../src/models/feature-ae/detector.js';
import { topPositionWeights } from '../../src/training/semi-supervised.js';
import { TINY_TAPS, writeTinyBackbone } from './tiny-backbone.js';

const SIZE = 64;

interface Data {
  train: ImageSample[];
  clean: ImageSample[];
  defects: (ImageSample & { mask: Uint8Array })[];
}

function textures(seed: number, defects: number, kind: DefectKind = 'spot'): Data {
  const rng = createRng(seed);
  const style = textureStyle('weave', rng);
  const img = (): Image => renderTexture(style, SIZE, rng);
  const train = Array.from({ length: 32 }, (_, i) => ({ image: img(), source: `train-${i}` }));
  const clean = Array.from({ length: 4 }, (_, i) => ({ image: img(), source: `clean-${i}` }));
  const planted = Array.from({ length: defects }, (_, i) => {
    const p = plantDefect(img(), rng, kind);
    return { image: p.image, source: `defect-${i}`, mask: p.mask };
  });
  return { train, clean, defects: planted };
}

function argmax(v: Float32Array): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

/** Small, fast settings on the tiny backbone: 16x16 grid of its 24 channels. */
function config(backbone: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { backbone, taps: [...TINY_TAPS], height: SIZE, width: SIZE, channels: 1, gridStride: 4, padding: 0, dims: 0, hidden: 16, bottleneck: 4, epochs: 40, trainBatchSize: 8, learningRate: 0.005, blurSigma: 2, seed: 3, ...extra };
}

test('topPositionWeights puts 1/k on each sample\'s k largest errors', () => {
  const w = topPositionWeights(Float32Array.of(1, 5, 3, 2, 9, 0, 4, 4), 4, 0.5);
  assert.deepEqual(Array.from(w), [0, 0.5, 0.5, 0, 0.5, 0, 0.5, 0]);
});

test('feature-ae on a tiny backbone: localises a planted defect, scores it above normal, save/load gives the same scores', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-feature-ae-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backbone = await writeTinyBackbone(path.join(dir, 'tiny'), SIZE);
  const data = textures(5, 1);
  // 30% held out: enough images (>= 8) for the per-position statistics, so they are saved too.
  const det = featureAeFactory.create(config(backbone, { validationSplit: 0.3 }));
  let loaded: Detector<unknown> | null = null;
  try {
    await assert.rejects(det.score(data.clean), (e: unknown) => e instanceof VigilError && e.code === 'E_NOT_FITTED');
    const report = await det.fit(data.train);
    assert.ok(report.history.length >= 1 && report.epochs === report.history.length, 'the training loop reports its epochs');
    assert.ok(report.history[0]!.valLoss !== null, 'early stopping watches a validation loss');
    assert.ok(det.postprocess.threshold !== null, 'a label-free threshold is fitted');
    const tensors = tf.memory().numTensors;
    const clean = await det.score(data.clean);
    const defects = await det.score(data.defects);
    assert.equal(tf.memory().numTensors, tensors, 'scoring leaks no tensors');
    const worstClean = Math.max(...clean.map((r) => r.score));
    defects.forEach((r, i) => {
      assert.ok(r.score > worstClean, `defect ${i}: ${r.score} vs clean up to ${worstClean}`);
      assert.equal(r.map!.height, SIZE);
      assert.equal(data.defects[i]!.mask[argmax(r.map!.values)], 1, `defect ${i}: the map peaks inside the defect mask`);
    });
    assert.match(defects[0]!.reason!.summary, /feature reconstruction error/);

    const modelDir = path.join(dir, 'model');
    await det.save(modelDir);
    const files = await readdir(modelDir);
    // net.onnx: the network is scored on ONNX Runtime (exported and checked against TF.js after training).
    for (const f of ['manifest.json', 'feature-ae.bin', 'net.onnx', 'feature-mean.f32', 'feature-std.f32', 'position-mean.f32', 'position-std.f32']) assert.ok(files.includes(f), `${f} is saved`);
    const manifest = await readManifest(modelDir);
    assert.equal(manifest.kind, 'feature-ae');
    assert.equal(manifest.files['feature-mean.f32']!.bytes, 24 * 4, 'statistics of the 24 tap channels');
    assert.deepEqual((manifest.state as { grid: unknown }).grid, { height: 16, width: 16 });
    assert.ok((manifest.state as { positionImages: number }).positionImages >= 8);
    loaded = await loadDetector(modelDir);
    const again = await loaded.score([...data.clean, ...data.defects]);
    [...clean, ...defects].forEach((r, i) => {
      assert.equal(again[i]!.score, r.score);
      assert.deepEqual(again[i]!.map!.values, r.map!.values);
    });
    assert.equal(loaded.postprocess.threshold, det.postprocess.threshold);
  } finally {
    det.dispose();
    loaded?.dispose();
  }
});

test('feature-ae: labelled anomalies raise their training error (the loss pushes them away)', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-feature-ae-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backbone = await writeTinyBackbone(path.join(dir, 'tiny'), SIZE);
  const data = textures(11, 4);
  // Fixed epochs, no early stopping: both runs see the same normal batches.
  const cfg = config(backbone, { patience: 0, epochs: 30, anomalyWeight: 1 });
  const plain = featureAeFactory.create(cfg);
  const pushed = featureAeFactory.create(cfg);
  try {
    await plain.fit(data.train);
    await pushed.fit(data.train, { anomalies: data.defects });
    // Anomaly scores relative to the normal images' (the two models' error scales may differ).
    const relative = async (d: Detector<ImageSample>) => {
      const normal = (await d.score(data.clean)).map((r) => r.score);
      const mean = normal.reduce((a, b) => a + b, 0) / normal.length;
      return (await d.score(data.defects)).map((r) => r.score / mean);
    };
    const before = await relative(plain as Detector<ImageSample>);
    const after = await relative(pushed as Detector<ImageSample>);
    // The ones the plain model reconstructs nearly as well as normal images are pushed well up; the
    // term vanishes for those already far above normal (the push is bounded by design).
    const hard = before.flatMap((b, i) => (b < 2 ? [i] : []));
    assert.ok(hard.length >= 1, `the generated defects should include some the plain model misses: ${before.map((b) => b.toFixed(2)).join(', ')}`);
    for (const i of hard) assert.ok(after[i]! > 2 * before[i]!, `anomaly ${i}: ${after[i]!.toFixed(3)} x normal with the push term vs ${before[i]!.toFixed(3)} x without`);
    after.forEach((a, i) => assert.ok(a > 0.8 * before[i]!, `anomaly ${i} fell: ${a.toFixed(3)} x normal vs ${before[i]!.toFixed(3)} x`));
  } finally {
    plain.dispose();
    pushed.dispose();
  }
});

test('feature-ae: bad configs are E_CONFIG naming the key', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-feature-ae-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backbone = await writeTinyBackbone(path.join(dir, 'tiny'), SIZE);
  const isConfig = (re: RegExp) => (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG' && re.test(e.message);
  assert.throws(() => featureAeFactory.create(config(backbone, { dims: 8, bottleneck: 8 })), isConfig(/config\.bottleneck: 8 must be smaller than the 8 feature channels/));
  assert.throws(() => featureAeFactory.create(config(backbone, { kernelSize: 5 })), isConfig(/kernelSize/));
  assert.throws(() => featureAeFactory.create(config(backbone, { hiden: 5 })), isConfig(/hiden/));
  assert.throws(() => featureAeFactory.create(config(backbone, { anomalyTopk: 0 })), isConfig(/anomalyTopk/));
  // Known only once the backbone is open: more dims than the taps have, or a bottleneck as wide as all of them.
  for (const [extra, re] of [
    [{ dims: 25 }, /config\.dims: 25 exceeds the 24 channels of taps tap_a, tap_b/],
    [{ dims: 0, bottleneck: 24 }, /config\.bottleneck: 24 must be smaller than the 24 feature channels/],
  ] as const) {
    const det = featureAeFactory.create(config(backbone, extra));
    try {
      await assert.rejects(det.fit(textures(1, 0).train.slice(0, 4)), isConfig(re));
    } finally {
      det.dispose();
    }
  }
});

test('feature-ae through the CLI: vigil train --detector feature-ae --backbone, then evaluate', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-feature-ae-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backbone = await writeTinyBackbone(path.join(dir, 'tiny'), SIZE);
  const data = path.join(dir, 'data');
  await generateTextureDataset(data, { count: 48, size: SIZE, seed: 4, defects: ['spot'], testFraction: 0.25 });
  const modelDir = path.join(dir, 'model');
  const lines: string[] = [];
  const cfg = config(backbone);
  const set = Object.fromEntries(Object.entries(cfg).filter(([k]) => !['backbone', 'height', 'width', 'channels'].includes(k)));
  await runTrain(data, { detector: 'feature-ae', out: modelDir, backbone, size: { height: SIZE, width: SIZE }, channels: 1, set, quiet: true }, (l) => lines.push(l));
  assert.match(lines.join('\n'), /training feature-ae on \d+ normal samples/);
  const evaluation = await runEvaluate(modelDir, data, {}, () => {});
  assert.ok('image' in evaluation, 'an image evaluation');
  const e = evaluation as { image: { auroc: number }; pixel: { auroc: number } | null };
  assert.ok(e.image.auroc > 0.8, `image AUROC ${e.image.auroc}`);
  assert.ok(e.pixel && e.pixel.auroc > 0.8, `pixel AUROC ${e.pixel?.auroc}`);
});
