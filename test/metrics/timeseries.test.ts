import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import {
  extractSegments,
  pointAdjust,
  pointAdjustedPrecisionRecallF1,
  pointwisePrecisionRecallF1,
  rangePrecisionRecallF1,
  rangePrecisionRecallF1FromPredictions,
} from '../../src/metrics/index.js';

const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, msg ?? `${a} != ${b}`);

// index   0 1 2 3 4 5 6 7 8 9
const LABELS = [0, 1, 1, 1, 1, 0, 0, 1, 1, 0]; // R1 = [1,4], R2 = [7,8]
const PRED = [0, 0, 1, 1, 0, 0, 0, 0, 0, 1]; //   P1 = [2,3], P2 = [9,9]

test('extractSegments returns inclusive runs of 1s', () => {
  assert.deepEqual(extractSegments(LABELS), [
    { start: 1, end: 4 },
    { start: 7, end: 8 },
  ]);
  assert.deepEqual(extractSegments([1, 1, 0, 1]), [
    { start: 0, end: 1 },
    { start: 3, end: 3 },
  ]);
  assert.deepEqual(extractSegments([0, 0]), []);
});

test('point-wise and point-adjusted P/R/F1 (hand computed)', () => {
  // point-wise: tp = 2 (idx 2, 3), fp = 1 (idx 9), fn = 4 -> P = 2/3, R = 1/3, F1 = 4/9
  const pw = pointwisePrecisionRecallF1(PRED, LABELS, 0.5);
  close(pw.precision, 2 / 3);
  close(pw.recall, 1 / 3);
  close(pw.f1, 4 / 9);
  // point-adjusted: R1 was hit, so idx 1..4 all count; R2 missed.
  //   adjusted = 0 1 1 1 1 0 0 0 0 1 -> tp 4, fp 1, fn 2 -> P = 4/5, R = 4/6, F1 = 8/11
  assert.deepEqual(Array.from(pointAdjust(PRED, LABELS)), [0, 1, 1, 1, 1, 0, 0, 0, 0, 1]);
  const pa = pointAdjustedPrecisionRecallF1(new Float32Array(PRED), LABELS, 0.5);
  assert.deepEqual({ tp: pa.tp, fp: pa.fp, fn: pa.fn, tn: pa.tn }, { tp: 4, fp: 1, fn: 2, tn: 3 });
  close(pa.precision, 4 / 5);
  close(pa.recall, 4 / 6);
  close(pa.f1, 8 / 11);
});

test('range-based P/R/F1 (Tatbul et al.) hand cases', () => {
  // alpha = 0, flat, cardinality 1:
  //   Recall(R1) = |{2,3}| / 4 = 1/2, Recall(R2) = 0 -> Recall = 1/4
  //   Precision(P1) = 2/2 = 1, Precision(P2) = 0    -> Precision = 1/2
  //   F1 = 2 * 1/2 * 1/4 / (3/4) = 1/3
  const r0 = rangePrecisionRecallF1(PRED, LABELS, 0.5);
  close(r0.recall, 1 / 4);
  close(r0.precision, 1 / 2);
  close(r0.f1, 1 / 3);
  assert.equal(r0.realRanges, 2);
  assert.equal(r0.predictedRanges, 2);
  // alpha = 0.5: Recall(R1) = 0.5 * 1 + 0.5 * 1/2 = 3/4, Recall(R2) = 0 -> 3/8; precision unchanged
  //   F1 = 2 * 1/2 * 3/8 / (7/8) = 3/7
  const r5 = rangePrecisionRecallF1(PRED, LABELS, 0.5, { alpha: 0.5 });
  close(r5.recall, 3 / 8);
  close(r5.precision, 1 / 2);
  close(r5.f1, 3 / 7);
});

test('range-based positional bias and cardinality', () => {
  // One real range [0,3] (length 4); prediction covers its first two steps [0,1].
  const labels = [1, 1, 1, 1, 0];
  const pred = [1, 1, 0, 0, 0];
  // flat: 2/4; front delta = 4,3,2,1 -> (4+3)/10; back delta = 1,2,3,4 -> (1+2)/10;
  // middle delta = 1,2,2,1 -> (1+2)/6
  close(rangePrecisionRecallF1FromPredictions(pred, labels).recall, 0.5);
  close(rangePrecisionRecallF1FromPredictions(pred, labels, { bias: 'front' }).recall, 0.7);
  close(rangePrecisionRecallF1FromPredictions(pred, labels, { bias: 'back' }).recall, 0.3);
  close(rangePrecisionRecallF1FromPredictions(pred, labels, { bias: 'middle' }).recall, 0.5);
  // Fragmented detection: two predicted ranges [1,1] and [3,3] inside one real range [0,3].
  // cardinality 1: recall = 2/4; reciprocal (x = 2 overlapping ranges): 1/2 * 2/4 = 1/4.
  // Each predicted range lies inside the real range: precision 1 either way.
  const frag = [0, 1, 0, 1, 0];
  const one = rangePrecisionRecallF1FromPredictions(frag, labels);
  const rec = rangePrecisionRecallF1FromPredictions(frag, labels, { cardinality: 'reciprocal' });
  close(one.recall, 0.5);
  close(rec.recall, 0.25);
  close(one.precision, 1);
  close(rec.precision, 1);
  // A predicted range spanning two real ranges: precision = covered share of the prediction.
  // labels R1=[0,1], R2=[4,5]; pred [0,5]: precision = 4/6; recall = 1 (each fully covered).
  const span = rangePrecisionRecallF1FromPredictions([1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 1, 1]);
  close(span.precision, 4 / 6);
  close(span.recall, 1);
  // alpha rewards existence in recall only: precision stays 4/6 (not 0.5 + 0.5 * 4/6)
  const spanA = rangePrecisionRecallF1FromPredictions([1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 1, 1], { alpha: 0.5 });
  close(spanA.precision, 4 / 6);
  // nothing predicted: precision 0/0 -> 0, F1 0
  const none = rangePrecisionRecallF1FromPredictions([0, 0, 0], [0, 1, 0]);
  assert.deepEqual([none.precision, none.recall, none.f1], [0, 0, 0]);
});

test('time-series input errors name the field', () => {
  const is = (code: string, re: RegExp) => (e: unknown) => e instanceof VigilError && e.code === code && re.test(e.message);
  assert.throws(() => rangePrecisionRecallF1([0.1, 0.2], [0, 1, 0], 0.5), is('E_SHAPE', /^labels: has 3 elements but scores has 2/));
  assert.throws(() => rangePrecisionRecallF1([0.1, 0.2], [0, 1], 0.5, { alpha: 2 }), is('E_CONFIG', /^alpha: is 2/));
  assert.throws(() => rangePrecisionRecallF1([0.1, 0.2], [0, 1], 0.5, { bias: 'left' as 'flat' }), is('E_CONFIG', /^bias/));
  assert.throws(() => pointAdjust([0, 1], [0, 3]), is('E_VALUE', /^labels: element 1 is 3/));
  assert.throws(() => pointAdjustedPrecisionRecallF1([NaN], [0], 0.5), is('E_VALUE', /^scores: element 0 is NaN/));
  assert.throws(() => extractSegments([]), is('E_EMPTY', /^binary/));
});
