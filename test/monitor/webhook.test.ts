/** Alarm sinks: webhook delivery, retries with backoff, dead letters; the JSON log line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { parseRules } from '../../src/monitor/alarms/rules.js';
import { imageModelDir, pngImage, startService } from './helpers.js';

/** A receiver on 127.0.0.1 that answers with `status` (or never, when null) and records bodies. */
async function receiver(status: () => number | null): Promise<{ url: string; bodies: any[]; times: number[]; close(): Promise<void> }> {
  const bodies: any[] = [];
  const times: number[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      times.push(Date.now());
      bodies.push({ headers: req.headers, body: JSON.parse(text) });
      const code = status();
      if (code !== null) res.writeHead(code).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    times,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const everyImage = parseRules([{ name: 'any-image', on: 'score', threshold: 0, cooldownMs: 0 }]);

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('webhooks: alarms are POSTed as JSON; failures retry with backoff and end as dead letters; alarms are logged as JSON lines', async () => {
  let failures = 2;
  const good = await receiver(() => (failures-- > 0 ? 503 : 204));
  const bad = await receiver(() => 500);
  const silent = await receiver(() => null);
  const lines: string[] = [];
  const log = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const s = await startService({
    models: [{ id: 'img', dir: await imageModelDir() }],
    rules: everyImage,
    webhooks: [good.url, bad.url, silent.url],
    webhook: { maxAttempts: 4, baseDelayMs: 100, timeoutMs: 300 },
    alarmLog: log,
  });
  try {
    const res = await fetch(s.url + '/api/v1/models/img/image?stream=cam', { method: 'POST', headers: { 'content-type': 'image/png' }, body: await pngImage('noise') });
    const body = (await res.json()) as any;
    assert.equal(body.alarms.length, 1);
    const alarm = body.alarms[0];

    // The good receiver gets it on the third attempt, after two 503s.
    await waitFor(() => good.bodies.length === 3);
    assert.equal(good.bodies[2].body.type, 'vigil.alarm');
    assert.deepEqual(good.bodies[2].body.alarm, alarm);
    assert.equal(good.bodies[2].headers['content-type'], 'application/json');
    const gaps = good.times.slice(1).map((t, i) => t - good.times[i]!);
    // Backoff doubles from 100 ms with ±25% jitter: retries wait at least 75 ms, then 150 ms. (Only
    // lower bounds: a loaded machine can only make the gaps longer.)
    assert.ok(gaps[0]! >= 75 && gaps[1]! >= 150, `backoff grows: ${gaps.join(', ')} ms`);

    // The failing and the silent (timing out) receivers end as dead letters after 4 attempts.
    await waitFor(() => s.svc.store.deadLetters().length === 2, 8000);
    const dead = s.svc.store.deadLetters();
    assert.deepEqual(dead.map((d) => [d.url, d.attempts]).sort(), [[bad.url, 4], [silent.url, 4]].sort());
    assert.match(dead.find((d) => d.url === bad.url)!.lastError!, /HTTP 500/);
    assert.match(dead.find((d) => d.url === silent.url)!.lastError!, /timed out/);
    assert.equal(bad.bodies.length, 4);
    assert.equal(s.svc.store.pendingDeliveries(), 0);
    const api = (await (await fetch(s.url + '/api/v1/dead-letters')).json()) as any;
    assert.equal(api.deliveries.length, 2);

    // One JSON log line per alarm.
    const logged = lines.map((l) => JSON.parse(l));
    assert.equal(logged.length, 1);
    assert.equal(logged[0].type, 'alarm');
    assert.equal(logged[0].alarm.id, alarm.id);
  } finally {
    await s.stop();
    await Promise.all([good.close(), bad.close(), silent.close()]);
  }
});

test('graceful shutdown flushes deliveries that are waiting for a retry', async () => {
  let calls = 0;
  const flaky = await receiver(() => (++calls === 1 ? 500 : 200));
  const s = await startService({
    models: [{ id: 'img', dir: await imageModelDir() }],
    rules: everyImage,
    webhooks: [flaky.url],
    // The retry would only come after a minute: shutdown must not wait for it.
    webhook: { baseDelayMs: 60_000, maxAttempts: 5 },
  });
  try {
    await fetch(s.url + '/api/v1/models/img/image', { method: 'POST', headers: { 'content-type': 'image/png' }, body: await pngImage('noise') });
    await waitFor(() => flaky.bodies.length === 1);
    const t0 = Date.now();
    await s.svc.close();
    assert.equal(flaky.bodies.length, 2, 'the pending retry was sent during shutdown');
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    await s.stop();
    await flaky.close();
  }
});
