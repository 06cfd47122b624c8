import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type PngOptions } from 'sharp';
import { VigilError } from '../../src/core/errors.js';
import { createRng } from '../../src/data/random.js';
import { decodeImageBuffer } from '../../src/monitor/scoring/image-decode.js';
import { decodePlainPng } from '../../src/monitor/scoring/png-fast.js';

async function png(width: number, height: number, channels: 1 | 3 | 4, seed: number, opts: PngOptions = {}): Promise<Buffer> {
  const rng = createRng(seed);
  const px = Buffer.alloc(width * height * channels);
  // Smooth gradients plus noise, so that every PNG row filter gets used.
  for (let i = 0; i < px.length; i++) px[i] = (Math.floor(i / channels) % width) * 3 + Math.floor(rng.next() * 40);
  const img = sharp(px, { raw: { width, height, channels } });
  return (channels === 1 ? img.toColourspace('b-w') : img).png(opts).toBuffer();
}

async function viaSharp(bytes: Buffer, shape: { height: number; width: number; channels: 1 | 3 }): Promise<Float32Array> {
  let p = sharp(bytes).flatten({ background: '#000000' });
  p = shape.channels === 1 ? p.greyscale() : p.toColourspace('srgb');
  const raw = await p.resize(shape.width, shape.height, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  return Float32Array.from(raw, (v) => v / 255);
}

test('plain PNGs at the model size decode in-thread exactly as sharp decodes them; others go to sharp', async () => {
  for (const [channels, level] of [[1, 6], [3, 9], [1, 0], [3, 1]] as const) {
    const bytes = await png(28, 20, channels, channels + level, { compressionLevel: level, adaptiveFiltering: true });
    const shape = { height: 20, width: 28, channels };
    const fast = decodePlainPng(bytes, shape, 'f');
    assert.ok(fast, `${channels}-channel PNG takes the fast path`);
    assert.deepEqual(fast.data, await viaSharp(bytes, shape), `${channels} channels, compression ${level}`);
  }
  const rgba = await png(28, 28, 4, 5);
  assert.equal(decodePlainPng(rgba, { height: 28, width: 28, channels: 3 }, 'f'), null, 'alpha goes to sharp');
  const grey = await png(28, 28, 1, 6);
  assert.equal(decodePlainPng(grey, { height: 32, width: 32, channels: 1 }, 'f'), null, 'another size goes to sharp (resize)');
  assert.equal(decodePlainPng(grey, { height: 28, width: 28, channels: 3 }, 'f'), null, 'grey for an RGB model goes to sharp');
  const resized = await decodeImageBuffer(grey, { height: 32, width: 32, channels: 1 }, 'f');
  assert.equal(resized.data.length, 32 * 32);
  assert.throws(() => decodePlainPng(grey.subarray(0, grey.length - 20), { height: 28, width: 28, channels: 1 }, 'images[0].data'), (e: unknown) => e instanceof VigilError && e.code === 'E_DECODE' && /images\[0\]\.data/.test(e.message));
  const corrupt = Buffer.from(grey);
  corrupt.fill(7, 45, 60);
  await assert.rejects(decodeImageBuffer(corrupt, { height: 28, width: 28, channels: 1 }, '(body)'), (e: unknown) => e instanceof VigilError && e.code === 'E_DECODE');
});
