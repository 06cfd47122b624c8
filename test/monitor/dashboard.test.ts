/**
 * The dashboard in a real browser (Debian's chromium through playwright-core): replay a series with
 * an anomaly through `vigil replay`'s code path, watch the alarm appear live, acknowledge it, and save
 * a screenshot to test-output/dashboard.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runReplay } from '../../src/cli/commands/replay.js';
import { REPO, imageModelDir, normalSignal, pngImage, seriesModelDir, startService } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'dashboard-key-01';

test(
  'dashboard: live chart, alarm from a replayed anomaly, acknowledge button, screenshot',
  { timeout: 90_000, skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser test` },
  async () => {
    const { chromium } = await import('playwright-core');
    const s = await startService({ models: [{ id: 'img', dir: await imageModelDir() }, { id: 'ts', dir: await seriesModelDir() }], apiKey: KEY, dashboard: true });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const outDir = path.join(REPO, 'test-output');
      await mkdir(outDir, { recursive: true });
      // A recorded series (NAB-style timestamp,value) with an anomaly near the end.
      const csv = path.join(s.dir, 'machine_temperature.csv');
      const rows = ['timestamp,value'];
      const t0 = Date.UTC(2024, 0, 1);
      for (let i = 0; i < 320; i++) rows.push(`${new Date(t0 + i * 60_000).toISOString().replace('T', ' ').slice(0, 19)},${(normalSignal(i) + (i >= 280 && i < 292 ? 5 : 0)).toFixed(4)}`);
      await writeFile(csv, rows.join('\n') + '\n');

      const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(s.url + '/');
      await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
      await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 });
      assert.match(await page.locator('#models').innerText(), /ts[\s\S]*conv1d-ae[\s\S]*threshold/);

      // An image for the "latest images" panel.
      await fetch(s.url + '/api/v1/models/img/image?id=part-42&stream=camera-1', { method: 'POST', headers: { 'content-type': 'image/png', 'x-api-key': KEY }, body: await pngImage('noise') });
      await page.waitForSelector('figure[data-image="part-42"] img', { timeout: 10_000 });

      // 320 one-minute points at 6000x real time: about 3 s of replay.
      const out: string[] = [];
      const report = await runReplay(csv, { to: s.url, speed: 6000, model: 'ts', stream: 'machine-1', apiKey: KEY, batchMs: 100 }, (l) => out.push(l));
      assert.equal(report.sent, 320);
      assert.equal(report.accepted, 320);
      assert.ok(report.batches > 5, `sent in ${report.batches} batches`);
      assert.ok(report.alarms >= 1, 'the anomaly raised an alarm');
      assert.ok(out.some((l) => JSON.parse(l).type === 'alarm'), 'replay printed the alarm');

      await page.waitForSelector('article[data-stream="ts/machine-1"]', { timeout: 10_000 });
      const row = page.locator('tr[data-alarm-id]').filter({ hasText: 'machine-1' }).first();
      await row.waitFor({ timeout: 10_000 });
      const alarmId = Number(await row.getAttribute('data-alarm-id'));
      assert.match(await row.innerText(), /normalized/);

      // Without the key the acknowledgement is refused and the page says why.
      await row.locator('button.ack').click();
      await page.waitForSelector('#alarm-msg:not([hidden])', { timeout: 5000 });
      assert.match(await page.locator('#alarm-msg').innerText(), /API key/);
      await page.fill('#api-key', KEY);
      await page.dispatchEvent('#api-key', 'change');
      await page.locator(`tr[data-alarm-id="${alarmId}"] button.ack`).click();
      await page.waitForSelector(`tr[data-alarm-id="${alarmId}"] .acked`, { timeout: 5000 });
      const stored = s.svc.store.getAlarm(alarmId)!;
      assert.equal(stored.ack?.by, 'dashboard');

      // The chart has drawn the replayed points.
      const canvas = page.locator('article[data-stream="ts/machine-1"] canvas');
      assert.ok((await canvas.count()) >= 1);
      await page.screenshot({ path: path.join(outDir, 'dashboard.png'), fullPage: true });
      assert.deepEqual(errors, [], 'no script errors in the page');
    } finally {
      await browser.close();
      await s.stop();
    }
  },
);
