/** Helpers shared by the data tests: temp folders and small image files written from raw bytes. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { VigilError } from '../../src/core/errors.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A fresh temp folder, removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `vigil-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes raw 8-bit pixels (H, W, C) as an image file in `format`, creating folders. */
export async function writeRaw(
  file: string,
  pixels: Uint8Array,
  height: number,
  width: number,
  channels: 1 | 3,
  format: 'png' | 'jpeg' = 'png',
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  let s = sharp(pixels, { raw: { width, height, channels } });
  if (channels === 1) s = s.toColourspace('b-w'); // else sharp writes a 3-channel file
  s = format === 'png' ? s.png() : s.jpeg({ quality: 100, chromaSubsampling: '4:4:4' });
  await writeFile(file, await s.toBuffer());
}

/** Pixels from a function of (y, x, c). */
export function pixels(height: number, width: number, channels: number, f: (y: number, x: number, c: number) => number): Uint8Array {
  const out = new Uint8Array(height * width * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = f(y, x, c);
  return out;
}

/** An assert.rejects / assert.throws matcher: a VigilError with `code` whose message contains every `parts`. */
export function vigilError(code: string, ...parts: string[]): (e: unknown) => boolean {
  return (e: unknown) => {
    if (!(e instanceof VigilError)) throw new Error(`expected a VigilError ${code}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    if (e.code !== code) throw new Error(`expected ${code}, got ${e.code}: ${e.message}`);
    for (const p of parts) if (!e.message.includes(p)) throw new Error(`expected the message to contain ${JSON.stringify(p)}: ${e.message}`);
    if (e.message.includes('\n')) throw new Error(`expected a one-line message: ${JSON.stringify(e.message)}`);
    return true;
  };
}
