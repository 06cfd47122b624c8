import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import type { Series } from '../../src/core/types.js';
import {
  channelContributions,
  checkSeries,
  checkWindowFits,
  extractWindows,
  fitChannelStats,
  selectColumns,
  standardiseInPlace,
  stepErrorsFromWindows,
  windowLabels,
  windowStarts,
} from '../../src/data/series.js';

function make(values: number[], channels: number, columns = Array.from({ length: channels }, (_, c) => `c${c}`)): Series {
  const T = values.length / channels;
  return { source: 'mem', columns, timestamps: Float64Array.from({ length: T }, (_, i) => i * 1000), values: Float32Array.from(values), length: T, channels };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof VigilError, String(e));
    return e.code;
  }
  return 'none';
}

test('window starts cover every step, the last window ends at the last step', () => {
  assert.deepEqual(windowStarts(10, 4, 3), [0, 3, 6]);
  assert.deepEqual(windowStarts(11, 4, 3), [0, 3, 6, 7]);
  assert.deepEqual(windowStarts(4, 4, 1), [0]);
  assert.deepEqual(windowStarts(3, 4, 1), []);
  assert.equal(code(() => windowStarts(10, 0, 1)), 'E_CONFIG');
  assert.equal(code(() => windowStarts(10, 4, 0)), 'E_CONFIG');
});

test('a window longer than the series is a clear error', () => {
  const s = make([1, 2, 3], 1);
  assert.throws(() => checkWindowFits(s, 8), (e: VigilError) => e.code === 'E_SHAPE' && /mem: the series has 3 step\(s\), fewer than the model's window of 8/.test(e.message));
  checkWindowFits(s, 3);
});

test('windows are (N, W, C) copies; per-step errors average the covering windows', () => {
  const s = make([0, 10, 1, 11, 2, 12, 3, 13, 4, 14], 2);
  const w = extractWindows(s.values, 2, [0, 2], 3);
  assert.deepEqual(Array.from(w), [0, 10, 1, 11, 2, 12, 2, 12, 3, 13, 4, 14]);
  // Window errors: window 0 all 1, window 1 all 3 → step 2 is covered by both (mean 2).
  const errors = Float32Array.from([1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3]);
  const steps = stepErrorsFromWindows(errors, [0, 2], 3, 2, 5);
  assert.deepEqual(Array.from(steps), [1, 1, 1, 1, 2, 2, 3, 3, 3, 3]);
  assert.deepEqual(Array.from(windowLabels(Uint8Array.from([0, 0, 0, 1, 0]), [0, 2], 3)), [0, 1]);
});

test('per-channel standardisation and contributions', () => {
  const s = make([1, 100, 3, 300], 2);
  const stats = fitChannelStats([s]);
  assert.deepEqual(stats.mean, [2, 200]);
  assert.deepEqual(stats.std, [1, 100]);
  assert.deepEqual(Array.from(standardiseInPlace(s.values.slice(), stats)), [-1, -1, 1, 1]);
  const flat = fitChannelStats([make([5, 5, 5], 1)]);
  assert.deepEqual(flat.std, [1], 'a constant channel is only centred');
  const top = channelContributions(Float32Array.from([1, 3, 0, 0]), 0, ['a', 'b']);
  assert.deepEqual(top, [
    { name: 'b', contribution: 0.75 },
    { name: 'a', contribution: 0.25 },
  ]);
});

test('checks: NaN / Infinity values, unordered timestamps, and missing columns are named', () => {
  const bad = make([1, Number.NaN, 3], 1, ['value']);
  assert.throws(() => checkSeries(bad), (e: VigilError) => e.code === 'E_VALUE' && /step 1 .*column "value": value NaN is not a finite number/.test(e.message));
  assert.throws(() => checkSeries(make([1, Infinity], 1)), (e: VigilError) => e.code === 'E_VALUE');
  const unordered = { ...make([1, 2, 3], 1), timestamps: Float64Array.of(0, 2, 1) };
  assert.throws(() => checkSeries(unordered), (e: VigilError) => e.code === 'E_VALUE' && /step 2: timestamp 1 is earlier/.test(e.message));
  const dup = { ...make([1, 2], 1), timestamps: Float64Array.of(5, 5) };
  assert.throws(() => checkSeries(dup), (e: VigilError) => /duplicated/.test(e.message));
  const s = make([1, 2, 3, 4], 2, ['cpu', 'mem']);
  assert.deepEqual(Array.from(selectColumns(s, ['mem', 'cpu']).values), [2, 1, 4, 3]);
  assert.throws(() => selectColumns(s, ['cpu', 'disk']), (e: VigilError) => e.code === 'E_SHAPE' && /missing column\(s\) "disk".*has: cpu, mem/.test(e.message));
});
