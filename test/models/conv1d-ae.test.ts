import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getDetectorFactory, loadDetector } from '../../src/core/detector.js';
import { VigilError } from '../../src/core/errors.js';
import type { Series } from '../../src/core/types.js';
import { createRng } from '../../src/data/random.js';
import type { SeriesScoreResult } from '../../src/data/series.js';
import { auroc } from '../../src/metrics/index.js';
import '../../src/models/index.js';
import type { WindowDetector } from '../../src/streaming/index.js';

/** Sines of different periods per channel plus a little noise, (T, C). */
function sines(T: number, C: number, seed: number, source = 'gen'): Series {
  const rng = createRng(seed);
  const values = new Float32Array(T * C);
  for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) values[t * C + c] = Math.sin((2 * Math.PI * t) / (20 + 7 * c)) + 0.05 * rng.normal();
  return { source, columns: Array.from({ length: C }, (_, c) => `ch${c}`), timestamps: Float64Array.from({ length: T }, (_, i) => 1.6e12 + i * 60_000), values, length: T, channels: C };
}

/** Adds a spike (steps 300..304) and a level shift (600..659) to `channel`; returns the labels. */
function inject(s: Series, channel: number): Uint8Array {
  const labels = new Uint8Array(s.length);
  for (let t = 300; t < 305; t++) {
    s.values[t * s.channels + channel] += 3;
    labels[t] = 1;
  }
  for (let t = 600; t < 660; t++) {
    s.values[t * s.channels + channel] += 1.5;
    labels[t] = 1;
  }
  return labels;
}

const SMALL = { window: 16, stride: 2, depth: 2, filters: 8, latent: 8, epochs: 12, seed: 3 };

test('conv1d-ae finds an injected spike and level shift in a univariate sine (step AUROC)', async () => {
  const det = getDetectorFactory('conv1d-ae').create(SMALL) as WindowDetector;
  try {
    await det.fit([sines(1500, 1, 1)]);
    assert.ok(det.postprocess.threshold! > 0);
    const test = sines(900, 1, 2);
    const labels = inject(test, 0);
    const before = tf.memory().numTensors;
    const [r] = (await det.score([test])) as SeriesScoreResult[];
    assert.equal(tf.memory().numTensors, before, 'scoring leaks no tensor');
    assert.equal(r!.map.height, 1);
    assert.equal(r!.map.width, 900);
    const a = auroc(r!.map.values, labels);
    assert.ok(a > 0.9, `step AUROC ${a.toFixed(3)}`);
    assert.ok(r!.peakStep >= 290 && r!.peakStep < 320, `peak at ${r!.peakStep}`);
    assert.deepEqual(det.summary().input.columns, ['ch0']);
  } finally {
    det.dispose();
  }
});

