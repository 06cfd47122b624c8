/**
 * The HTTP API over real HTTP on 127.0.0.1 (ephemeral port): valid, invalid, oversized and
 * unauthorised requests, and that nothing a client sends takes the service down.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { base64, getJson, imageModelDir, pngImage, points, postJson, seriesModelDir, startService, tableModelDir, type TestService } from './helpers.js';

const KEY = 'test-key-123456';
const auth = { 'x-api-key': KEY };
let s: TestService;

before(async () => {
  s = await startService({ models: [{ id: 'img', dir: await imageModelDir() }, { id: 'ts', dir: await seriesModelDir() }, { id: 'tab', dir: await tableModelDir() }], apiKey: KEY });
});
after(async () => {
  await s?.stop();
});

async function rawPost(path: string, body: Uint8Array<ArrayBuffer> | string, contentType: string, headers: Record<string, string> = auth) {
  const res = await fetch(s.url + path, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function assertError(r: { status: number; body: any }, status: number, code: string, field?: string | RegExp) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error.code, code, JSON.stringify(r.body));
  assert.equal(typeof r.body.error.message, 'string');
  if (typeof field === 'string') assert.equal(r.body.error.field, field, JSON.stringify(r.body));
  else if (field) assert.match(r.body.error.field, field);
}

test('health, models and metrics are served', async () => {
  const h = await getJson(s.url + '/healthz');
  assert.equal(h.status, 200);
  assert.equal(h.body.status, 'ok');
  const m = await getJson(s.url + '/api/v1/models');
  assert.deepEqual(m.body.models.map((x: any) => [x.id, x.kind, x.inputKind]), [['img', 'conv-ae', 'image'], ['ts', 'conv1d-ae', 'series'], ['tab', 'tabular-ae', 'table']]);
  assert.ok(m.body.models[0].threshold > 0);
  assert.ok(m.body.models[0].training.history.length >= 1, 'training history for the dashboard');
  assertError(await getJson(s.url + '/api/v1/models/nope'), 404, 'E_NOT_FOUND', 'model');
  const metrics = await fetch(s.url + '/metrics');
  assert.match(metrics.headers.get('content-type')!, /text\/plain/);
  const text = await metrics.text();
  for (const name of ['vigil_http_requests_total', 'vigil_http_request_duration_seconds_bucket', 'vigil_queue_depth', 'vigil_alarms_total', 'vigil_score_normalized']) assert.ok(text.includes(name), name);
});

test('images: one raw PNG, a JSON base64 batch, heat-map links that resolve', async () => {
  const one = await rawPost('/api/v1/models/img/image?stream=cam-1&id=part-7', await pngImage('flat'), 'image/png');
  assert.equal(one.status, 200, JSON.stringify(one.body));
  const r = one.body.results[0];
  assert.equal(r.id, 'part-7');
  assert.equal(r.stream, 'cam-1');
  assert.ok(Number.isFinite(r.score) && r.threshold > 0 && typeof r.anomalous === 'boolean');
  assert.ok(r.reason.summary.length > 0);
  const png = await fetch(s.url + r.heatmap);
  assert.equal(png.status, 200);
  assert.equal(png.headers.get('content-type'), 'image/png');
  assert.deepEqual([...new Uint8Array(await png.arrayBuffer()).subarray(1, 4)], [0x50, 0x4e, 0x47]);

  const batch = await postJson(s.url + '/api/v1/models/img/images', { images: [{ data: base64(await pngImage('flat')), id: 'a' }, { data: base64(await pngImage('noise')), id: 'b', stream: 'cam-2' }] }, auth);
  assert.equal(batch.status, 200, JSON.stringify(batch.body));
  assert.deepEqual(batch.body.results.map((x: any) => [x.id, x.stream]), [['a', 'images'], ['b', 'cam-2']]);
  assert.ok(batch.body.results[1].score > batch.body.results[0].score, 'noise scores higher than the flat image');
  const recent = await getJson(s.url + '/api/v1/images/recent');
  assert.deepEqual(recent.body.images.slice(0, 3).map((x: any) => x.id), ['b', 'a', 'part-7']);
  assertError(await getJson(s.url + '/api/v1/heatmaps/nope.png'), 404, 'E_NOT_FOUND');
});

test('time series: JSON and NDJSON, several streams per request, retries skipped, history stored', async () => {
  const body = { points: [...points('s-a', 60), ...points('s-b', 60)] };
  const r = await postJson(s.url + '/api/v1/models/ts/points', body, auth);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.accepted, 120);
  assert.equal(r.body.results.length, 120);
  assert.equal(r.body.results[0].score, null, 'no score before the first window is full');
  const last = r.body.results[59];
  assert.ok(Number.isFinite(last.score) && last.normalized >= 0 && last.normalized <= 1 && typeof last.anomalous === 'boolean', JSON.stringify(last));
  assert.deepEqual(last.reason.top.map((c: any) => c.name), ['value'], 'per-channel contributions');

  const nd = points('s-a', 20, undefined, 60).map((p) => JSON.stringify(p)).join('\n') + '\n';
  const r2 = await rawPost('/api/v1/models/ts/points', nd, 'application/x-ndjson');
  assert.equal(r2.status, 200, JSON.stringify(r2.body));
  assert.equal(r2.body.accepted, 20);

  const retry = await rawPost('/api/v1/models/ts/points', nd, 'application/x-ndjson');
  assert.equal(retry.body.accepted, 0);
  assert.equal(retry.body.skipped, 20, 'a retried batch is not scored twice');

  const streams = await getJson(s.url + '/api/v1/streams');
  const sa = streams.body.streams.find((x: any) => x.stream === 's-a');
  assert.equal(sa.points, 80);
  const hist = await getJson(s.url + '/api/v1/streams/ts/s-a/history');
  assert.equal(hist.status, 200);
  assert.equal(hist.body.buckets.reduce((n: number, b: any) => n + b.count, 0), 80, 'every accepted point is counted in the history');
  assertError(await getJson(s.url + '/api/v1/streams/ts/unknown/history'), 404, 'E_NOT_FOUND', 'stream');
});

test('table rows: by position or by column name; the reason names the features', async () => {
  const R = '/api/v1/models/tab/rows';
  const r = await postJson(s.url + R, { rows: [{ values: [0.1, 0.2, 0.3, -0.1], id: 'ok' }, { values: { a: 0.5, b: 0.5, c: -3, d: 4 }, id: 'odd', stream: 'orders' }] }, auth);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.results.map((x: any) => [x.id, x.stream]), [['ok', 'rows'], ['odd', 'orders']]);
  assert.ok(r.body.results[1].score > r.body.results[0].score, 'the row that breaks c = a + b scores higher');
  assert.equal(r.body.results[1].anomalous, true);
  assert.equal(r.body.results[1].reason.top.length > 0, true);
  assert.ok(['c', 'd'].includes(r.body.results[1].reason.top[0].name), JSON.stringify(r.body.results[1].reason));
  assertError(await postJson(s.url + R, { rows: [{ values: [1, 2, 3] }] }, auth), 400, 'E_SHAPE', 'rows[0].values');
  assertError(await postJson(s.url + R, { rows: [{ values: { a: 1, b: 2, c: 3 } }] }, auth), 400, 'E_SHAPE', 'rows[0].values.d');
  assertError(await postJson(s.url + R, { rows: [{ values: { a: 1, b: 2, c: 3, d: 4, e: 5 } }] }, auth), 400, 'E_SHAPE', 'rows[0].values.e');
  assertError(await postJson(s.url + R, { rows: [{ values: [1, 2, 3, 'x'] }] }, auth), 400, 'E_VALIDATION', 'rows[0].values[3]');
  assertError(await postJson(s.url + R, { rows: [{ values: [1, 2, 3, 1e39] }] }, auth), 400, 'E_VALUE', 'rows[0].values[3]');
  assertError(await postJson(s.url + '/api/v1/models/ts/rows', { rows: [{ values: [1] }] }, auth), 400, 'E_UNSUPPORTED', 'model');
});

test('a spike raises an alarm with its reason; it can be acknowledged once', async () => {
  const r = await postJson(s.url + '/api/v1/models/ts/points', { points: points('s-spike', 260, undefined, 0, { from: 230, to: 240, add: 5 }) }, auth);
  assert.equal(r.status, 200);
  assert.ok(r.body.alarms.length >= 1, 'an alarm in the response');
  const a = r.body.alarms[0];
  assert.equal(a.stream, 's-spike');
  assert.ok(a.firedAt >= 1_700_000_000_000 + 230_000);
  assert.match(a.reason.summary, /normalized .* ≥ 0\.5/);
  assert.ok(['warning', 'major', 'critical'].includes(a.severity));
  assertError(await postJson(s.url + `/api/v1/alarms/${a.id}/ack`, { by: 'me' }), 401, 'E_AUTH');
  const ack = await postJson(s.url + `/api/v1/alarms/${a.id}/ack`, { by: 'me', note: 'looked at it' }, { authorization: `Bearer ${KEY}` });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  assert.equal(ack.body.created, true);
  assert.equal(ack.body.alarm.ack.by, 'me');
  const again = await postJson(s.url + `/api/v1/alarms/${a.id}/ack`, {}, auth);
  assert.equal(again.body.created, false);
  const one = await getJson(s.url + `/api/v1/alarms/${a.id}`);
  assert.equal(one.body.ack.note, 'looked at it');
  assertError(await postJson(s.url + '/api/v1/alarms/999999/ack', {}, auth), 404, 'E_NOT_FOUND', 'id');
  assertError(await postJson(s.url + '/api/v1/alarms/abc/ack', {}, auth), 400, 'E_VALIDATION', 'params.id');
  const open = await getJson(s.url + '/api/v1/alarms?unacked=true&stream=s-spike');
  assert.ok(open.body.alarms.every((x: any) => x.id !== a.id));
});

test('unauthorised requests get 401 before the body is read', async () => {
  assertError(await postJson(s.url + '/api/v1/models/ts/points', { points: points('x', 1) }), 401, 'E_AUTH');
  assertError(await postJson(s.url + '/api/v1/models/ts/points', { points: points('x', 1) }, { 'x-api-key': 'wrong-key-000' }), 401, 'E_AUTH');
  assertError(await rawPost('/api/v1/models/img/image', await pngImage(), 'image/png', { authorization: 'Bearer nope' }), 401, 'E_AUTH');
  assertError(await postJson(s.url + '/admin/reload', {}), 401, 'E_AUTH');
  assertError(await getJson(s.url + '/api/v1/dead-letters'), 401, 'E_AUTH');
  // A huge body from a client without the key is refused without being read.
  assertError(await rawPost('/api/v1/models/img/image', new Uint8Array(50 * 1024 * 1024), 'image/png', {}), 401, 'E_AUTH');
});

test('bad input is a 4xx naming the field, never a crash', async () => {
  const P = '/api/v1/models/ts/points';
  assertError(await rawPost(P, '{"points": [', 'application/json'), 400, 'E_DECODE');
  assertError(await rawPost(P, 'hello', 'text/plain'), 415, 'E_MEDIA_TYPE');
  assertError(await rawPost(P, '{"points":[{"stream":"s","t":1,"values":[NaN]}]}', 'application/json'), 400, 'E_DECODE');
  assertError(await postJson(s.url + P, { points: [{ stream: 's', t: 1, values: ['NaN'] }] }, auth), 400, 'E_VALIDATION', 'points[0].values[0]');
  assertError(await postJson(s.url + P, { points: [{ stream: 's', t: 1, values: [null] }] }, auth), 400, 'E_VALIDATION', 'points[0].values[0]');
  const inf = await rawPost(P, '{"points":[{"stream":"s","t":1,"values":[1e400]}]}', 'application/json');
  assert.equal(inf.status, 400, 'a number that overflows to Infinity');
  assert.equal(inf.body.error.field, 'points[0].values[0]');
  assertError(await postJson(s.url + P, { points: [{ stream: 's', t: 1, values: [1, 2] }] }, auth), 400, 'E_SHAPE', 'points[0].values');
  assertError(await postJson(s.url + P, { points: [{ stream: 's', t: 'yesterday', values: [1] }] }, auth), 400, 'E_VALUE', 'points[0].t');
  assertError(await postJson(s.url + P, { points: [{ stream: 's', t: 5, values: [1] }, { stream: 's', t: 4, values: [1] }] }, auth), 400, 'E_VALUE', 'points[1].t');
  assertError(await postJson(s.url + P, { points: [{ stream: 'bad stream!', t: 1, values: [1] }] }, auth), 400, 'E_VALIDATION', 'points[0].stream');
  assertError(await postJson(s.url + P, { points: [{ stream: 's', t: 1, values: [1], extra: 1 }] }, auth), 400, 'E_VALIDATION', 'points[0].extra');
  assertError(await postJson(s.url + P, { points: [] }, auth), 400, 'E_VALIDATION', 'points');
  assertError(await postJson(s.url + P, { points: points('s', 10_001) }, auth), 400, 'E_VALIDATION', 'points');
  assertError(await postJson(s.url + P, [1, 2], auth), 400, 'E_VALIDATION');
  assertError(await rawPost(P, '{"stream":"s","t":1,"values":[1]}\nnot json\n', 'application/x-ndjson'), 400, 'E_DECODE', 'points[1]');
  assertError(await postJson(s.url + '/api/v1/models/nope/points', { points: points('s', 1) }, auth), 404, 'E_NOT_FOUND', 'model');
  assertError(await postJson(s.url + '/api/v1/models/img/points', { points: points('s', 1) }, auth), 400, 'E_UNSUPPORTED', 'model');
  assertError(await postJson(s.url + '/api/v1/models/..%2Fetc/points', { points: points('s', 1) }, auth), 400, 'E_VALIDATION', 'params.model');
  // Images: garbage, truncated, wrong kind of model, wrong type, oversized, bad base64.
  const png = await pngImage('noise');
  assertError(await rawPost('/api/v1/models/img/image', new TextEncoder().encode('definitely not an image'), 'image/png'), 400, 'E_DECODE', '(body)');
  assertError(await rawPost('/api/v1/models/img/image', png.subarray(0, 60), 'image/png'), 400, 'E_DECODE', '(body)');
  assertError(await rawPost('/api/v1/models/img/image', new Uint8Array(0), 'image/png'), 400, 'E_DECODE', '(body)');
  assertError(await rawPost('/api/v1/models/ts/image', png, 'image/png'), 400, 'E_UNSUPPORTED', 'model');
  assertError(await rawPost('/api/v1/models/img/image', png, 'image/gif'), 415, 'E_MEDIA_TYPE');
  assertError(await rawPost('/api/v1/models/img/image', new Uint8Array(11 * 1024 * 1024).fill(1), 'image/png'), 413, 'E_TOO_LARGE');
  assertError(await rawPost('/api/v1/models/ts/points', 'x'.repeat(9 * 1024 * 1024), 'application/json'), 413, 'E_TOO_LARGE');
  assertError(await postJson(s.url + '/api/v1/models/img/images', { images: [{ data: base64(png) }, { data: '%%%' }] }, auth), 400, 'E_DECODE', 'images[1].data');
  assertError(await postJson(s.url + '/api/v1/models/img/images', { images: [{ data: base64(new TextEncoder().encode('GIF89a....')) }] }, auth), 400, 'E_DECODE', 'images[0].data');
  assertError(await getJson(s.url + '/api/v1/alarms?limit=0'), 400, 'E_VALIDATION', 'querystring.limit');
  assertError(await getJson(s.url + '/no/such/route'), 404, 'E_NOT_FOUND');
  // A request whose client goes away mid-body.
  await new Promise<void>((resolve) => {
    const u = new URL(s.url + P);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100000', ...auth } });
    req.on('error', () => resolve());
    req.write('{"points": [');
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 50);
  });
  const h = await getJson(s.url + '/healthz');
  assert.equal(h.status, 200, 'the service is still up after all of that');
  const ok = await postJson(s.url + P, { points: points('after-garbage', 3) }, auth);
  assert.equal(ok.status, 200);
});
