/**
 * Shared fixtures of the monitor tests: small trained models (cached under test-output/ so that the
 * suite trains each once), a service on an ephemeral loopback port, and HTTP helpers.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getDetectorFactory, loadDetector } from '../../src/core/detector.js';
import type { ImageSample, Series } from '../../src/core/types.js';
import { encodePng } from '../../src/data/images.js';
import { createRng } from '../../src/data/random.js';
import { renderTexture, textureStyle } from '../../src/data/synthetic.js';
import '../../src/models/index.js';
import { createService, type Service, type ServiceOptions } from '../../src/monitor/server.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = path.join(REPO, 'test-output', 'monitor-fixtures');

const checked = new Set<string>();

/** True when a cached fixture model still loads with the current code (else it is retrained). */
async function usable(dir: string): Promise<boolean> {
  if (checked.has(dir)) return true;
  if (!existsSync(path.join(dir, 'manifest.json'))) return false;
  try {
    (await loadDetector(dir)).dispose();
    checked.add(dir);
    return true;
  } catch {
    await rm(dir, { recursive: true, force: true });
    return false;
  }
}

/** A conv-ae trained one epoch on 28x28 textures. */
export async function imageModelDir(): Promise<string> {
  const dir = path.join(FIXTURES, 'conv-ae-28');
  if (await usable(dir)) return dir;
  const rng = createRng(1);
  const style = textureStyle('weave', rng);
  const train: ImageSample[] = Array.from({ length: 64 }, (_, i) => ({ image: renderTexture(style, 28, rng), source: `t${i}` }));
  const det = getDetectorFactory('conv-ae').create({ height: 28, width: 28, channels: 1, depth: 2, filters: 8, latent: 8, epochs: 1 });
  await det.fit(train);
  await det.save(dir);
  det.dispose();
  return dir;
}

/** A smooth periodic signal with a little noise: what the series model learns as normal. */
export function normalSignal(i: number, rng = Math.random): number {
  return Math.sin(i / 8) + 0.3 * Math.sin(i / 3.1) + 0.05 * (rng() - 0.5);
}

/** A conv1d-ae (window 16) trained on the normal signal. */
export async function seriesModelDir(): Promise<string> {
  const dir = path.join(FIXTURES, 'conv1d-ae-16');
  if (await usable(dir)) return dir;
  const rng = createRng(2);
  const T = 1500;
  const values = new Float32Array(T);
  for (let i = 0; i < T; i++) values[i] = normalSignal(i, () => rng.next());
  const series: Series = { source: 'train', columns: ['value'], timestamps: Float64Array.from({ length: T }, (_, i) => i * 1000), values, length: T, channels: 1 };
  const det = getDetectorFactory('conv1d-ae').create({ window: 16, epochs: 3, filters: 8, latent: 8, seed: 1 });
  await det.fit([series]);
  await det.save(dir);
  det.dispose();
  return dir;
}

/** A tabular-ae on four correlated features (a, b, c, d). */
export async function tableModelDir(): Promise<string> {
  const dir = path.join(FIXTURES, 'tabular-ae-4');
  if (await usable(dir)) return dir;
  const rng = createRng(3);
  const columns = ['a', 'b', 'c', 'd'];
  const rows = Array.from({ length: 400 }, (_, i) => {
    const x = rng.next() * 2 - 1;
    const y = rng.next() * 2 - 1;
    return { source: `r${i}`, columns, values: Float32Array.of(x, y, x + y, x - y) };
  });
  const det = getDetectorFactory('tabular-ae').create({ hidden: [8], latent: 2, epochs: 20, seed: 1 });
  await det.fit(rows);
  await det.save(dir);
  det.dispose();
  return dir;
}

/** A 28x28 grey PNG: flat grey, or noise (anomalous for the texture model). Fetch-ready bytes. */
export async function pngImage(kind: 'flat' | 'noise' = 'flat', seed = 1): Promise<Uint8Array<ArrayBuffer>> {
  const rng = createRng(seed);
  const px = new Uint8Array(28 * 28);
  for (let i = 0; i < px.length; i++) px[i] = kind === 'flat' ? 128 : Math.floor(rng.next() * 256);
  return Uint8Array.from(await encodePng(px, 28, 28, 1));
}

export const base64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export interface TestService {
  svc: Service;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** A service on 127.0.0.1 with an ephemeral port and a store in a temp folder. */
export async function startService(opts: Partial<ServiceOptions> & Pick<ServiceOptions, 'models'>): Promise<TestService> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-monitor-'));
  const svc = await createService({ storeFile: path.join(dir, 'store.db'), port: 0, host: '127.0.0.1', logger: false, alarmLog: null, dashboard: false, ...opts });
  const url = await svc.listen();
  return {
    svc,
    url,
    dir,
    async stop() {
      await svc.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** `n` points of the normal signal for `stream`, one second apart from `t0`. */
export function points(stream: string, n: number, t0 = 1_700_000_000_000, offset = 0, spike?: { from: number; to: number; add: number }) {
  return Array.from({ length: n }, (_, k) => {
    const i = offset + k;
    const bump = spike && i >= spike.from && i < spike.to ? spike.add : 0;
    return { stream, t: t0 + i * 1000, values: [normalSignal(i) + bump] };
  });
}
