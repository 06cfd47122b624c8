import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VigilError } from '../../src/core/errors.js';
import type { Series } from '../../src/core/types.js';
import type { SeriesScoreResult } from '../../src/data/series.js';
import { evaluateSeries, seriesAdapter, seriesLoadNotes, seriesStepLines } from '../../src/pipeline/series-input.js';
import { PostProcessor } from '../../src/scoring/postprocess.js';

function csv(rows: number, f: (t: number) => string, header = 'timestamp,cpu,mem'): string {
  const lines = [header];
  for (let t = 0; t < rows; t++) lines.push(`${new Date(Date.UTC(2021, 0, 1) + t * 60_000).toISOString()},${f(t)}`);
  return lines.join('\n') + '\n';
}

test('series adapter: a CSV file, a folder, a NAB-style corpus; model columns; short series refused', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-series-input-'));
  try {
    const one = path.join(dir, 'a.csv');
    await writeFile(one, csv(40, (t) => `${t},${t === 5 ? '' : 2 * t}`));
    const input = { window: 16, columns: [], timestampColumn: null, missing: 'ffill' };
    const train = await seriesAdapter.loadTrain(one, input);
    assert.equal(train.layout, 'csv');
    assert.equal(train.normal.length, 1);
    assert.deepEqual(train.normal[0]!.columns, ['cpu', 'mem']);
    assert.deepEqual(seriesLoadNotes(train.normal[0]!.load!), [`${one}: 1 missing value(s) forward-filled (mem: 1)`]);
    // The model's columns pick and order what is read; a missing one is named.
    const [memOnly] = await seriesAdapter.loadForScoring(one, { ...input, columns: ['mem'] });
    assert.deepEqual(memOnly!.columns, ['mem']);
    await assert.rejects(seriesAdapter.loadForScoring(one, { ...input, columns: ['disk'] }), (e: VigilError) => e.code === 'E_SHAPE' && /no value column "disk"/.test(e.message));
    await assert.rejects(seriesAdapter.loadForScoring(one, { ...input, window: 64 }), (e: VigilError) => e.code === 'E_SHAPE' && /40 row\(s\), fewer than the model's window of 64/.test(e.message));
    await assert.rejects(seriesAdapter.loadTest(one, input), (e: VigilError) => e.code === 'E_VALUE' && /no label column/.test(e.message));

    const folder = path.join(dir, 'folder');
    await mkdir(folder);
    await writeFile(path.join(folder, 'x.csv'), csv(30, (t) => `${t},${t},${t > 20 ? 1 : 0}`, 'timestamp,cpu,mem,label'));
    await writeFile(path.join(folder, 'y.csv'), csv(30, (t) => `${t},${t},0`, 'timestamp,cpu,mem,label'));
    const labelled = await seriesAdapter.loadTest(folder, input);
    assert.equal(labelled.length, 2);
    assert.equal(labelled[0]!.labels!.reduce((a, b) => a + b, 0), 9);

    const nab = path.join(dir, 'nab');
    await mkdir(path.join(nab, 'data', 'g'), { recursive: true });
    await mkdir(path.join(nab, 'labels'));
    await writeFile(path.join(nab, 'data', 'g', 's.csv'), 'timestamp,value\n' + Array.from({ length: 100 }, (_, t) => `2021-01-01 ${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}:00,${t}`).join('\n') + '\n');
    await writeFile(path.join(nab, 'labels', 'combined_windows.json'), JSON.stringify({ 'g/s.csv': [['2021-01-01 01:00:00.000000', '2021-01-01 01:09:00.000000']] }));
    const nabTrain = await seriesAdapter.loadTrain(nab, { ...input, window: 8 });
    assert.equal(nabTrain.layout, 'nab (probationary rows)');
    assert.equal(nabTrain.normal[0]!.length, 15, 'only the probationary 15%');
    const nabTest = await seriesAdapter.loadTest(nab, { ...input, window: 8 });
    assert.equal(nabTest[0]!.length, 100);
    assert.equal(nabTest[0]!.labels!.reduce((a, b) => a + b, 0), 10);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('per-step lines and per-step evaluation figures of a scored series', () => {
  const T = 50;
  const labels = new Uint8Array(T);
  for (let t = 30; t < 35; t++) labels[t] = 1;
  const series: Series = { source: 's.csv', columns: ['cpu', 'mem'], timestamps: Float64Array.from({ length: T }, (_, t) => Date.UTC(2021, 0, 1) + t * 60_000), values: new Float32Array(T * 2), length: T, channels: 2, labels };
  const stepChannels = new Float32Array(T * 2);
  for (let t = 0; t < T; t++) {
    stepChannels[t * 2] = 0.1 + 0.01 * (t % 7);
    stepChannels[t * 2 + 1] = labels[t] ? 3 : 0.05;
  }
  const values = Float32Array.from({ length: T }, (_, t) => (stepChannels[t * 2]! + stepChannels[t * 2 + 1]!) / 2);
  const result: SeriesScoreResult = { score: 1.55, map: { height: 1, width: T, values }, stepChannels, columns: ['cpu', 'mem'], peakStep: 30, reason: { summary: '' } };
  const post = new PostProcessor();
  post.fitNormal(Array.from(values.subarray(0, 30)), { method: 'quantile', fpr: 0.01, risk: 0.001 });
  const lines = seriesStepLines(series, result, post, 1);
  assert.equal(lines.length, T);
  assert.equal(lines[31]!.timestamp, '2021-01-01T00:31:00.000Z');
  assert.equal(lines[31]!.anomalous, true);
  assert.equal(lines[31]!.top.length, 1);
  assert.equal(lines[31]!.top[0]!.name, 'mem');
  assert.ok(Math.abs(lines[31]!.top[0]!.contribution - 3 / (3 + 0.1 + 0.01 * (31 % 7))) < 1e-6);
  assert.equal(lines[31]!.label, 1);
  assert.equal(lines[3]!.anomalous, false);

  const e = evaluateSeries([series], [result], 1);
  assert.equal(e.steps, T);
  assert.equal(e.anomalousSteps, 5);
  assert.equal(e.segments, 1);
  assert.equal(e.auroc, 1);
  assert.equal(e.pointwise.f1, 1);
  assert.equal(e.pointAdjusted.f1, 1);
  assert.equal(e.range.f1, 1);
  assert.ok(e.nab !== null && e.nab.standard > 90);
  const unlabelled = { ...series, labels: undefined };
  assert.throws(() => evaluateSeries([unlabelled], [result], 1), (err: VigilError) => err.code === 'E_VALUE');
});
