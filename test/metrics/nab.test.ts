import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import {
  NAB_PROFILES,
  nabProbationaryLength,
  nabScaledSigmoid,
  scoreNabCorpus,
  scoreNabSeries,
  type NabSeries,
} from '../../src/metrics/index.js';

// Hand arithmetic below uses sigma(x) = 2/(1+e^{5x}) - 1 = tanh(-5x/2), so
//   sigma(-1) = tanh(2.5) = 0.98661429815, and a detection at relative position -p in a window
//   scores tanh(2.5 p) / tanh(2.5).
const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) < tol, `${a} != ${b}`);

type Plain = NabSeries & { timestamps: number[]; scores: number[] };

function series(name: string, n: number, windows: [number, number][], hits: Record<number, number> = {}, base = 0): Plain {
  const scores = new Array<number>(n).fill(base);
  for (const [i, s] of Object.entries(hits)) scores[Number(i)] = s;
  return { name, timestamps: Array.from({ length: n }, (_, i) => i), scores, windows };
}

test('scaled sigmoid and probationary length follow NAB', () => {
  close(nabScaledSigmoid(-1), 0.98661429815);
  close(nabScaledSigmoid(0), 0);
  close(nabScaledSigmoid(1), -0.98661429815);
  assert.equal(nabScaledSigmoid(3.0001), -1);
  // min(floor(0.15 n), 0.15 * 5000 = 750)
  assert.equal(nabProbationaryLength(20), 3);
  assert.equal(nabProbationaryLength(1000), 150);
  assert.equal(nabProbationaryLength(10000), 750);
});

test('hand-scored series: first detection in the window counts, FPs weighted by distance', () => {
  // 20 rows (t = 0..19), probationary rows 0..2, one window [10, 14] (w = 5).
  // Detections (score 1 >= 0.5) at rows 2, 5, 12, 14, 16:
  //   row 2: probationary, ignored
  //   row 5: FP before any window -> -0.11
  //   row 12: first TP, position -(14-12+1)/5 = -0.6 -> tanh(1.5)/tanh(2.5) = 0.90514825/0.98661430 = 0.91742868
  //   row 14: later TP in the same window, ignored
  //   row 16: FP after the window, position (16-14)/(5-1) = 0.5 -> 0.11 * sigma(0.5) = -0.11 * tanh(1.25) = -0.09331120
  //   raw = 0.91742868 - 0.11 - 0.09331120 = 0.71411748
  const s = series('a', 20, [[10, 14]], { 2: 1, 5: 1, 12: 1, 14: 1, 16: 1 });
  const r = scoreNabSeries(s, 0.5, 'standard');
  close(r.score, 0.71411748, 1e-8);
  // Row counts over the 17 scorable rows: in-window detected 12, 14; outside detected 5, 16.
  assert.deepEqual({ tp: r.tp, fp: r.fp, fn: r.fn, tn: r.tn }, { tp: 2, fp: 2, fn: 3, tn: 10 });
  assert.equal(r.detectedWindows, 1);
  assert.equal(r.probationaryRows, 3);
});

test('a detection just before the window ends scores less than one at its start', () => {
  const start = scoreNabSeries(series('a', 20, [[10, 14]], { 10: 1 }), 0.5);
  const end = scoreNabSeries(series('a', 20, [[10, 14]], { 14: 1 }), 0.5);
  // start: position -1 -> exactly the TP weight 1; end: position -1/5 -> tanh(0.5)/tanh(2.5) = 0.46838684
  assert.equal(start.score, 1);
  close(end.score, 0.46838684, 1e-8);
  assert.ok(end.score < start.score && end.score > 0);
});

test('an FP far from windows costs exactly its profile weight', () => {
  // 200 rows (probation 30), window [100, 104]; detection at row 50 (before the window) and the
  // window missed: raw = fn + fp.
  const s = series('a', 200, [[100, 104]], { 50: 1 });
  close(scoreNabSeries(s, 0.5, 'standard').score, -1 - 0.11, 1e-12);
  close(scoreNabSeries(s, 0.5, 'reward_low_FP_rate').score, -1 - 0.22, 1e-12);
  close(scoreNabSeries(s, 0.5, 'reward_low_FN_rate').score, -2 - 0.11, 1e-12);
  // Far after the window (position (180-104)/4 = 19 > 3): also the full weight, -1 * 0.11.
  close(scoreNabSeries(series('a', 200, [[100, 104]], { 100: 1, 180: 1 }), 0.5).score, 1 - 0.11, 1e-12);
});

