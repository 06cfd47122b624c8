/**
 * The dashboard's built files (web/dist, made by `npm run build:web`). When they are missing the
 * service builds them once on start with Vite (a dev dependency), into a temporary folder renamed
 * into place, so concurrent starts cannot serve a half-written build.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_DIST = path.join(REPO_ROOT, 'web', 'dist');

export function webBuilt(dist = WEB_DIST): boolean {
  return existsSync(path.join(dist, 'index.html'));
}

/**
 * Builds web/dist if it is missing. Resolves to the folder, or to null (with the reason) when it
 * cannot be built here (no Vite installed, build failure); the service then serves the API only.
 */
export async function ensureWebBuilt(log: (msg: string) => void, dist = WEB_DIST): Promise<{ dir: string | null; reason?: string }> {
  if (webBuilt(dist)) return { dir: dist };
  const vite = path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(vite)) return { dir: null, reason: 'the dashboard is not built (web/dist) and Vite is not installed: run `npm run build:web` where dev dependencies are installed' };
  const tmp = path.join(REPO_ROOT, 'web', `.dist-tmp-${process.pid}-${Date.now()}`);
  log('building the dashboard (web/dist is missing)...');
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [vite, 'build', '--config', path.join(REPO_ROOT, 'web', 'vite.config.ts'), '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 4000) err += d.toString();
    });
    child.on('error', () => resolve(-1));
    child.on('close', (c) => {
      if (c !== 0 && err) log(`dashboard build failed: ${err.trim().split('\n').slice(-5).join(' | ')}`);
      resolve(c ?? -1);
    });
  });
  if (code !== 0) {
    await rm(tmp, { recursive: true, force: true });
    return { dir: null, reason: 'the dashboard build failed; run `npm run build:web` to see why' };
  }
  try {
    await rename(tmp, dist);
  } catch {
    // Another process finished first: use its build.
    await rm(tmp, { recursive: true, force: true });
  }
  return webBuilt(dist) ? { dir: dist } : { dir: null, reason: 'the dashboard build produced no index.html' };
}
