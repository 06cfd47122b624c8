/** `vigil replay`: pacing, batching, idempotent re-runs, model selection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../../src/core/errors.js';
import { runReplay } from '../../src/cli/commands/replay.js';
import { imageModelDir, normalSignal, seriesModelDir, startService } from './helpers.js';

test('replay streams a CSV at speed x real time in batches; a second run is skipped as already seen', async () => {
  const s = await startService({ models: [{ id: 'img', dir: await imageModelDir() }, { id: 'ts', dir: await seriesModelDir() }] });
  try {
    const csv = path.join(s.dir, 'nyc_taxi.csv');
    const lines = ['timestamp,value'];
    for (let i = 0; i < 60; i++) lines.push(`2014-07-01 00:${String(i).padStart(2, '0')}:00,${normalSignal(i).toFixed(4)}`);
    await writeFile(csv, lines.join('\n') + '\n');
    const out: string[] = [];
    const t0 = Date.now();
    // 59 minutes of data at 3540x real time: one second.
    const r = await runReplay(csv, { to: s.url, speed: 3540, batchMs: 100 }, (l) => out.push(l));
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 5000, `paced to about one second (took ${took} ms)`);
    assert.equal(r.model, 'ts', 'the only series model is picked');
    assert.equal(r.stream, 'nyc_taxi', 'the stream is named after the file');
    assert.equal(r.sent, 60);
    assert.equal(r.accepted, 60);
    assert.ok(r.batches >= 5, `${r.batches} batches`);
    const summary = JSON.parse(out.at(-1)!);
    assert.equal(summary.type, 'summary');
    assert.equal(summary.accepted, 60);
    const stream = (await (await fetch(s.url + '/api/v1/streams')).json()) as any;
    assert.equal(stream.streams.find((x: any) => x.stream === 'nyc_taxi').points, 60);

    const again = await runReplay(csv, { to: s.url, speed: 0, batchMs: 100 }, () => undefined);
    assert.equal(again.accepted, 0);
    assert.equal(again.skipped, 60);

    await assert.rejects(runReplay(csv, { to: s.url, speed: 0, batchMs: 100, model: 'img' }, () => undefined), (e: unknown) => e instanceof VigilError && /not a time-series model/.test(e.message));
    await assert.rejects(runReplay(csv, { to: 'ftp://x', speed: 0, batchMs: 100 }, () => undefined), (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG');
  } finally {
    await s.stop();
  }
});
