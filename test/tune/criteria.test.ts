import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getDetectorFactory } from '../../src/core/detector.js';
import type { ImageSample, Series } from '../../src/core/types.js';
import type { TableRow } from '../../src/data/tables.js';
import { createRng } from '../../src/data/random.js';
import { renderTexture, textureStyle } from '../../src/data/synthetic.js';
import '../../src/models/index.js';
import { evaluateTrial, pairedWinRate, separation, type SelectionSet } from '../../src/tune/criteria.js';
import { cutPaste, holdOut, injectSeriesAnomaly, rotated, syntheticAnomalies, visibleDefect } from '../../src/tune/synthetic.js';
import { chooseThreshold, crossFittedF1, f1At, labelFreeThreshold } from '../../src/tune/threshold-choice.js';

function textures(n: number, seed: number): ImageSample[] {
  const rng = createRng(seed);
  const style = textureStyle('weave', rng);
  return Array.from({ length: n }, (_, i) => ({ image: renderTexture(style, 32, rng), source: `normal-${i}` }));
}

test('label-free criterion: a well-trained model ranks clearly above a broken one on generated textures', async () => {
  const { train, heldOut } = holdOut('image', textures(120, 4), { fraction: 0.3, seed: 1 });
  assert.equal(heldOut.length, 36);
  const synthetic = syntheticAnomalies('image', heldOut, 1);
  assert.equal(synthetic.length, heldOut.length);
  assert.ok(synthetic.every((s) => s.label === 1 && s.mask!.some((v) => v > 0)));
  assert.deepEqual([...new Set(synthetic.map((s) => s.category))].sort(), ['synthetic-defect', 'synthetic-rotate']);
  const set: SelectionSet<ImageSample> = { mode: 'label-free', metric: 'auroc', normal: heldOut, synthetic, labelled: [], labelledLabels: [], stepLevel: false };
  const base = { height: 32, width: 32, depth: 2, filters: 8, latent: 16, batchSize: 16, seed: 3 };
  const judge = async (cfg: Record<string, unknown>) => {
    const d = getDetectorFactory('conv-ae').create({ ...base, ...cfg });
    try {
      await d.fit(train);
      return await evaluateTrial(d, set);
    } finally {
      d.dispose();
    }
  };
  const good = await judge({ epochs: 6, learningRate: 3e-3, aggregate: 'topk', topk: 0.02 });
  // Broken: a learning rate so small that one epoch leaves the network at its random start.
  const broken = await judge({ epochs: 1, learningRate: 1e-7 });
  // The default synthetic set alternates planted defects and turned images (the weave's direction changes).
  assert.ok(good.metrics['auroc:defect']! > 0.95, `good model: AUROC on planted defects ${good.metrics['auroc:defect']}`);
  assert.ok(broken.metrics['auroc:defect']! < 0.8, `broken model: AUROC on planted defects ${broken.metrics['auroc:defect']}`);
  assert.ok(good.criterion > broken.criterion + 0.15, `good ${good.criterion.toFixed(3)} vs broken ${broken.criterion.toFixed(3)}`);
  assert.ok(good.tieBreak > broken.tieBreak, 'and a wider separation');
  assert.equal(good.ranked.scores.length, 72);
});

test('synthetic image anomalies: defects stay visible on black, cut-paste moves a patch, turns keep every pixel', () => {
  const rng = createRng(6);
  const black = { height: 28, width: 28, channels: 1 as const, data: new Float32Array(28 * 28) };
  for (let k = 0; k < 20; k++) {
    const d = visibleDefect(black, rng);
    const onMask = Array.from(d.mask).reduce((s, m, i) => s + (m ? d.image.data[i]! : 0), 0) / d.mask.reduce((a, b) => a + b, 0);
    assert.ok(onMask >= 0.05, `${d.kind} on black is visible (mean ${onMask})`);
  }
  const img = textures(1, 2)[0]!.image;
  for (let k = 0; k < 20; k++) {
    const c = cutPaste(img, rng);
    const area = c.mask.reduce((a, b) => a + b, 0) / (32 * 32);
    assert.ok(area >= 0.01 && area <= 0.2, `patch area ${area}`);
    for (let i = 0; i < img.data.length; i++) if (!c.mask[i]) assert.equal(c.image.data[i], img.data[i]);
    const r = rotated(img, rng);
    assert.deepEqual(Array.from(r.image.data).sort(), Array.from(img.data).sort());
    assert.ok(r.mask.every((m) => m === 1));
  }
});