test("NAB's own unit test case (testScoringAllMetrics) gives -0.9540", () => {
  // 100 rows, windows [30, 34] and [65, 69], cost matrix tp = fn = fp = 1, no probation.
  // Detections at 30 (TP, +1), 31 (second TP, ignored), 37 (FP at position 3/4: sigma(0.75) =
  // -tanh(1.875) = -0.95405); window 2 missed (-1). Total -0.95405.
  const s = series('nab', 100, [[30, 34], [65, 69]], { 30: 1, 31: 1, 37: 1 });
  const r = scoreNabSeries(s, 0.5, { tp: 1, fp: -1, fn: -1, tn: 0 }, { probationaryPercent: 0 });
  close(r.score, -0.9540452602, 1e-9);
  assert.deepEqual({ tn: r.tn, tp: r.tp, fp: r.fp, fn: r.fn }, { tn: 89, tp: 2, fp: 1, fn: 8 });
  // testTruePositiveAtRightEdgeOfWindow: TP at the window's last row + FP just after it + 1 ~ 0
  const w: [number, number][] = [[450, 549]];
  const tpEnd = scoreNabSeries(series('e', 1000, w, { 549: 1 }), 0.5, { tp: 1, fp: -1, fn: -1, tn: 0 }, { probationaryPercent: 0 });
  const fpAfter = scoreNabSeries(series('e', 1000, w, { 550: 1 }), 0.5, { tp: 1, fp: -1, fn: -1, tn: 0 }, { probationaryPercent: 0 });
  assert.ok(Math.abs(tpEnd.score + fpAfter.score + 1) < 1e-3);
});

// Corpus: A (1000 rows, probation 150, window [500, 509]) and B (200 rows, probation 30, window [100, 104]).
const WA: [number, number][] = [[500, 509]];
const WB: [number, number][] = [[100, 104]];

test('null detector scores 0 and perfect detector scores 100', () => {
  // Constant scores: threshold 0.5 flags every row (hundreds of FPs at about -0.11), so the
  // optimum is "no detection": raw = null = -2 -> 0.
  const nul = scoreNabCorpus([series('A', 1000, WA, {}, 0.5), series('B', 200, WB, {}, 0.5)], 'standard');
  assert.equal(nul.score, 0);
  assert.equal(nul.threshold, Infinity);
  assert.equal(nul.rawScore, -2);
  assert.equal(nul.nullScore, -2);
  assert.equal(nul.perfectScore, 2);
  // A detection exactly at the start of each window: each window +1 -> raw 2 = perfect -> 100.
  for (const profile of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const) {
    const perfect = scoreNabCorpus([series('A', 1000, WA, { 500: 1 }), series('B', 200, WB, { 100: 1 })], profile);
    assert.equal(perfect.score, 100);
    assert.equal(perfect.threshold, 1);
  }
});

test('the threshold sweep maximises the summed corpus score', () => {
  // A: FP (far before the window) scored 0.9, TP at the window start scored 0.6, 100 FPs scored 0.3
  // B: TP at the window's last row scored 0.6.
  //   t = +inf: -1 - 1 = -2 (null)
  //   t = 0.9 : A -1 - 0.11, B -1            = -2.11
  //   t = 0.6 : A 1 - 0.11, B 0.46838684     =  1.35838684   <- best
  //   t = 0.3 : adds 100 * -0.11 in A        = -9.64161316
  // normalised: 100 * (1.35838684 + 2) / (2 + 2) = 83.959671
  const hitsA: Record<number, number> = { 300: 0.9, 500: 0.6 };
  for (let i = 160; i < 260; i++) hitsA[i] = 0.3;
  const r = scoreNabCorpus([series('A', 1000, WA, hitsA), series('B', 200, WB, { 104: 0.6 })], 'standard');
  assert.equal(r.threshold, 0.6);
  close(r.rawScore, 1.35838684, 1e-8);
  close(r.score, 83.959671, 1e-6);
  close(r.perSeries[0]!.score, 0.89, 1e-12);
  close(r.perSeries[1]!.score, 0.46838684, 1e-8);
  // reward_low_FN_rate: null = -4, a missed window costs 2; same best threshold here
  //   normalised 100 * (1.35838684 + 4) / (2 + 4) = 89.306447
  const fnr = scoreNabCorpus([series('A', 1000, WA, hitsA), series('B', 200, WB, { 104: 0.6 })], NAB_PROFILES.reward_low_FN_rate);
  close(fnr.score, 89.306447, 1e-6);
});

