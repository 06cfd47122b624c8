import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import { auroc, pixelAuroc, pixelAurocDetailed, pro, proDetailed } from '../../src/metrics/index.js';

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

// One 4x4 image with two ground-truth regions:
//   mask           map
//   1 1 0 0        .9 .5 0  0
//   1 0 0 0        .2 0  .7 0
//   0 0 0 1        0  .4 0  .6
//   0 0 0 0        0  0  0  0
// Region A = {(0,0), (0,1), (1,0)} (area 3) with scores .9, .5, .2; region B = {(2,3)} (area 1)
// with score .6; 12 normal pixels: one at .7, one at .4, ten at 0.
const MASK = new Uint8Array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
const MAP = new Float32Array([0.9, 0.5, 0, 0, 0.2, 0, 0.7, 0, 0, 0.4, 0, 0.6, 0, 0, 0, 0]);

test('PRO on a tiny map with two regions (hand-integrated)', () => {
  // Thresholds high to low -> (FPR, PRO):
  //   +inf (0, 0); .9 (0, (1/3+0)/2 = 1/6); .7 (1/12, 1/6); .6 (1/12, (1/3+1)/2 = 2/3);
  //   .5 (1/12, 5/6); .4 (2/12, 5/6); .2 (2/12, 1); 0 (1, 1)
  // Area for FPR in [0, 0.3]: 1/12 * 1/6 + 1/12 * 5/6 + (0.3 - 1/6) * 1 = 1/72 + 5/72 + 2/15 = 13/60
  // Normalised: (13/60) / 0.3 = 13/18
  const r = proDetailed([MAP], [MASK], { width: 4, height: 4, maxFpr: 0.3 });
  // same through the binary-search path (plain arrays)
  assert.ok(Math.abs(pro([Array.from(MAP)], [Array.from(MASK)], { width: 4 }) - 13 / 18) < 1e-12);
  assert.ok(Math.abs(r.pro - 13 / 18) < 1e-12, `pro ${r.pro}`);
  assert.equal(r.regions, 2);
  assert.equal(r.method, 'exact');
  assert.equal(r.errorBound, 0);
  // PRO averages regions, it does not pool pixels: at t = .6 pixel-recall would be 2/4, PRO is 2/3
  const at06 = Array.from(r.thresholds).findIndex((t) => Math.abs(t - 0.6) < 1e-6);
  assert.ok(Math.abs(r.pros[at06]! - 2 / 3) < 1e-12);
  assert.ok(Math.abs(pro([MAP], [MASK], { width: 4 }) - 13 / 18) < 1e-12, 'height derived, maxFpr 0.3 by default');
  // maxFpr = 1/12 exactly: area 1/72 over 1/12 = 1/6
  assert.ok(Math.abs(pro([MAP], [MASK], { width: 4, maxFpr: 1 / 12 }) - 1 / 6) < 1e-12);
});

test('PRO groups a normal pixel tied with a region pixel into one point', () => {
  // Move the .4 normal pixel to .5 (tied with region A's .5): at t = .5 FPR and PRO move together,
  // (1/12, 2/3) -> (2/12, 5/6), a diagonal segment of area 1/12 * (2/3 + 5/6)/2 = 1/16.
  // Area = 1/72 + 1/16 + 2/15 = 151/720; normalised 151/216.
  const map = MAP.slice();
  map[9] = 0.5;
  assert.ok(Math.abs(pro([map], [MASK], { width: 4, height: 4 }) - 151 / 216) < 1e-12);
});

test('PRO pools normal pixels of anomaly-free images into the FPR', () => {
  // A second, anomaly-free 4x4 image with all scores 0 adds 16 normal pixels (28 in all): the .7
  // and .4 normals now give FPR 1/28 and 2/28. Area = 1/28*1/6 + 1/28*5/6 + (3/10 - 2/28) * 1
  //  = 3/10 - 1/28 = 37/140; normalised (37/140) / (3/10) = 37/42.
  const r = pro([MAP, new Float32Array(16)], [MASK, new Uint8Array(16)], { width: 4 });
  assert.ok(Math.abs(r - 37 / 42) < 1e-12, `pro ${r}`);
});

test('PRO: 8-connected regions (a diagonal pair is one region)', () => {
  // 3x3 mask with a diagonal pair (one 8-connected region of area 2) scored .9 and 0; 7 normals at 0.
  const mask = new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 0]);
  const map = new Float32Array([0.9, 0, 0, 0, 0, 0, 0, 0, 0]);
  // 8-conn: one region, PRO jumps to 1/2 at .9 then to 1 with FPR 1 at 0.
  //   segment (0, 1/2) -> (1, 1) interpolated at .3: y = 0.5 + 0.5*0.3 = 0.65; area = .3*(.5+.65)/2 = .1725
  //   normalised .575. With 4-conn there are two regions: the same curve (1/2 then 1), so compare
  //   region counts instead.
  const r8 = proDetailed([map], [mask], { width: 3 });
  assert.equal(r8.regions, 1);
  assert.ok(Math.abs(r8.pro - 0.575) < 1e-12);
  assert.equal(proDetailed([map], [mask], { width: 3, connectivity: 4 }).regions, 2);
});

