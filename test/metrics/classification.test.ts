import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import {
  accuracy,
  binarize,
  classificationMetrics,
  confusionMatrix,
  falsePositiveRate,
  precisionRecallF1,
} from '../../src/metrics/index.js';

function throwsVigil(fn: () => unknown, code: string, field: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof VigilError, `expected VigilError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, field);
    return true;
  });
}

test('confusionMatrix counts each cell', () => {
  // pred   1 1 0 0 1 0
  // labels 1 0 0 1 1 0  -> tp: idx 0,4 ; fp: idx 1 ; fn: idx 3 ; tn: idx 2,5
  assert.deepEqual(confusionMatrix([1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 0]), { tp: 2, fp: 1, tn: 2, fn: 1 });
  assert.deepEqual(confusionMatrix(new Uint8Array([0, 0]), new Float32Array([1, 0])), { tp: 0, fp: 0, tn: 1, fn: 1 });
});

test('precisionRecallF1 flags score >= threshold (the boundary is anomalous)', () => {
  const scores = [0.1, 0.5, 0.5, 0.9, 0.3];
  const labels = [0, 1, 0, 1, 1];
  // t = 0.5 flags 0.5, 0.5, 0.9 -> tp 2 (idx 1, 3), fp 1 (idx 2), fn 1 (idx 4), tn 1
  const r = precisionRecallF1(scores, labels, 0.5);
  assert.deepEqual({ tp: r.tp, fp: r.fp, tn: r.tn, fn: r.fn }, { tp: 2, fp: 1, tn: 1, fn: 1 });
  assert.equal(r.precision, 2 / 3);
  assert.equal(r.recall, 2 / 3);
  assert.ok(Math.abs(r.f1 - 2 / 3) < 1e-15);
  // accuracy = (2 + 1) / 5, FPR = 1 / 2
  assert.equal(accuracy(scores, labels, 0.5), 3 / 5);
  assert.equal(falsePositiveRate(scores, labels, 0.5), 1 / 2);
  // Float32 scores compare in their own precision
  const f32 = new Float32Array([0.1, 0.2]);
  assert.deepEqual(Array.from(binarize(f32, f32[1]!)), [0, 1]);
});

test('0/0 is defined as 0', () => {
  // nothing flagged: precision 0/0 -> 0, recall 0/2 = 0, F1 0
  const r = classificationMetrics([0.1, 0.2, 0.3], [1, 1, 0], Infinity);
  assert.equal(r.precision, 0);
  assert.equal(r.recall, 0);
  assert.equal(r.f1, 0);
  assert.equal(r.accuracy, 1 / 3);
  // no anomalies at all: recall 0/0 -> 0; no normal samples: FPR 0/0 -> 0
  assert.equal(precisionRecallF1([0.5, 0.7], [0, 0], 0.6).recall, 0);
  assert.equal(falsePositiveRate([0.5, 0.7], [1, 1], 0), 0);
});

test('bad input errors name the field', () => {
  throwsVigil(() => precisionRecallF1([0.1, NaN], [0, 1], 0.5), 'E_VALUE', /^scores: element 1 is NaN/);
  throwsVigil(() => precisionRecallF1([0.1, 0.2], [0, 2], 0.5), 'E_VALUE', /^labels: element 1 is 2/);
  throwsVigil(() => precisionRecallF1([0.1, 0.2], [0], 0.5), 'E_SHAPE', /^labels: has 1 elements but scores has 2/);
  throwsVigil(() => precisionRecallF1([], [], 0.5), 'E_EMPTY', /^scores/);
  throwsVigil(() => precisionRecallF1([0.1], [1], NaN), 'E_VALUE', /^threshold/);
  throwsVigil(() => confusionMatrix([0.5], [1]), 'E_VALUE', /^pred: element 0 is 0.5/);
});
