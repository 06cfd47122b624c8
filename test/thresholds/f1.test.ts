import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import { precisionRecallF1 } from '../../src/metrics/index.js';
import { f1OptimalThreshold } from '../../src/thresholds/index.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('F1-optimal threshold, hand case with ties', () => {
  // scores 0.9(-) 0.8(+) 0.8(+) 0.7(-) 0.6(+) 0.2(-)   P = 3
  //   t=0.9: tp0 fp1 -> F1 0
  //   t=0.8: tp2 fp1 -> P 2/3 R 2/3 F1 2/3
  //   t=0.7: tp2 fp2 -> P 1/2 R 2/3 F1 4/7
  //   t=0.6: tp3 fp2 -> P 3/5 R 1 F1 3/4   <- best
  //   t=0.2: tp3 fp3 -> P 1/2 R 1 F1 2/3
  const scores = [0.9, 0.8, 0.8, 0.7, 0.6, 0.2];
  const labels = [0, 1, 1, 0, 1, 0];
  const r = f1OptimalThreshold(scores, labels);
  assert.equal(r.threshold, 0.6);
  assert.ok(Math.abs(r.f1 - 0.75) < 1e-15);
  assert.equal(r.precision, 3 / 5);
  assert.equal(r.recall, 1);
  assert.deepEqual({ tp: r.tp, fp: r.fp, fn: r.fn, tn: r.tn }, { tp: 3, fp: 2, fn: 0, tn: 1 });
});

test('equal F1: the higher threshold (fewer alarms) wins', () => {
  // 0.9(+) 0.8(-) 0.7(-) 0.6(+), P = 2; F1 = 2TP / (TP + P + FP):
  //   t=0.9: 2/3;  t=0.8: 2/4;  t=0.7: 2/5;  t=0.6: 4/6 = 2/3  -> tie, keep 0.9
  const r = f1OptimalThreshold([0.9, 0.8, 0.7, 0.6], [1, 0, 0, 1]);
  assert.equal(r.threshold, 0.9);
  assert.ok(Math.abs(r.f1 - 2 / 3) < 1e-15);
});

test('the returned threshold reproduces the reported F1 with score >= threshold (random, Float32, ties)', () => {
  const r = rng(11);
  for (let trial = 0; trial < 30; trial++) {
    const n = 20 + Math.floor(r() * 300);
    const scores = new Float32Array(n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = r() < 0.25 ? 1 : 0;
      scores[i] = Math.round((r() + 0.5 * labels[i]!) * 20) / 20;
    }
    if (!labels.includes(1)) continue;
    const best = f1OptimalThreshold(scores, labels);
    const check = precisionRecallF1(scores, labels, best.threshold);
    assert.equal(check.f1, best.f1);
    assert.equal(check.tp, best.tp);
    assert.equal(check.fp, best.fp);
    // no distinct score does better (brute force)
    for (const t of new Set(scores)) assert.ok(precisionRecallF1(scores, labels, t).f1 <= best.f1);
  }
});

test('F1 threshold input errors', () => {
  const is = (code: string, re: RegExp) => (e: unknown) => e instanceof VigilError && e.code === code && re.test(e.message);
  assert.throws(() => f1OptimalThreshold([0.1, 0.2], [0, 0]), is('E_VALUE', /^labels: all 2 labels are 0/));
  assert.throws(() => f1OptimalThreshold([0.1, 0.2], [0, 1, 1]), is('E_SHAPE', /^labels/));
  assert.throws(() => f1OptimalThreshold([0.1, NaN], [0, 1]), is('E_VALUE', /^scores: element 1 is NaN/));
});
