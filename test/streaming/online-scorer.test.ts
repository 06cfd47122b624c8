import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { getDetectorFactory } from '../../src/core/detector.js';
import { VigilError } from '../../src/core/errors.js';
import type { Series } from '../../src/core/types.js';
import { createRng } from '../../src/data/random.js';
import '../../src/models/index.js';
import { AnomalyLikelihood, logLikelihood, normalTail, OnlineScorer, RingBuffer, RollingMax, RollingRank, streamScoresBatch, type WindowDetector } from '../../src/streaming/index.js';

const W = 16;

function signal(T: number, seed: number, C = 1): Series {
  const rng = createRng(seed);
  const values = new Float32Array(T * C);
  for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) values[t * C + c] = Math.sin(t / (4 + c)) + 0.3 * Math.sin(t / 2.3) + 0.05 * rng.normal();
  return { source: 'gen', columns: Array.from({ length: C }, (_, c) => `s${c}`), timestamps: Float64Array.from({ length: T }, (_, i) => i * 1000), values, length: T, channels: C };
}

let shared: WindowDetector | null = null;
/** One small trained conv1d-ae shared by the tests that do not train. */
async function trained(): Promise<WindowDetector> {
  if (shared) return shared;
  const det = getDetectorFactory('conv1d-ae').create({ window: W, filters: 4, latent: 4, epochs: 4, stride: 2, seed: 1 }) as WindowDetector;
  await det.fit([signal(800, 1, 2)]);
  shared = det;
  return det;
}

test('ring buffer and normalisers: fixed storage, oldest-first windows, ranks, likelihood', () => {
  const ring = new RingBuffer(3, 2);
  for (let i = 0; i < 5; i++) ring.push([i, 10 * i]);
  assert.deepEqual(Array.from(ring.latest()), [2, 20, 3, 30, 4, 40]);
  assert.deepEqual(Array.from(ring.latest(2)), [3, 30, 4, 40]);
  assert.equal(ring.allocated, 6);

  const rank = new RollingRank(4);
  [5, 1, 3, 2].forEach((v) => rank.update(v));
  assert.equal(rank.rank(4), 0.75);
  rank.update(10); // drops 5
  assert.deepEqual(rank.values(), [1, 3, 2, 10]);
  assert.equal(rank.rank(4), 0.75);

  const peak = new RollingMax(3);
  assert.equal(peak.update(2), 0.5);
  assert.equal(peak.update(1), 1 / 3);
  assert.equal(peak.update(6), 0.75);
  assert.equal(peak.update(1), 1 / 7);
  assert.equal(peak.update(1), 1 / 7);
  assert.equal(peak.update(1), 1 / 7);
  assert.equal(peak.update(1), 0.5, 'the peak 6 left the window of 3');
  const copy = new RollingMax(3);
  copy.load(JSON.parse(JSON.stringify(peak.toJSON())));
  assert.equal(copy.update(3), peak.update(3));
  assert.equal(peak.allocated, 6);

  assert.ok(Math.abs(normalTail(0) - 0.5) < 1e-7);
  assert.ok(Math.abs(normalTail(1.959964) - 0.025) < 1e-6);
  assert.ok(Math.abs(normalTail(-3) - (1 - 0.0013499)) < 1e-6);
  assert.equal(logLikelihood(0.5) < 0.05, true);
  assert.ok(logLikelihood(1 - 1e-10) > 0.95);
  assert.ok(logLikelihood(1 - 1e-5) > 0.45 && logLikelihood(1 - 1e-5) < 0.55);
  const lik = new AnomalyLikelihood({ shortWindow: 1, longWindow: 500, learningPeriod: 100 });
  const rng = createRng(3);
  let last = 0;
  for (let i = 0; i < 400; i++) last = lik.update(1 + 0.1 * rng.normal());
  assert.ok(last > 0.001 && last < 0.999);
  assert.ok(lik.update(5) > 0.999999, 'a far outlier has a likelihood near 1');
  assert.throws(() => lik.update(Number.NaN), (e: VigilError) => e.code === 'E_VALUE');
});

