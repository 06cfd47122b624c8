import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDetector } from '../../src/core/detector.js';
import { detectorWindowEngine, OnlineScorer, type WindowDetector } from '../../src/streaming/index.js';
import { OnlineStreamScorer } from '../../src/monitor/scoring/stream-scorer.js';
import { normalSignal, seriesModelDir } from './helpers.js';

test('batched stream scoring gives exactly what pushing point by point through OnlineScorer gives', async () => {
  const det = (await loadDetector(await seriesModelDir())) as WindowDetector;
  try {
    const T = 400;
    const ts = Float64Array.from({ length: T }, (_, i) => 1e12 + i * 1000);
    const vs = Float32Array.from({ length: T }, (_, i) => normalSignal(i, () => 0.5) + (i >= 300 && i < 310 ? 4 : 0));
    const reference = new OnlineScorer(det);
    const expected = [];
    for (let i = 0; i < T; i++) expected.push(await reference.push(ts[i]!, [vs[i]!]));

    // The detector's own engine (TF.js), counting its calls: one per batch that has full windows.
    let calls = 0;
    let windows = 0;
    const counting = { ...detectorWindowEngine(det), windowErrors: async (w: Float32Array, n: number) => (calls++, (windows += n), det.windowErrors(w, n)) };
    const batched = new OnlineStreamScorer(det, {}, counting);
    const got = [];
    // Uneven batches, including ones smaller than the window and one of a single point.
    for (const [a, b] of [[0, 5], [5, 40], [40, 41], [41, 250], [250, 400]] as const) got.push(...(await batched.pushBatch(ts.slice(a, b), vs.slice(a, b))));
    assert.equal(got.length, T);
    for (let i = 0; i < T; i++) {
      assert.equal(got[i]!.score, expected[i]!.score, `score of point ${i}`);
      assert.equal(got[i]!.normalized, expected[i]!.normalized, `normalized of point ${i}`);
      assert.equal(got[i]!.anomalous, expected[i]!.anomalous, `decision of point ${i}`);
    }
    assert.equal(windows, T - det.window + 1, 'every full window scored once, in the batched engine calls');
    assert.equal(calls, 4, 'one engine call per batch with full windows (window 16: the first batch of 5 points holds none)');
    assert.ok(got.slice(300, 312).some((p) => p.anomalous), 'the spike is flagged');

    // State round trip: a new scorer resumes where the old one stopped.
    const resumed = new OnlineStreamScorer(det);
    assert.equal(resumed.restore(batched.state()), true);
    assert.equal(resumed.lastTimestamp, ts[T - 1]);
    const next = await resumed.pushBatch(Float64Array.of(ts[T - 1]! + 1000), Float32Array.of(normalSignal(T, () => 0.5)));
    assert.notEqual(next[0]!.score, null, 'no warm-up after a restore');
  } finally {
    det.dispose();
  }
});
