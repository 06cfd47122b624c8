/** Hot reload: new models swap in while requests keep flowing; a bad folder leaves the old ones running. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { imageModelDir, pngImage, points, postJson, seriesModelDir, startService } from './helpers.js';

test('POST /admin/reload swaps models without dropping requests; streams keep their state; a corrupt model is refused', async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'vigil-reload-'));
  const imgDir = path.join(work, 'img');
  await cp(await imageModelDir(), imgDir, { recursive: true });
  const s = await startService({ models: [{ id: 'img', dir: imgDir }, { id: 'ts', dir: await seriesModelDir() }] });
  try {
    const warm = await postJson(s.url + '/api/v1/models/ts/points', { points: points('r', 40) });
    assert.equal(warm.status, 200);
    const oldImg = s.svc.models.get('img');
    const png = await pngImage('noise');

    // Requests in flight while two reloads happen.
    const imageCalls = Array.from({ length: 24 }, (_, i) =>
      fetch(s.url + `/api/v1/models/img/image?id=r${i}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png }).then((r) => r.status),
    );
    const pointCalls = Array.from({ length: 6 }, (_, i) => postJson(s.url + '/api/v1/models/ts/points', { points: points('r', 10, undefined, 40 + i * 10) }));
    const reloads = [postJson(s.url + '/admin/reload', {}), new Promise((r) => setTimeout(r, 5)).then(() => postJson(s.url + '/admin/reload', {}))];
    const [statuses, pointResults, reloadResults] = await Promise.all([Promise.all(imageCalls), Promise.all(pointCalls), Promise.all(reloads)]);
    assert.deepEqual([...new Set(statuses)], [200], 'every image request was answered');
    assert.deepEqual([...new Set(pointResults.map((r) => r.status))], [200], 'every points request was answered');
    for (const r of reloadResults) assert.equal(r.status, 200, JSON.stringify(r.body));
    const generation = s.svc.models.get('img').generation;
    assert.ok(generation >= 2, `generation ${generation}`);
    assert.equal(oldImg.isDisposed, true, 'the old detector is disposed once its requests finished');
    assert.equal(pointResults.reduce((n, r) => n + r.body.accepted, 0), 60, 'all 60 points were scored (none skipped, none lost)');

    // The stream carried over: the first point after the reload is scored without a new warm-up.
    const after = await postJson(s.url + '/api/v1/models/ts/points', { points: points('r', 1, undefined, 100) });
    assert.notEqual(after.body.results[0].score, null);

    // A corrupt model folder: the reload fails (4xx naming the problem) and the running models stay.
    await writeFile(path.join(imgDir, 'manifest.json'), '{ not json');
    const bad = await postJson(s.url + '/admin/reload', {});
    assert.equal(bad.status, 422, JSON.stringify(bad.body));
    assert.equal(bad.body.error.code, 'E_MODEL_CORRUPT');
    assert.equal(s.svc.models.get('img').generation, generation);
    const still = await fetch(s.url + '/api/v1/models/img/image', { method: 'POST', headers: { 'content-type': 'image/png' }, body: png });
    assert.equal(still.status, 200);
  } finally {
    await s.stop();
    await rm(work, { recursive: true, force: true });
  }
});

test('after a graceful restart a stream resumes without a new warm-up (scorer states are saved in the store)', async () => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'vigil-resume-'));
  const storeFile = path.join(work, 'store.db');
  try {
    const a = await startService({ models: [{ id: 'ts', dir: await seriesModelDir() }], storeFile });
    const first = await postJson(a.url + '/api/v1/models/ts/points', { points: points('keep', 50) });
    assert.equal(first.body.results[0].score, null, 'a new stream warms up');
    await a.stop();
    const b = await startService({ models: [{ id: 'ts', dir: await seriesModelDir() }], storeFile });
    try {
      const retry = await postJson(b.url + '/api/v1/models/ts/points', { points: points('keep', 51) });
      assert.equal(retry.body.skipped, 50, 'the restored stream still knows its last timestamp');
      assert.notEqual(retry.body.results[50].score, null, 'and scores at once');
    } finally {
      await b.stop();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
