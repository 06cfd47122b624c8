import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getDetectorFactory, loadDetector } from '../../src/core/detector.js';
import { VigilError } from '../../src/core/errors.js';
import { createRng } from '../../src/data/random.js';
import type { TableRow } from '../../src/data/tables.js';
import { auroc } from '../../src/metrics/index.js';
import '../../src/models/index.js';
import { tableAdapter } from '../../src/pipeline/table-input.js';

const COLUMNS = ['a', 'b', 'c', 'd', 'e', 'f'];

/** Rows on a 2-D linear manifold in 6-D; outliers break one relation (feature `f` = 2x - y). */
function rows(n: number, outliers: number, seed: number): TableRow[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const x = rng.normal();
    const y = rng.normal();
    const v = [x, y, x + y, x - y, x + 2 * y, 2 * x - y].map((u) => u + 0.05 * rng.normal());
    const out = i < outliers;
    if (out) v[5] += (rng.bool() ? 1 : -1) * (3 + rng.next());
    return { source: `r${i}`, columns: COLUMNS, values: Float32Array.from(v), label: out ? 1 : 0 };
  });
}

const CFG = { hidden: [16], latent: 2, epochs: 40, seed: 2 };

test('tabular-ae separates planted outliers and names the broken feature', async () => {
  const det = getDetectorFactory('tabular-ae').create(CFG);
  try {
    await det.fit(rows(800, 0, 1));
    const testRows = rows(400, 40, 2);
    const before = tf.memory().numTensors;
    const results = await det.score(testRows);
    assert.equal(tf.memory().numTensors, before, 'scoring leaks no tensor');
    const a = auroc(results.map((r) => r.score), testRows.map((r) => r.label!));
    assert.ok(a > 0.95, `AUROC ${a.toFixed(3)}`);
    // The outliers broke feature f: it tops their contributions.
    const named = results.slice(0, 40).filter((r) => r.reason!.top![0]!.name === 'f').length;
    assert.ok(named >= 32, `f tops ${named} of 40 outliers`);
    assert.deepEqual(det.summary().input.columns, COLUMNS);
    assert.ok(det.postprocess.threshold! > 0);
  } finally {
    det.dispose();
  }
});

test('trimmed training and labelled anomalies (semi-supervised); save/load round trip is exact', async () => {
  const det = getDetectorFactory('tabular-ae').create({ ...CFG, trim: 0.1 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-tabular-'));
  try {
    const train = rows(800, 60, 3);
    const normal = train.filter((r) => r.label === 0);
    const anomalies = train.filter((r) => r.label === 1);
    await det.fit(normal, { anomalies });
    const testRows = rows(300, 30, 4);
    const scores = (await det.score(testRows)).map((r) => r.score);
    assert.ok(auroc(scores, testRows.map((r) => r.label!)) > 0.95);
    await det.save(dir);
    assert.ok(existsSync(path.join(dir, 'encoder.onnx')) && existsSync(path.join(dir, 'decoder.onnx')), 'scored on ONNX Runtime: the exports are saved');
    const loaded = await loadDetector<TableRow>(dir);
    try {
      assert.deepEqual((await loaded.score(testRows)).map((r) => r.score), scores);
      assert.equal(loaded.postprocess.threshold, det.postprocess.threshold);
    } finally {
      loaded.dispose();
    }
  } finally {
    det.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad rows: wrong length, NaN; CSV input through the table adapter with a label column', async () => {
  const det = getDetectorFactory('tabular-ae').create({ ...CFG, epochs: 2 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-tabular-csv-'));
  try {
    await det.fit(rows(200, 0, 5));
    await assert.rejects(det.score([{ source: 'x.csv#3', values: Float32Array.of(1, 2) }]), (e: VigilError) => e.code === 'E_SHAPE' && /x\.csv#3: 2 feature\(s\), the model takes 6/.test(e.message));
    await assert.rejects(det.score([{ source: 'x.csv#4', values: Float32Array.of(1, 2, Number.NaN, 4, 5, 6) }]), (e: VigilError) => e.code === 'E_VALUE' && /feature "c" is NaN/.test(e.message));

    const file = path.join(dir, 'data.csv');
    await writeFile(file, `${COLUMNS.join(',')},label\n${rows(50, 5, 6).map((r) => `${Array.from(r.values).join(',')},${r.label}`).join('\n')}\n`);
    const train = await tableAdapter.loadTrain(file, det.summary().input);
    assert.equal(train.normal.length, 45);
    assert.equal(train.anomalies.length, 5);
    assert.equal(train.layout, 'labelled table');
    const scored = await tableAdapter.loadTest(file, det.summary().input);
    assert.equal(scored[0]!.source, `${file}#1`);
    // Columns in another order are read in the model's order; a missing one is named.
    await writeFile(path.join(dir, 'reordered.csv'), `f,e,d,c,b,a\n6,5,4,3,2,1\n`);
    const [r] = await tableAdapter.loadForScoring(path.join(dir, 'reordered.csv'), det.summary().input);
    assert.deepEqual(Array.from(r!.values), [1, 2, 3, 4, 5, 6]);
    await writeFile(path.join(dir, 'short.csv'), `a,b,c\n1,2,3\n`);
    await assert.rejects(tableAdapter.loadForScoring(path.join(dir, 'short.csv'), det.summary().input), (e: VigilError) => e.code === 'E_SHAPE' && /missing column\(s\) "d", "e", "f"/.test(e.message));
  } finally {
    det.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});