test('pixel AUROC matches image-level AUROC of the pooled pixels; histogram within its bound', () => {
  // hand: pixels of MAP/MASK: pos {.9,.5,.2,.6}; neg {.7,.4, 0 x10}
  // .9 beats 12; .6 beats 11; .5 beats 11; .2 beats 10 -> 44 / 48
  assert.ok(Math.abs(pixelAuroc([MAP], [MASK]) - 44 / 48) < 1e-12);

  const r = rng(3);
  const maps: Float32Array[] = [];
  const masks: Uint8Array[] = [];
  const all: number[] = [];
  const lab: number[] = [];
  for (let i = 0; i < 4; i++) {
    const m = new Float32Array(32 * 32);
    const k = new Uint8Array(32 * 32);
    for (let p = 0; p < m.length; p++) {
      k[p] = r() < 0.1 ? 1 : 0;
      m[p] = Math.fround(Math.round((r() + 0.4 * k[p]!) * 1000) / 1000); // ties on a 1e-3 grid
      all.push(m[p]!);
      lab.push(k[p]!);
    }
    maps.push(m);
    masks.push(k);
  }
  const exact = pixelAurocDetailed(maps, masks, { method: 'exact' });
  assert.ok(Math.abs(exact.auroc - auroc(all, lab)) < 1e-12);
  assert.equal(exact.errorBound, 0);
  const hist = pixelAurocDetailed(maps, masks, { method: 'histogram', bins: 64 });
  assert.equal(hist.method, 'histogram');
  assert.ok(hist.errorBound > 0 && hist.errorBound < 0.05, `bound ${hist.errorBound}`);
  assert.ok(Math.abs(hist.auroc - exact.auroc) <= hist.errorBound + 1e-12);
  assert.notEqual(hist.auroc, exact.auroc);
  // 'auto' switches to the histogram above exactLimit
  assert.equal(pixelAurocDetailed(maps, masks, { exactLimit: 100 }).method, 'histogram');
  // with as many bins as the 1e-3 grid the histogram is exact
  const fine = pixelAurocDetailed(maps, masks, { method: 'histogram', bins: 2 ** 16 });
  assert.ok(Math.abs(fine.auroc - exact.auroc) <= fine.errorBound + 1e-12);

  // PRO: the packed-key exact path (Float32 maps) and the binary-search exact path (other arrays)
  // agree; the histogram is within its bound of the exact value
  const pe = proDetailed(maps, masks, { width: 32, method: 'exact' });
  const pe64 = proDetailed(maps.map((m) => Float64Array.from(m)), masks, { width: 32, method: 'exact' });
  assert.ok(Math.abs(pe.pro - pe64.pro) < 1e-12, `${pe.pro} vs ${pe64.pro}`);
  assert.deepEqual(Array.from(pe.thresholds), Array.from(pe64.thresholds));
  const ph = proDetailed(maps, masks, { width: 32, method: 'histogram', bins: 32 });
  assert.ok(ph.errorBound > 0);
  assert.ok(Math.abs(ph.pro - pe.pro) <= ph.errorBound + 1e-12, `${ph.pro} vs ${pe.pro} bound ${ph.errorBound}`);
  // thresholds of histogram points are real scores: flagging score >= t gives the point's FPR
  const k = 3;
  const t = ph.thresholds[k]!;
  let fp = 0;
  let normals = 0;
  maps.forEach((m, i) => m.forEach((v, p) => {
    if (masks[i]![p] === 0) {
      normals++;
      if (v >= t) fp++;
    }
  }));
  assert.ok(Math.abs(ph.fprs[k]! - fp / normals) < 1e-12);
});

test('pixel metric input errors name the field', () => {
  const m = new Float32Array(4);
  throwsVigil(() => pixelAuroc([m], [new Uint8Array([0, 1, 0])]), 'E_SHAPE', /^masks\[0\]: has 3 pixels but maps\[0\] has 4/);
  throwsVigil(() => pixelAuroc([m, m], [new Uint8Array(4)]), 'E_SHAPE', /^masks: has 1 masks but maps has 2/);
  throwsVigil(() => pixelAuroc([new Float32Array([0, NaN, 0, 0])], [new Uint8Array([0, 1, 0, 0])]), 'E_VALUE', /^maps\[0\]: pixel 1 is NaN/);
  throwsVigil(() => pixelAuroc([m], [new Uint8Array([0, 255, 0, 0])]), 'E_VALUE', /^masks\[0\]: pixel 1 is 255/);
  throwsVigil(() => pixelAuroc([m], [new Uint8Array(4)]), 'E_VALUE', /^masks: all 4 pixels are 0/);
  throwsVigil(() => pixelAuroc([], []), 'E_EMPTY', /^maps/);
  throwsVigil(() => pro([m], [new Uint8Array(4)], { width: 2 }), 'E_VALUE', /^masks: no anomalous region/);
  throwsVigil(() => pro([m], [new Uint8Array([1, 0, 0, 0])], { width: 3 }), 'E_SHAPE', /^maps\[0\]: has 4 pixels/);
  throwsVigil(() => pro([m], [new Uint8Array([1, 0, 0, 0])], { width: 2, maxFpr: 0 }), 'E_CONFIG', /^maxFpr/);
  throwsVigil(() => pixelAuroc([m], [new Uint8Array([1, 0, 0, 0])], { method: 'histogram', bins: 1 }), 'E_CONFIG', /^bins/);
});
