import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AlarmReason } from '../../src/monitor/api-types.js';
import { MonitorStore, type NewAlarm } from '../../src/monitor/store/store.js';

const reason: AlarmReason = { summary: 's', rule: 'default', on: 'score', threshold: 1, hits: 1, k: 1, n: 1, durationMs: 0, peakNormalized: 0.9, peakScore: 2 };
const alarm = (stream: string, t: number): NewAlarm => ({ model: 'm', stream, rule: 'default', severity: 'major', startedAt: t, firedAt: t, score: 2, normalized: 0.9, reason });

test('store: buckets merge across batches, alarms and acknowledgements persist across reopening (WAL)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-store-'));
  try {
    const file = path.join(dir, 's.db');
    let now = 1_000_000;
    const st = new MonitorStore(file, {}, () => now);
    const b = (count: number, min: number, max: number) => ({ model: 'm', stream: 'a', bucket: 10_000, count, scored: count, min, max, sum: count * (min + max) / 2, nmax: max / 4 });
    st.ingest({ buckets: [b(2, 1, 3)], streams: [{ model: 'm', stream: 'a', points: 2, lastT: 10_500, lastScore: 3, lastNormalized: 0.7, threshold: 1 }], alarms: [], webhooks: [] });
    const [a1] = st.ingest({ buckets: [b(2, 0.5, 2)], streams: [{ model: 'm', stream: 'a', points: 2, lastT: 11_000, lastScore: 2, lastNormalized: 0.6, threshold: 1 }], alarms: [alarm('a', 11_000)], webhooks: ['http://127.0.0.1:9/hook'] });
    assert.equal(a1!.id, 1);
    assert.deepEqual(st.history('m', 'a'), [{ t: 10_000, count: 4, scored: 4, min: 0.5, max: 3, mean: (4 + 2.5) / 4, maxNormalized: 0.75 }]);
    assert.equal(st.bucketPoints('m', 'a'), 4);
    assert.deepEqual(st.totals(), { streams: 1, points: 4 });
    assert.equal(st.pendingDeliveries(), 1, 'the alarm is queued for the webhook in the same transaction');
    now += 5;
    const ack = st.ack(1, 'alice', 'checked')!;
    assert.equal(ack.created, true);
    assert.deepEqual(ack.alarm.ack, { by: 'alice', note: 'checked', at: now });
    const again = st.ack(1, 'bob', '')!;
    assert.equal(again.created, false, 'acknowledging twice keeps the first acknowledgement');
    assert.equal(again.alarm.ack!.by, 'alice');
    assert.equal(st.ack(99, 'x', ''), null);
    st.close();

    const st2 = new MonitorStore(file);
    const [stored] = st2.listAlarms();
    assert.equal(stored!.id, 1);
    assert.equal(stored!.ack!.by, 'alice');
    assert.deepEqual(stored!.reason, reason);
    assert.equal(st2.listAlarms({ unacked: true }).length, 0);
    assert.equal(st2.streams()[0]!.points, 4);
    st2.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('store: webhook outbox retry / dead letter, retention deletes old rows by time written', () => {
  let now = 0;
  const st = new MonitorStore(':memory:', {}, () => now);
  st.ingest({ buckets: [{ model: 'm', stream: 'a', bucket: 0, count: 1, scored: 1, min: 1, max: 1, sum: 1, nmax: 0.5 }], streams: [], alarms: [alarm('a', 0), alarm('b', 0)], webhooks: ['http://x'] });
  const [d1, d2] = st.dueDeliveries(0, 10);
  st.markRetry(d1!.id, 1, 5000, 'HTTP 500');
  assert.deepEqual(st.dueDeliveries(1000, 10).map((d) => d.id), [d2!.id], 'a delivery waiting for its retry is not due');
  assert.equal(st.nextDeliveryAt(), 0);
  st.markDelivered(d2!.id, 1);
  st.markDead(d1!.id, 6, 'HTTP 500');
  assert.equal(st.pendingDeliveries(), 0);
  assert.deepEqual(st.deadLetters().map((d) => [d.id, d.status, d.attempts, d.lastError]), [[d1!.id, 'dead', 6, 'HTTP 500']]);
  assert.deepEqual(st.retention(), { scoresDays: 30, alarmsDays: 90, deliveriesDays: 30 });
  st.setRetention({ scoresDays: 1, alarmsDays: 2 });
  assert.throws(() => st.setRetention({ scoresDays: -1 }), /positive number of days/);
  now = 1.5 * 86_400_000;
  assert.deepEqual(st.prune(), { buckets: 1, alarms: 0, deliveries: 0 });
  now = 40 * 86_400_000;
  assert.deepEqual(st.prune(), { buckets: 0, alarms: 2, deliveries: 2 });
  st.close();
});