test('online scores equal batch scores of the same windows, with constant memory over 10,000 points', async () => {
  const det = await trained();
  const stream = signal(10_000, 2, 2);
  // A burst on channel s1 late in the stream.
  for (let t = 9000; t < 9012; t++) stream.values[t * 2 + 1] += 4;
  const batch = streamScoresBatch(det, stream, 2);
  const scorer = new OnlineScorer(det, { tail: 2 });
  const memory0 = scorer.memory();
  const tensors0 = tf.memory().numTensors;
  let maxDiff = 0;
  let flagged = false;
  for (let t = 0; t < stream.length; t++) {
    const p = await scorer.push(stream.timestamps[t]!, stream.values.subarray(t * 2, t * 2 + 2));
    if (t < W - 1) {
      assert.equal(p.score, null);
      continue;
    }
    maxDiff = Math.max(maxDiff, Math.abs(p.score! - batch.rawScores[t]!) / Math.max(1, Math.abs(batch.rawScores[t]!)));
    if (t >= 9000 && t < 9012 && p.anomalous) {
      flagged = true;
      assert.equal(p.contributions[0]!.name, 's1', 'the spiked channel leads the contributions');
    }
    if (t === 5000) assert.deepEqual(scorer.memory(), memory0, 'buffers keep their size');
  }
  // Same windows, same arithmetic; only XNNPACK's batch-size-dependent summation order differs.
  assert.ok(maxDiff < 1e-5, `online and batch scores agree to float precision (max relative difference ${maxDiff})`);
  assert.deepEqual(scorer.memory(), memory0, 'buffers keep their size over 10,000 points');
  assert.equal(tf.memory().numTensors, tensors0, 'no tensor leaks per point');
  assert.ok(flagged, 'the spike raised an alarm');
});

