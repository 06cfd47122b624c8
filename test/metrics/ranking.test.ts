import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import { auprc, auroc, prCurve, rocCurve } from '../../src/metrics/index.js';

function throwsVigil(fn: () => unknown, code: string, field: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof VigilError, `expected VigilError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, field);
    return true;
  });
}

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

/** O(n^2) Mann-Whitney reference. */
function bruteAuroc(s: number[], y: number[]): number {
  let acc = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < s.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      acc += s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return acc / pairs;
}

/** O(n^2) AP reference: every distinct threshold, flag score >= t. */
function bruteAp(s: number[], y: number[]): number {
  const P = y.filter((v) => v === 1).length;
  const ts = [...new Set(s)].sort((a, b) => b - a);
  let prevR = 0;
  let ap = 0;
  for (const t of ts) {
    let tp = 0;
    let fp = 0;
    s.forEach((v, i) => {
      if (v >= t) y[i] === 1 ? tp++ : fp++;
    });
    const r = tp / P;
    ap += (r - prevR) * (tp / (tp + fp));
    prevR = r;
  }
  return ap;
}

test('AUROC hand cases', () => {
  // pos {0.35, 0.8}, neg {0.1, 0.4}: 0.35 beats 0.1; 0.8 beats both -> 3 of 4 pairs
  assert.equal(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(auroc(new Float32Array([0.1, 0.4, 0.35, 0.8]), new Uint8Array([0, 0, 1, 1])), 0.75);
  // ties: pos {0.5, 0.9}, neg {0.5, 0.2}: 0.5 vs 0.5 tie = 1/2, 0.5 > 0.2 = 1, 0.9 beats both = 2 -> 3.5/4
  assert.equal(auroc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1]), 0.875);
  // pos {0.7, 0.7, 0.1}, neg {0.9, 0.7}: each 0.7 ties one neg (1/2 each), 0.1 beats none -> 1/6
  assert.ok(Math.abs(auroc([0.9, 0.7, 0.7, 0.7, 0.1], [0, 1, 0, 1, 1]) - 1 / 6) < 1e-15);
  // all scores equal -> 0.5; perfect separation -> 1; inverted -> 0
  assert.equal(auroc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
  assert.equal(auroc([0, 1, 2, 3], [0, 0, 1, 1]), 1);
  assert.equal(auroc([3, 2, 1, 0], [0, 0, 1, 1]), 0);
  // -0 and 0 are the same score (a tie)
  assert.equal(auroc([-0, 0], [1, 0]), 0.5);
});

test('AUROC equals the O(n^2) Mann-Whitney on random data with many ties', () => {
  const r = rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = 50 + Math.floor(r() * 200);
    const s: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const label = r() < 0.3 ? 1 : 0;
      y.push(label);
      s.push(Math.round((r() + label * 0.3) * 10) / 10); // 0.1 grid: lots of ties
    }
    if (!y.includes(0) || !y.includes(1)) continue;
    assert.ok(Math.abs(auroc(s, y) - bruteAuroc(s, y)) < 1e-12);
    assert.ok(Math.abs(auprc(s, y) - bruteAp(s, y)) < 1e-12);
    // AUROC is also the trapezoid area under the tie-grouped ROC curve
    const c = rocCurve(s, y);
    let area = 0;
    for (let k = 1; k < c.fpr.length; k++) area += ((c.fpr[k]! - c.fpr[k - 1]!) * (c.tpr[k]! + c.tpr[k - 1]!)) / 2;
    assert.ok(Math.abs(area - auroc(s, y)) < 1e-12);
  }
});

test('ROC curve groups tied scores into one point', () => {
  const c = rocCurve([0.9, 0.7, 0.7, 0.7, 0.1], [0, 1, 0, 1, 1]);
  // thresholds: +inf, 0.9, 0.7 (three tied samples at once), 0.1
  assert.deepEqual(Array.from(c.thresholds), [Infinity, 0.9, 0.7, 0.1]);
  assert.deepEqual(Array.from(c.fpr), [0, 0.5, 1, 1]);
  assert.deepEqual(Array.from(c.tpr), [0, 0, 2 / 3, 1]);
});

test('AUPRC is step-wise average precision (not trapezoid)', () => {
  // sorted desc: 0.8(+) P=1 R=.5 ; 0.4(-) ; 0.35(+) P=2/3 R=1 ; 0.1(-)
  // AP = 0.5*1 + 0.5*(2/3) = 0.833333...  (trapezoid would give a different value)
  assert.ok(Math.abs(auprc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) - 5 / 6) < 1e-15);
  // ties: 0.9(-) -> P=0 R=0 ; 0.7 group (2+, 1-) -> TP 2 FP 2: P=.5 R=2/3 ; 0.1(+) -> P=3/5 R=1
  // AP = (2/3)*0.5 + (1/3)*0.6 = 0.533333...
  assert.ok(Math.abs(auprc([0.9, 0.7, 0.7, 0.7, 0.1], [0, 1, 0, 1, 1]) - (1 / 3 + 0.2)) < 1e-15);
  const c = prCurve([0.9, 0.7, 0.7, 0.7, 0.1], [0, 1, 0, 1, 1]);
  assert.deepEqual(Array.from(c.thresholds), [0.9, 0.7, 0.1]);
  assert.deepEqual(Array.from(c.precision), [0, 0.5, 0.6]);
  assert.deepEqual(Array.from(c.recall), [0, 2 / 3, 1]);
});

test('one class only, NaN scores and length mismatches are clear errors', () => {
  throwsVigil(() => auroc([0.1, 0.2], [1, 1]), 'E_VALUE', /^labels: all 2 labels are 1 \(anomalous\); AUROC needs both/);
  throwsVigil(() => auprc([0.1, 0.2], [0, 0]), 'E_VALUE', /^labels: all 2 labels are 0/);
  throwsVigil(() => rocCurve([0.1, 0.2], [0, 0]), 'E_VALUE', /^labels/);
  throwsVigil(() => prCurve([0.1, 0.2], [1, 1]), 'E_VALUE', /^labels/);
  throwsVigil(() => auroc([0.1, NaN], [0, 1]), 'E_VALUE', /^scores: element 1 is NaN/);
  throwsVigil(() => auroc([0.1, 0.2, 0.3], [0, 1]), 'E_SHAPE', /^labels: has 2 elements but scores has 3/);
  throwsVigil(() => auroc([0.1, 0.2], [0, -1]), 'E_VALUE', /^labels: element 1 is -1/);
  throwsVigil(() => auroc([], []), 'E_EMPTY', /^scores/);
});