test('equal corpus scores: the higher threshold wins (NAB keeps the first of a stable sort)', () => {
  // With a free FP (profile fp = 0) lowering the threshold from 0.9 to 0.5 or 0 adds only
  // zero-cost FPs and later in-window rows (which never beat the first detection):
  //   t = +inf: -1;  t = 0.9: +1;  t = 0.5: +1;  t = 0: +1  -> ties, the highest (0.9) is kept.
  const s = series('A', 1000, WA, { 500: 0.9, 300: 0.5 });
  const r = scoreNabCorpus([s], { tp: 1, fp: 0, fn: -1, tn: 0 });
  assert.equal(r.threshold, 0.9);
  assert.equal(r.rawScore, 1);
});

test('probationary rows and windows are not scored (NAB semantics)', () => {
  // 100 rows: probation 15 rows. Window [5, 8] lies inside it: it contributes neither a TP nor an FN
  // (but NAB's "perfect" still counts it). Window [50, 54] detected at its start: raw = 1,
  // null = -1 (one scorable window), perfect = 2 -> 100 * (1 + 1) / (2 + 1) = 66.666...
  const s = series('p', 100, [[5, 8], [50, 54]], { 6: 1, 10: 1, 50: 1 });
  const one = scoreNabSeries(s, 0.5);
  assert.equal(one.score, 1);
  assert.equal(one.scorableWindows, 1);
  const r = scoreNabCorpus([s], 'standard');
  close(r.score, 200 / 3, 1e-9);
});

test('NAB input errors name the field', () => {
  const is = (code: string, re: RegExp) => (e: unknown) => e instanceof VigilError && e.code === code && re.test(e.message);
  const ok = series('x', 20, [[10, 12]]);
  assert.throws(() => scoreNabSeries({ ...ok, scores: ok.scores.slice(1) }, 0.5), is('E_SHAPE', /^series \(x\)\.scores: has 19 values but timestamps has 20/));
  assert.throws(() => scoreNabSeries({ ...ok, timestamps: [...ok.timestamps].reverse() }, 0.5), is('E_VALUE', /^series \(x\)\.timestamps: element 1/));
  assert.throws(() => scoreNabSeries({ ...ok, windows: [[10, 12], [12, 14]] }, 0.5), is('E_VALUE', /^series \(x\)\.windows\[1\]: overlaps/));
  assert.throws(() => scoreNabSeries({ ...ok, windows: [[30, 40]] }, 0.5), is('E_VALUE', /^series \(x\)\.windows\[0\]: \[30, 40\] contains no timestamp/));
  assert.throws(() => scoreNabSeries({ ...ok, scores: [NaN, ...ok.scores.slice(1)] }, 0.5), is('E_VALUE', /^series \(x\)\.scores: element 0 is NaN/));
  assert.throws(() => scoreNabSeries(ok, 0.5, 'lenient' as 'standard'), is('E_CONFIG', /^profile: unknown NAB profile 'lenient'/));
  assert.throws(() => scoreNabSeries(ok, 0.5, { tp: 1, fp: 0.11, fn: -1, tn: 0 }), is('E_CONFIG', /^profile\.fp/));
  assert.throws(() => scoreNabCorpus([series('y', 20, [])]), is('E_VALUE', /^corpus: no series has an anomaly window/));
  assert.throws(() => scoreNabCorpus([]), is('E_EMPTY', /^corpus/));
});