test('bad points never throw mid-stream: NaN, Infinity, wrong length, out-of-order or duplicated timestamps are skipped and flagged', async () => {
  const det = await trained();
  const scorer = new OnlineScorer(det);
  const s = signal(200, 4, 2);
  for (let t = 0; t < 100; t++) await scorer.push(s.timestamps[t]!, s.values.subarray(t * 2, t * 2 + 2));
  const cases: [number, number[], RegExp][] = [
    [200_000, [Number.NaN, 1], /value of "s0" is NaN/],
    [201_000, [1, Infinity], /value of "s1" is Infinity/],
    [202_000, [1], /1 value\(s\), the model takes 2/],
    [99_000, [1, 1], /timestamp 99000 is a duplicate/],
    [50_000, [1, 1], /timestamp 50000 is earlier than the previous point's 99000/],
  ];
  const before = scorer.state();
  for (const [ts, values, why] of cases) {
    const p = await scorer.push(ts, values);
    assert.match(p.skipped!, why);
    assert.equal(p.score, null);
    assert.equal(p.anomalous, false);
  }
  assert.deepEqual(scorer.state().window, before.window, 'skipped points do not enter the window');
  const ok = await scorer.push(100_000, [0.1, 0.2]);
  assert.equal(ok.skipped, undefined);
  assert.equal(typeof ok.score, 'number');
  // With invalid: 'error' the caller gets a typed error instead.
  const strict = new OnlineScorer(det, { invalid: 'error' });
  await assert.rejects(strict.push(0, [Number.NaN, 0]), (e: VigilError) => e.code === 'E_VALUE' && /point 1: value of "s0" is NaN/.test(e.message));
  await assert.rejects(strict.push(1, [0]), (e: VigilError) => e.code === 'E_SHAPE');
});

test('probation: an untrained detector learns from the first points, then scores; state/restore resumes exactly', async () => {
  const det = getDetectorFactory('conv1d-ae').create({ window: W, filters: 4, latent: 4, epochs: 3, columns: ['v'], seed: 2 }) as WindowDetector;
  assert.throws(() => new OnlineScorer(det), (e: VigilError) => e.code === 'E_NOT_FITTED');
  try {
    const scorer = new OnlineScorer(det, { probation: 300, normalise: 'rank', rankWindow: 500, threshold: { method: 'spot', risk: 0.01 } });
    const s = signal(700, 5);
    const points = [];
    for (let t = 0; t < 500; t++) points.push(await scorer.push(s.timestamps[t]!, s.values[t]!));
    assert.equal(points[0]!.phase, 'learning');
    assert.equal(points[298]!.phase, 'learning');
    assert.equal(points[299]!.trained, true);
    assert.equal(det.trained, true);
    assert.equal(points[300]!.phase, 'scoring');
    assert.ok(points.slice(300).every((p) => p.score !== null && p.threshold !== null));
    assert.equal(scorer.memory().probation, 0, 'the probation buffer is released after training');

    const saved = JSON.parse(JSON.stringify(scorer.state()));
    const resumed = new OnlineScorer(det, { probation: 300, normalise: 'rank', rankWindow: 500, threshold: { method: 'spot', risk: 0.01 } });
    resumed.restore(saved);
    for (let t = 500; t < 520; t++) {
      const a = await scorer.push(s.timestamps[t]!, s.values[t]!);
      const b = await resumed.push(s.timestamps[t]!, s.values[t]!);
      assert.equal(b.score, a.score);
      assert.equal(b.normalized, a.normalized);
    }
  } finally {
    det.dispose();
  }
});

test('prime: a trained detector shared by two scorers; the peak normaliser with range rule and cooldown', async () => {
  const det = await trained();
  const s = signal(600, 7, 2);
  for (let t = 450; t < 455; t++) s.values[t * 2] += 6;
  const a = new OnlineScorer(det, { normalise: 'peak', cooldown: 50, rangeTolerance: 0.05 });
  a.prime(s.timestamps.subarray(0, 300), s.values.subarray(0, 600));
  assert.equal(a.phase, 'scoring');
  const alarms: number[] = [];
  const suppressed: number[] = [];
  for (let t = 300; t < 600; t++) {
    const p = await a.push(s.timestamps[t]!, s.values.subarray(t * 2, t * 2 + 2));
    if (p.anomalous) alarms.push(t);
    if (p.suppressed) suppressed.push(t);
    if (t === 450) assert.equal(p.outOfRange, true);
  }
  assert.ok(alarms.includes(450), `alarms at ${alarms.join(', ')}`);
  assert.ok(!alarms.some((t) => t > 450 && t <= 500), 'no new alarm inside the cooldown');
  assert.ok(suppressed.includes(451) && suppressed.includes(500) && !suppressed.includes(501));
  assert.throws(() => a.prime(Float64Array.of(0), Float32Array.of(0, 0)), (e: VigilError) => e.code === 'E_VALUE' && /earlier than/.test(e.message));

  // DSPOT on the raw scores, calibrated on the primed history: a moving threshold in raw units.
  const d = new OnlineScorer(det, { threshold: { method: 'dspot', risk: 1e-3, depth: 10 } });
  d.prime(s.timestamps.subarray(0, 300), s.values.subarray(0, 600));
  const thresholds = new Set<number>();
  let spotAlarm = false;
  for (let t = 300; t < 600; t++) {
    const p = await d.push(s.timestamps[t]!, s.values.subarray(t * 2, t * 2 + 2));
    assert.ok(Number.isFinite(p.threshold!));
    thresholds.add(p.threshold!);
    if (t >= 450 && t < 460 && p.anomalous) spotAlarm = true;
  }
  assert.ok(thresholds.size > 1, 'the DSPOT threshold moves');
  assert.ok(spotAlarm, 'DSPOT flags the spike');
});

test('periodic retraining on recent normal points keeps the stream going', async () => {
  const det = getDetectorFactory('conv1d-ae').create({ window: W, filters: 4, latent: 4, epochs: 2, columns: ['v'], seed: 3 }) as WindowDetector;
  try {
    const scorer = new OnlineScorer(det, { probation: 200, retrain: { every: 150, history: 200 }, cooldown: 20 });
    const s = signal(520, 6);
    let retrains = 0;
    for (let t = 0; t < s.length; t++) {
      const p = await scorer.push(s.timestamps[t]!, s.values[t]!);
      if (p.trained) retrains++;
    }
    assert.equal(retrains, 3, 'trained after probation, retrained twice');
    assert.equal(scorer.memory().history, 200 * 2);
  } finally {
    det.dispose();
  }
});

test('teardown', () => {
  shared?.dispose();
});
