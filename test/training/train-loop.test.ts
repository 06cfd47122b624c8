import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../src/engine/backend.js';
import { trainLoop } from '../../src/training/train-loop.js';
import { anomalyPushLoss } from '../../src/training/semi-supervised.js';

test('trainLoop minimises the loss, records history and frees its tensors', async () => {
  await initEngine();
  const w = tf.variable(tf.scalar(5));
  const before = tf.memory().numTensors;
  const r = await trainLoop({
    epochs: 100, batchSize: 4, learningRate: 0.1, patience: 0, seed: 1, trainCount: 8, valCount: 0, variables: [w],
    trainLoss: () => tf.square(tf.sub(w, 2)) as tf.Scalar,
    valLoss: () => tf.scalar(0),
  });
  assert.equal(r.history.length, 100);
  assert.ok(Math.abs(w.dataSync()[0]! - 2) < 0.05, `w converged to ${w.dataSync()[0]}`);
  assert.ok(r.history.at(-1)!.loss < r.history[0]!.loss);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  w.dispose();
});

test('early stopping stops after `patience` epochs without improvement and restores the best weights', async () => {
  await initEngine();
  const w = tf.variable(tf.scalar(0));
  // Training pushes w upwards without bound; validation is best at w = 1, so it gets worse after that.
  const r = await trainLoop({
    epochs: 50, batchSize: 1, learningRate: 0.25, patience: 2, seed: 1, trainCount: 1, valCount: 1, variables: [w],
    trainLoss: () => tf.neg(w) as tf.Scalar,
    valLoss: () => tf.square(tf.sub(w, 1)) as tf.Scalar,
  });
  assert.equal(r.stoppedEarly, true);
  assert.equal(r.epochs, r.bestEpoch + 2);
  const best = r.history[r.bestEpoch - 1]!.valLoss!;
  assert.ok(r.history.every((h) => h.valLoss! >= best));
  assert.ok(Math.abs((w.dataSync()[0]! - 1) ** 2 - best) < 1e-5, 'weights restored to the best epoch');
  w.dispose();
});

test('a diverging loss stops training with a clear error', async () => {
  await initEngine();
  const w = tf.variable(tf.scalar(1));
  await assert.rejects(
    trainLoop({ epochs: 2, batchSize: 1, learningRate: 0.1, patience: 0, seed: 1, trainCount: 1, valCount: 0, variables: [w],
      trainLoss: () => tf.div(w, 0) as tf.Scalar, valLoss: () => tf.scalar(0) }),
    /diverged/,
  );
  w.dispose();
});

test('anomalyPushLoss is large for well-reconstructed anomalies and its gradient pushes their error up', async () => {
  await initEngine();
  const small = anomalyPushLoss(tf.tensor1d([0.01, 0.02])).dataSync()[0]!;
  const large = anomalyPushLoss(tf.tensor1d([3, 4])).dataSync()[0]!;
  assert.ok(small > 3 && large < 0.06, `loss ${small} (small errors) vs ${large} (large errors)`);
  const g = tf.grad((e: tf.Tensor) => anomalyPushLoss(e as tf.Tensor1D))(tf.tensor1d([0.05, 0.5]));
  const gd = g.dataSync();
  assert.ok(gd[0]! < 0 && gd[1]! < 0, 'descending the loss increases every anomaly error');
});
