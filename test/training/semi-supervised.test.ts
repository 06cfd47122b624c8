import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { getDetectorFactory } from '../../src/core/detector.js';
import type { ImageSample } from '../../src/core/types.js';
import { createRng, type Rng } from '../../src/data/random.js';
import { auroc } from '../../src/metrics/index.js';
import '../../src/models/index.js';
import { topFractionErrors, withMirrorImages } from '../../src/training/semi-supervised.js';

const SIZE = 16;

/**
 * Smooth random waves. Normal images have an amplitude in [0.1, 0.2]; the "anomalies" are nearly flat
 * (amplitude 0.02): simpler than normal images, so an autoencoder trained on normal data alone
 * reproduces them at least as well, and reconstruction error cannot flag them.
 */
function field(rng: Rng, amplitude: number, source: string, label: 0 | 1): ImageSample {
  const level = rng.uniform(0.3, 0.7);
  const data = new Float32Array(SIZE * SIZE);
  const fx = rng.uniform(0.5, 2);
  const fy = rng.uniform(0.5, 2);
  const px = rng.uniform(0, 6.28);
  const py = rng.uniform(0, 6.28);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      data[y * SIZE + x] = level + amplitude * Math.sin((fx * 6.28 * x) / SIZE + px) * Math.cos((fy * 6.28 * y) / SIZE + py);
    }
  }
  return { image: { height: SIZE, width: SIZE, channels: 1, data }, source, label };
}

function dataset(seed: number) {
  const rng = createRng(seed);
  const normal = (n: number, p: string) => Array.from({ length: n }, (_, i) => field(rng, rng.uniform(0.1, 0.2), `${p}-${i}`, 0));
  const bright = (n: number, p: string) => Array.from({ length: n }, (_, i) => field(rng, 0.02, `${p}-${i}`, 1));
  return { train: normal(120, 'train'), labelled: bright(6, 'labelled'), test: [...normal(40, 'test-n'), ...bright(40, 'test-a')] };
}

const config = { height: SIZE, width: SIZE, channels: 1, depth: 2, filters: 8, latent: 8, epochs: 25, batchSize: 16, learningRate: 3e-3, seed: 1, validationSplit: 0.1 };

test('labelled anomalies the plain autoencoder reconstructs well are separated once the loss pushes them away', async () => {
  const { train, labelled, test: testSet } = dataset(11);
  const labels = testSet.map((s) => s.label!);

  const plain = getDetectorFactory('conv-ae').create(config);
  await plain.fit(train);
  const aPlain = auroc((await plain.score(testSet)).map((r) => r.score), labels);

  const semi = getDetectorFactory('conv-ae').create({ ...config, anomalyWeight: 1 });
  await semi.fit(train, { anomalies: labelled });
  const aSemi = auroc((await semi.score(testSet)).map((r) => r.score), labels);
  // The labelled examples themselves are reconstructed badly after semi-supervised training.
  const errLabelledPlain = (await plain.score(labelled)).map((r) => r.score);
  const errLabelledSemi = (await semi.score(labelled)).map((r) => r.score);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

  assert.ok(aPlain < 0.75, `unsupervised AUROC ${aPlain.toFixed(3)}: the plain autoencoder should miss these anomalies`);
  assert.ok(aSemi > 0.9, `semi-supervised AUROC ${aSemi.toFixed(3)} should separate them`);
  assert.ok(mean(errLabelledSemi) > 3 * mean(errLabelledPlain), `labelled anomalies' error rose from ${mean(errLabelledPlain)} to ${mean(errLabelledSemi)}`);
  plain.dispose();
  semi.dispose();
});

test('held-out labelled anomalies set a few-label threshold and the model says how many it rests on', async () => {
  const { train, labelled } = dataset(12);
  const det = getDetectorFactory('conv-ae').create({ ...config, epochs: 3 });
  await det.fit(train, { anomalies: labelled.slice(0, 3), validationAnomalies: labelled.slice(3) });
  const pp = det.postprocess.state;
  assert.equal(pp.method, 'few-labels');
  assert.equal(pp.labelsUsed, 3);
  const { labelFree, f1Optimal, weight } = pp.params as Record<string, number>;
  assert.ok(Math.abs(weight! - 3 / 13) < 1e-12);
  assert.ok(Math.abs(pp.threshold! - (weight! * f1Optimal! + (1 - weight!) * labelFree!)) < 1e-9);
  det.dispose();
});

test('with a top-k score the push acts on the top-k pixel errors, and mirrored labels separate the anomalies', async () => {
  const { train, labelled, test: testSet } = dataset(13);
  const labels = testSet.map((s) => s.label!);
  // No early stopping: the push raises the normal validation loss for a while by design.
  const topk = { ...config, aggregate: 'topk', topk: 0.05, patience: 0 };
  const semi = getDetectorFactory('conv-ae').create({ ...topk, anomalyWeight: 1, mirrorAnomalies: true });
  await semi.fit(train, { anomalies: labelled });
  const aSemi = auroc((await semi.score(testSet)).map((r) => r.score), labels);
  assert.ok(aSemi > 0.9, `semi-supervised AUROC ${aSemi.toFixed(3)} with six labelled anomalies (24 views)`);
  semi.dispose();
});

test('topFractionErrors averages each row\'s largest errors and passes gradient to those alone', () => {
  const errors = tf.tensor2d([[1, 5, 3, 2], [9, 0, 4, 4]]);
  const top = topFractionErrors(errors, 0.5);
  assert.deepEqual(Array.from(top.dataSync()), [4, 6.5]);
  const grad = tf.grad((e: tf.Tensor) => tf.sum(topFractionErrors(e as tf.Tensor2D, 0.5)))(errors);
  assert.deepEqual(Array.from(grad.dataSync()), [0, 0.5, 0.5, 0, 0.5, 0, 0.5, 0]);
});

test('withMirrorImages adds the left-right, up-down and 180° views of each labelled image', () => {
  const data = Float32Array.of(1, 2, 3, 4, 5, 6); // 2 rows x 3 columns
  const views = withMirrorImages([{ image: { height: 2, width: 3, channels: 1, data }, source: 'a.png', label: 1, mask: new Uint8Array(6) }]);
  assert.equal(views.length, 4);
  assert.deepEqual(Array.from(views[0]!.image.data), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(views[1]!.image.data), [3, 2, 1, 6, 5, 4]);
  assert.deepEqual(Array.from(views[2]!.image.data), [4, 5, 6, 1, 2, 3]);
  assert.deepEqual(Array.from(views[3]!.image.data), [6, 5, 4, 3, 2, 1]);
  assert.ok(views.every((v) => v.label === 1));
  assert.match(views[1]!.source, /a\.png \(mirrored left-right\)/);
  assert.equal(views[1]!.mask, null);
});
