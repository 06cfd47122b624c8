import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import { nextUp, quantile, quantileThreshold, quantiles, thresholdForFalsePositiveRate } from '../../src/thresholds/index.js';

test('quantile interpolates linearly like numpy', () => {
  // numpy.quantile([1, 2, 3, 4], q): h = 3q
  const x = [4, 1, 3, 2];
  assert.equal(quantile(x, 0), 1);
  assert.equal(quantile(x, 1), 4);
  assert.equal(quantile(x, 0.5), 2.5); // h = 1.5 -> 2 + 0.5 * (3 - 2)
  assert.equal(quantile(x, 0.25), 1.75); // h = 0.75 -> 1 + 0.75
  assert.ok(Math.abs(quantile(x, 0.9) - 3.7) < 1e-12); // h = 2.7 -> 3 + 0.7
  // numpy.quantile([10, 20, 30, 40, 50], 0.99) = 49.6 (h = 3.96)
  assert.ok(Math.abs(quantileThreshold(new Float32Array([50, 10, 40, 20, 30]), 0.99) - 49.6) < 1e-9);
  assert.equal(quantile([7], 0.3), 7);
  assert.deepEqual(quantiles([0, 10], [0, 0.5, 1]), [0, 5, 10]);
  // exact at sample points (numpy's two-sided lerp): h = 2 exactly for 5 points at q = 0.5
  assert.equal(quantile([0.1, 0.2, 0.3, 0.4, 0.5], 0.5), 0.3);
});

test('thresholdForFalsePositiveRate: lowest threshold with empirical FPR <= target', () => {
  const normals = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  // k = floor(0.2 * 10) = 2: flag {9, 10} -> t = 9
  assert.equal(thresholdForFalsePositiveRate(normals, 0.2), 9);
  // k = floor(0.25 * 10) = 2 as well
  assert.equal(thresholdForFalsePositiveRate(normals, 0.25), 9);
  // k = floor(0.3 * 10) = 3 (computed with a 1e-9 guard against 2.9999...): flag {8, 9, 10}
  assert.equal(thresholdForFalsePositiveRate(normals, 0.3), 8);
  // fpr = 0: nothing may be flagged -> just above the max
  const t0 = thresholdForFalsePositiveRate(normals, 0);
  assert.ok(t0 > 10 && t0 === nextUp(10));
  assert.equal(thresholdForFalsePositiveRate(normals, 1), 1);
  // ties are not split: [1, 2, 3, 3, 3] with fpr 0.4 (k = 2): flagging 3 would flag 3 values,
  // so no value can be flagged without exceeding k -> above the max
  assert.equal(thresholdForFalsePositiveRate([1, 2, 3, 3, 3], 0.4), nextUp(3));
  // [1, 2, 2, 3] fpr 0.5 (k = 2): flagging 2 flags 3 values -> t = 3 (1 value, FPR 1/4)
  assert.equal(thresholdForFalsePositiveRate([1, 2, 2, 3], 0.5), 3);
  // achieved FPR never exceeds the target
  const xs = Array.from({ length: 101 }, (_, i) => (i * 37) % 101);
  for (const f of [0.01, 0.05, 0.1, 0.33]) {
    const t = thresholdForFalsePositiveRate(xs, f);
    const flagged = xs.filter((v) => v >= t).length;
    assert.ok(flagged <= Math.floor(f * xs.length + 1e-9));
    assert.ok(xs.filter((v) => v >= t - 1).length > Math.floor(f * xs.length + 1e-9), 'lowest such threshold');
  }
  assert.equal(nextUp(-1) > -1, true);
  assert.equal(nextUp(0), Number.MIN_VALUE);
});

test('quantile input errors name the field', () => {
  const is = (code: string, re: RegExp) => (e: unknown) => e instanceof VigilError && e.code === code && re.test(e.message);
  assert.throws(() => quantile([], 0.5), is('E_EMPTY', /^values/));
  assert.throws(() => quantile([1, NaN], 0.5), is('E_VALUE', /^values: element 1 is NaN/));
  assert.throws(() => quantile([1, 2], 1.5), is('E_CONFIG', /^q: is 1.5/));
  assert.throws(() => quantileThreshold([1, 2], NaN), is('E_CONFIG', /^q: is NaN/));
  assert.throws(() => thresholdForFalsePositiveRate([1, 2], -0.1), is('E_CONFIG', /^fpr: is -0.1/));
  assert.throws(() => thresholdForFalsePositiveRate([Infinity], 0.1), is('E_VALUE', /^normalScores: element 0 is Infinity/));
});
