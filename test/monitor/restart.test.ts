/**
 * Durability through the CLI: `vigil serve` as a child process confirms an alarm and an
 * acknowledgement, is killed with SIGKILL, restarts on the same store, and still has both. The second
 * run also reloads on SIGHUP and exits 0 on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO, getJson, imageModelDir, pngImage, postJson } from './helpers.js';

const KEY = 'restart-key-0001';

interface Child {
  proc: ChildProcessWithoutNullStreams;
  url: string;
  lines: string[];
}

/** Starts `vigil serve` and resolves with its URL, read from its "listening" log line. */
function serve(args: string[]): Promise<Child> {
  const proc = spawn(process.execPath, [path.join(REPO, 'bin', 'vigil.js'), 'serve', ...args], { cwd: REPO, env: { ...process.env, VIGIL_API_KEY: KEY } });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`vigil serve did not start:\n${lines.join('\n')}`)), 30_000);
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        try {
          const j = JSON.parse(line) as { url?: string };
          if (j.url) {
            clearTimeout(timer);
            resolve({ proc, url: j.url, lines });
          }
        } catch {
          // not JSON
        }
      }
    });
    proc.stderr.on('data', (d: Buffer) => lines.push(`stderr: ${d.toString().slice(0, 500)}`));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vigil serve exited with ${code}:\n${lines.join('\n')}`));
    });
  });
}

function exited(c: Child): Promise<number | null> {
  return new Promise((r) => (c.proc.exitCode !== null || c.proc.signalCode !== null ? r(c.proc.exitCode) : c.proc.once('exit', (code) => r(code))));
}

test('an alarm confirmed to a client survives kill -9 and a restart on the same store', { timeout: 90_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-restart-'));
  const rules = path.join(dir, 'rules.json');
  await writeFile(rules, JSON.stringify({ rules: [{ name: 'any-image', on: 'score', threshold: 0, cooldownMs: 0, severity: [{ min: 0, level: 'critical' }] }] }));
  const args = ['--model', `img=${await imageModelDir()}`, '--port', '0', '--store', path.join(dir, 'store.db'), '--rules', rules, '--no-dashboard'];
  let first: Child | null = null;
  let second: Child | null = null;
  try {
    first = await serve(args);
    const res = await fetch(first.url + '/api/v1/models/img/image?stream=line-1&id=p1', { method: 'POST', headers: { 'content-type': 'image/png', 'x-api-key': KEY }, body: await pngImage('noise') });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.alarms.length, 1);
    const alarm = body.alarms[0];
    const ack = await postJson(first.url + `/api/v1/alarms/${alarm.id}/ack`, { by: 'op', note: 'before the crash' }, { 'x-api-key': KEY });
    assert.equal(ack.status, 200);
    assert.ok(first.lines.some((l) => l.includes('"type":"alarm"')), 'the alarm was logged as a JSON line on stdout');
    first.proc.kill('SIGKILL');
    await exited(first);

    second = await serve(args);
    const list = await getJson(second.url + '/api/v1/alarms');
    assert.equal(list.status, 200);
    const again = list.body.alarms.find((a: any) => a.id === alarm.id);
    assert.ok(again, 'the alarm is still there');
    assert.deepEqual({ ...again, ack: null }, { ...alarm, ack: null });
    assert.equal(again.ack.by, 'op');
    assert.equal(again.ack.note, 'before the crash');
    const hist = await getJson(second.url + '/api/v1/streams/img/line-1/history');
    assert.equal(hist.body.buckets.reduce((n: number, b: any) => n + b.count, 0), 1, 'the score history survived too');

    second.proc.kill('SIGHUP');
    const deadline = Date.now() + 15_000;
    let generation = 1;
    while (generation < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      generation = (await getJson(second.url + '/api/v1/models/img')).body.generation;
    }
    assert.equal(generation, 2, 'SIGHUP reloaded the model');
    second.proc.kill('SIGTERM');
    assert.equal(await exited(second), 0, 'graceful shutdown exits 0');
    assert.ok(second.lines.some((l) => l.includes('shutting down')));
  } finally {
    for (const c of [first, second]) if (c && c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