test('synthetic table rows: alternately out of range and with features swapped in from another row', () => {
  const rng = createRng(12);
  const rows: TableRow[] = Array.from({ length: 50 }, (_, i) => {
    const x = rng.normal();
    return { source: `t#${i}`, values: Float32Array.from([x, 2 * x, rng.normal(), -x, rng.normal()]) };
  });
  const made = syntheticAnomalies('table', rows, 3);
  assert.equal(made.length, rows.length);
  made.forEach((m, i) => {
    assert.equal(m.label, 1);
    const changed = Array.from(m.values).flatMap((v, j) => (v !== rows[i]!.values[j] ? [j] : []));
    if (i % 2 === 0) assert.ok(changed.length === 1 && Math.abs(m.values[changed[0]!]!) > 2, `row ${i}: one feature moved far out (${m.values[changed[0]!]})`);
    else assert.ok(m.source.endsWith('+swapped') && changed.length <= 2);
  });
});

test('separation and paired win rate', () => {
  assert.equal(separation([1, 3], [4, 6]), 3); // (5 - 2) / 1
  assert.equal(pairedWinRate([1, 2, 3, 4], [2, 2, 1, 5]), (1 + 0.5 + 0 + 1) / 4);
  // Several copies per original: copy i pairs with original i mod n.
  assert.equal(pairedWinRate([1, 5], [2, 4, 0, 6]), 0.5);
});

test('series selection data: held-out tails cut into chunks; spikes and level shifts are labelled where planted', () => {
  const T = 1200;
  const s: Series = {
    source: 'sine',
    columns: ['a', 'b'],
    timestamps: Float64Array.from({ length: T }, (_, t) => t),
    values: Float32Array.from({ length: T * 2 }, (_, k) => Math.sin((Math.floor(k / 2) / 20) * (1 + (k % 2)))),
    length: T,
    channels: 2,
  };
  const { train, heldOut } = holdOut('series', [s], { fraction: 0.25, seed: 0, chunk: 128 });
  assert.equal(train[0]!.length, 900);
  assert.deepEqual(heldOut.map((h) => h.length), [128, 172]);
  const copies = syntheticAnomalies('series', heldOut, 1);
  assert.equal(copies.length, 4 * heldOut.length, 'four altered copies per chunk');
  assert.ok(copies.every((c, i) => c.length === heldOut[i % heldOut.length]!.length && c.labels!.some((l) => l === 1)));
  const rng = createRng(3);
  for (const kind of ['spike', 'level-shift'] as const) {
    const a = injectSeriesAnomaly(heldOut[0]!, rng, kind);
    const changed: number[] = [];
    for (let t = 0; t < a.length; t++) if (a.values[2 * t] !== heldOut[0]!.values[2 * t] || a.values[2 * t + 1] !== heldOut[0]!.values[2 * t + 1]) changed.push(t);
    const labelled = Array.from(a.labels!).flatMap((l, t) => (l ? [t] : []));
    assert.deepEqual(changed, labelled, `${kind}: labels mark exactly the changed steps`);
    assert.ok(kind === 'spike' ? labelled.length <= 3 : labelled.length >= 16);
  }
});

test('threshold choice: label-free candidates judged by F1; F1-optimal only with enough labels, cross-fitted', () => {
  const rng = createRng(9);
  const validation = Array.from({ length: 400 }, () => rng.normal());
  const normal = Array.from({ length: 100 }, () => rng.normal());
  const anomalous = Array.from({ length: 20 }, () => 3 + rng.normal());
  const ranked = { scores: [...normal, ...anomalous], labels: [...normal.map(() => 0), ...anomalous.map(() => 1)] };
  const free = chooseThreshold({ validationScores: validation, ranked, labelled: false });
  assert.ok(free.candidates.length >= 5 && free.candidates.every((c) => c.choice.method !== 'f1'));
  const best = Math.max(...free.candidates.map((c) => c.f1));
  assert.equal(free.f1, best);
  assert.equal(f1At(ranked.scores, ranked.labels, labelFreeThreshold(free.choice, validation)), free.f1);
  const withLabels = chooseThreshold({ validationScores: validation, ranked, labelled: true });
  assert.ok(withLabels.candidates.some((c) => c.choice.method === 'f1'));
  assert.ok(crossFittedF1(ranked) > 0.5 && crossFittedF1(ranked) <= 1);
  // A method the user fixes is used as given.
  const fixed = chooseThreshold({ validationScores: validation, ranked, labelled: false, fixed: { method: 'false-alarm-rate', rate: 10, per: 'thousand' } });
  assert.equal(fixed.choice.method, 'false-alarm-rate');
  assert.equal(fixed.candidates.length, 1);
});
