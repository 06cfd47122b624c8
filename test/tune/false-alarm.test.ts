import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import { createRng } from '../../src/data/random.js';
import { PostProcessor } from '../../src/scoring/postprocess.js';
import {
  applyFalseAlarmThreshold,
  exceedanceRate,
  expectedFalseAlarms,
  falseAlarmTargetFromParams,
  falseAlarmThreshold,
  formatAlarmRate,
  samplesPerUnit,
  targetFalsePositiveRate,
} from '../../src/thresholds/false-alarm.js';

const configError = (field: string) => (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG' && e.message.includes(field);

test('alarm units: samples per unit and the per-sample rate a target asks for', () => {
  assert.equal(samplesPerUnit('day', 60), 1440);
  assert.equal(samplesPerUnit('hour', 10), 360);
  assert.equal(samplesPerUnit('thousand'), 1000);
  // 2 alarms a day from a stream scored every minute: p = 2 / 1440.
  assert.equal(targetFalsePositiveRate({ rate: 2, per: 'day', intervalSeconds: 60 }), 2 / 1440);
  assert.equal(targetFalsePositiveRate({ rate: 5, per: 'thousand' }), 0.005);
  assert.equal(expectedFalseAlarms(0.01, 'thousand'), 10);
  assert.ok(Math.abs(expectedFalseAlarms(0.001, 'day', 30) - 2.88) < 1e-12);
  assert.throws(() => samplesPerUnit('day'), configError('intervalSeconds'));
  assert.throws(() => targetFalsePositiveRate({ rate: 0, per: 'thousand' }), configError('rate'));
  assert.throws(() => targetFalsePositiveRate({ rate: 2000, per: 'thousand' }), configError('rate'));
  assert.equal(formatAlarmRate(2.5, 'day'), '2.5 per day');
  assert.equal(formatAlarmRate(10, 'thousand', 'images'), '10.0 per 1,000 images');
});

test('empirical threshold: with enough normal scores it flags at most the target share of them', () => {
  const rng = createRng(5);
  const scores = Array.from({ length: 20_000 }, () => rng.next());
  const r = falseAlarmThreshold(scores, { rate: 5, per: 'thousand' });
  assert.equal(r.method, 'empirical');
  assert.equal(r.targetFpr, 0.005);
  assert.ok(r.empiricalFpr <= 0.005 && r.empiricalFpr > 0.0045, `empirical fpr ${r.empiricalFpr}`);
  // Uniform scores: the threshold sits near the 99.5th percentile.
  assert.ok(Math.abs(r.threshold - 0.995) < 0.003, `threshold ${r.threshold}`);
  assert.ok(Math.abs(r.expectedAlarms - 5) < 0.5);
  assert.equal(exceedanceRate([1, 2, 3, 4], 3), 0.5);
});

test('extrapolated threshold: a rate below what the scores resolve follows the fitted tail', () => {
  // Exponential scores: P(X > z) = exp(-z), so the exact threshold for rate p is -ln p.
  const rng = createRng(11);
  const scores = Array.from({ length: 4000 }, () => -Math.log(1 - rng.next()));
  const target = { rate: 1, per: 'day' as const, intervalSeconds: 10 }; // p = 1 / 8640
  const r = falseAlarmThreshold(scores, target);
  assert.equal(r.method, 'extrapolated', 'p n = 0.46 < 10 exceedances: extrapolated');
  const exact = -Math.log(1 / 8640);
  assert.ok(Math.abs(r.threshold - exact) / exact < 0.15, `threshold ${r.threshold.toFixed(2)} vs exact ${exact.toFixed(2)}`);
  assert.equal(r.expectedAlarms, 1);
  assert.ok(r.threshold > Math.max(...scores) * 0.8);
  assert.throws(() => falseAlarmThreshold([1, 2, 3], target), (e: unknown) => e instanceof VigilError && e.code === 'E_EMPTY');
});

test('the post-processor keeps the method, its parameters and a label count of zero', () => {
  const rng = createRng(2);
  const normal = Array.from({ length: 3000 }, () => rng.normal());
  const pp = new PostProcessor();
  pp.fitNormal(normal); // range for normalisation
  const r = applyFalseAlarmThreshold(pp, normal, { rate: 3, per: 'hour', intervalSeconds: 12 }); // p = 3 / 300 = 0.01
  assert.equal(pp.state.method, 'false-alarm-rate');
  assert.equal(pp.threshold, r.threshold);
  assert.equal(pp.state.labelsUsed, 0);
  assert.equal(pp.state.params.fpr, 0.01);
  assert.deepEqual(falseAlarmTargetFromParams(pp.state.params), { rate: 3, per: 'hour', intervalSeconds: 12 });
  // Round trip through the saved form.
  const again = PostProcessor.fromJSON(JSON.parse(JSON.stringify(pp.toJSON())), 'test');
  assert.equal(again.threshold, r.threshold);
  assert.equal(again.normalise(r.threshold), 0.5);
});