test('multivariate: the injected channel tops the contributions; save/load gives identical scores', async () => {
  const det = getDetectorFactory('conv1d-ae').create(SMALL) as WindowDetector;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-conv1d-'));
  try {
    await det.fit([sines(1500, 3, 4)]);
    const test = sines(900, 3, 5);
    inject(test, 2);
    const [r] = (await det.score([test])) as SeriesScoreResult[];
    assert.equal(r!.reason!.top![0]!.name, 'ch2');
    assert.ok(r!.reason!.top![0]!.contribution > 0.6);
    assert.equal(r!.stepChannels.length, 900 * 3);
    // Per-step contributions inside the level shift also point at ch2.
    const t = 630;
    const row = Array.from(r!.stepChannels.subarray(t * 3, t * 3 + 3));
    assert.equal(row.indexOf(Math.max(...row)), 2);

    await det.save(dir);
    assert.ok(existsSync(path.join(dir, 'encoder.onnx')) && existsSync(path.join(dir, 'decoder.onnx')), 'the networks are saved in ONNX too');
    const loaded = await loadDetector(dir);
    try {
      assert.equal(loaded.kind, 'conv1d-ae');
      assert.match((loaded as WindowDetector).engineDescription!, /onnxruntime/);
      assert.equal(loaded.postprocess.threshold, det.postprocess.threshold);
      const [again] = (await loaded.score([test])) as SeriesScoreResult[];
      assert.deepEqual(Array.from(again!.map.values), Array.from(r!.map.values));
      assert.deepEqual(again!.reason, r!.reason);
      // A series without one of the model's columns is refused, naming it.
      const two: Series = { ...test, columns: ['ch0', 'ch1'], channels: 2, values: test.values.filter((_, i) => i % 3 !== 2) };
      await assert.rejects(loaded.score([two]), (e: VigilError) => e.code === 'E_SHAPE' && /missing column\(s\) "ch2"/.test(e.message));
    } finally {
      loaded.dispose();
    }
  } finally {
    det.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad input: a window longer than the series, NaN values, a bad config', async () => {
  const det = getDetectorFactory('conv1d-ae').create({ ...SMALL, window: 64, epochs: 1 });
  try {
    await assert.rejects(det.fit([sines(40, 1, 1)]), (e: VigilError) => e.code === 'E_SHAPE' && /40 step\(s\), fewer than the model's window of 64/.test(e.message));
    const nan = sines(200, 1, 1);
    nan.values[50] = Number.NaN;
    await assert.rejects(det.fit([nan]), (e: VigilError) => e.code === 'E_VALUE' && /step 50 .*NaN/.test(e.message));
    await assert.rejects(det.score([sines(200, 1, 1)]), (e: VigilError) => e.code === 'E_NOT_FITTED');
  } finally {
    det.dispose();
  }
  assert.throws(() => getDetectorFactory('conv1d-ae').create({ windw: 8 }), (e: VigilError) => e.code === 'E_CONFIG' && /unknown key "windw"/.test(e.message));
  assert.throws(() => getDetectorFactory('conv1d-ae').create({ window: 18, depth: 2 }), (e: VigilError) => e.code === 'E_CONFIG' && /window: 18 must be divisible by 2\^depth = 4/.test(e.message));
});

test('conv1d-vae with a SPOT threshold, and labelled anomalous steps used semi-supervised', async () => {
  const det = getDetectorFactory('conv1d-vae').create({ ...SMALL, epochs: 8, threshold: { method: 'spot', risk: 0.01 } });
  try {
    const train = sines(1500, 1, 6);
    const labels = inject(train, 0);
    train.labels = labels;
    const report = await det.fit([train]);
    assert.equal(det.postprocess.state.method, 'spot');
    assert.ok(Number.isFinite(det.postprocess.threshold!));
    assert.ok(report.trainSamples > 0);
    const test = sines(900, 1, 7);
    const testLabels = inject(test, 0);
    const [r] = await det.score([test]);
    const a = auroc((r as SeriesScoreResult).map.values, testLabels);
    assert.ok(a > 0.85, `VAE step AUROC ${a.toFixed(3)}`);
  } finally {
    det.dispose();
  }
});

test('batch window errors on ONNX Runtime agree with the synchronous TF.js path (AE, and VAE with its KL term)', async () => {
  for (const [kind, extra] of [['conv1d-ae', {}], ['conv1d-vae', { scoreKl: true }]] as const) {
    const det = getDetectorFactory(kind).create({ ...SMALL, epochs: 2, maskLast: 2, center: 'mean', ...extra }) as WindowDetector;
    try {
      await det.fit([sines(600, 2, 8)]);
      assert.match(det.engineDescription!, /onnxruntime/, `${kind} batch path runs on ORT`);
      const s = sines(200, 2, 9);
      const n = 20;
      const windows = new Float32Array(n * 16 * 2);
      for (let i = 0; i < n; i++) windows.set(s.values.subarray(i * 7 * 2, (i * 7 + 16) * 2), i * 16 * 2);
      const sync = det.windowErrors(windows, n);
      const batch = await det.windowErrorsBatch!(windows, n);
      assert.equal(batch.length, sync.length);
      let diff = 0;
      let ref = 0;
      for (let i = 0; i < sync.length; i++) {
        diff = Math.max(diff, Math.abs(sync[i]! - batch[i]!));
        ref = Math.max(ref, Math.abs(sync[i]!));
      }
      assert.ok(ref > 0 && diff / ref < 1e-4, `${kind}: ORT vs TF.js relative difference ${(diff / ref).toExponential(2)}`);
      windows[5] = Number.NaN;
      await assert.rejects(det.windowErrorsBatch!(windows, n), (e: VigilError) => e.code === 'E_VALUE' && /value 5 is NaN/.test(e.message));
    } finally {
      det.dispose();
    }
  }
});
