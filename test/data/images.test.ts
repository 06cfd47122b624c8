import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import {
  heatmapOverlay,
  jet,
  listImageFiles,
  mapLimit,
  readImage,
  readImages,
  readMask,
  turbo,
  writeHeatmapPng,
  writePng,
} from '../../src/data/images.js';
import type { Image } from '../../src/core/types.js';
import { pixels, tempDir, vigilError, writeRaw } from './fixtures.js';

const f = Math.fround;

test('PNG decodes to the right shape and exact values, grey and RGB', async () => {
  const { dir, cleanup } = await tempDir('img');
  try {
    const grey = pixels(5, 7, 1, (y, x) => y * 40 + x * 3);
    const rgb = pixels(5, 7, 3, (y, x, c) => (y * 50 + x * 20 + c * 70) % 256);
    await writeRaw(path.join(dir, 'g.png'), grey, 5, 7, 1);
    await writeRaw(path.join(dir, 'c.png'), rgb, 5, 7, 3);

    const g = await readImage(path.join(dir, 'g.png'), { channels: 1 });
    assert.deepEqual([g.height, g.width, g.channels, g.data.length], [5, 7, 1, 35]);
    assert.deepEqual(Array.from(g.data), Array.from(grey, (v) => f(v / 255)));

    const c = await readImage(path.join(dir, 'c.png'), { channels: 3 });
    assert.deepEqual([c.height, c.width, c.channels], [5, 7, 3]);
    assert.deepEqual(Array.from(c.data), Array.from(rgb, (v) => f(v / 255)));

    // A grey file read as RGB repeats the grey value in every channel.
    const g3 = await readImage(path.join(dir, 'g.png'), { channels: 3 });
    assert.equal(g3.channels, 3);
    for (let i = 0; i < 35; i++) for (let k = 0; k < 3; k++) assert.equal(g3.data[3 * i + k], f(grey[i]! / 255));

    // An RGB file read as grey is its luminance: pure green is brighter than pure blue.
    const prim = pixels(1, 3, 3, (_y, x, ch) => (ch === x ? 255 : 0));
    await writeRaw(path.join(dir, 'prim.png'), prim, 1, 3, 3);
    const lum = await readImage(path.join(dir, 'prim.png'), { channels: 1 });
    assert.equal(lum.channels, 1);
    assert.ok(lum.data[1]! > lum.data[0]! && lum.data[0]! > lum.data[2]! && lum.data[2]! > 0, `luminance ${Array.from(lum.data)}`);
  } finally {
    await cleanup();
  }
});

test('JPEG decodes close to the encoded values; resize fill and cover', async () => {
  const { dir, cleanup } = await tempDir('img');
  try {
    // Smooth gradient: JPEG at quality 100 stays within a few levels.
    const grad = pixels(16, 24, 3, (y, x, c) => 40 + x * 5 + y * 3 + c * 10);
    await writeRaw(path.join(dir, 'grad.jpg'), grad, 16, 24, 3, 'jpeg');
    const img = await readImage(path.join(dir, 'grad.jpg'), { channels: 3 });
    assert.deepEqual([img.height, img.width, img.channels], [16, 24, 3]);
    let worst = 0;
    for (let i = 0; i < grad.length; i++) worst = Math.max(worst, Math.abs(img.data[i]! * 255 - grad[i]!));
    assert.ok(worst <= 4, `max JPEG error ${worst} levels`);

    const small = await readImage(path.join(dir, 'grad.jpg'), { channels: 1, size: { height: 8, width: 6 } });
    assert.deepEqual([small.height, small.width, small.channels, small.data.length], [8, 6, 1, 48]);
    // Still a left-to-right gradient after resizing.
    assert.ok(small.data[4 * 6 + 5]! > small.data[4 * 6]! + 0.2);

    // Three vertical bands 0.1 | 0.5 | 0.9 of widths 2, 4, 2. `cover` to 4x4 keeps the centre band
    // only; `fill` squeezes all three bands in.
    const bands = pixels(4, 8, 1, (_y, x) => (x < 2 ? 26 : x < 6 ? 128 : 230));
    await writeRaw(path.join(dir, 'bands.png'), bands, 4, 8, 1);
    const cover = await readImage(path.join(dir, 'bands.png'), { channels: 1, size: { height: 4, width: 4 }, fit: 'cover' });
    assert.deepEqual(Array.from(cover.data), new Array(16).fill(f(128 / 255)));
    const fill = await readImage(path.join(dir, 'bands.png'), { channels: 1, size: { height: 4, width: 4 }, fit: 'fill' });
    assert.ok(fill.data[0]! < 0.3 && fill.data[3]! > 0.7, `fill keeps the outer bands: ${Array.from(fill.data.subarray(0, 4))}`);
    await assert.rejects(readImage(path.join(dir, 'bands.png'), { channels: 1, size: { height: 0, width: 4 } }), vigilError('E_CONFIG', 'size.height'));
  } finally {
    await cleanup();
  }
});

/** A 24-bit bottom-up BMP (rows padded to 4 bytes) of RGB pixels. */
function bmp24(rgb: Uint8Array, h: number, w: number): Buffer {
  const stride = Math.ceil((w * 3) / 4) * 4;
  const b = Buffer.alloc(54 + stride * h);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = 54 + (h - 1 - y) * stride + 3 * x;
      const i = 3 * (y * w + x);
      b[o] = rgb[i + 2]!;
      b[o + 1] = rgb[i + 1]!;
      b[o + 2] = rgb[i]!;
    }
  }
  return b;
}

/** An 8-bit palette top-down BMP whose palette entry k is grey k*10. */
function bmp8(indices: Uint8Array, h: number, w: number): Buffer {
  const stride = Math.ceil(w / 4) * 4;
  const off = 54 + 256 * 4;
  const b = Buffer.alloc(off + stride * h);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(off, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(-h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(8, 28);
  for (let k = 0; k < 256; k++) b.fill(Math.min(255, k * 10), 54 + 4 * k, 54 + 4 * k + 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) b[off + y * stride + x] = indices[y * w + x]!;
  return b;
}

test('BMP (24-bit and 8-bit palette) decodes exactly; a truncated BMP is E_DECODE', async () => {
  const { dir, cleanup } = await tempDir('img');
  try {
    const rgb = pixels(3, 5, 3, (y, x, c) => (y * 60 + x * 30 + c * 11) % 256);
    await writeFile(path.join(dir, 'a.bmp'), bmp24(rgb, 3, 5));
    const a = await readImage(path.join(dir, 'a.bmp'), { channels: 3 });
    assert.deepEqual([a.height, a.width], [3, 5]);
    assert.deepEqual(Array.from(a.data), Array.from(rgb, (v) => f(v / 255)));

    const idx = pixels(2, 3, 1, (y, x) => y * 3 + x + 1);
    await writeFile(path.join(dir, 'p.BMP'), bmp8(idx, 2, 3));
    const p = await readImage(path.join(dir, 'p.BMP'), { channels: 1 });
    assert.deepEqual(Array.from(p.data), Array.from(idx, (k) => f((k * 10) / 255)));

    const cut = path.join(dir, 'cut.bmp');
    await writeFile(cut, bmp24(rgb, 3, 5).subarray(0, 60));
    await assert.rejects(readImage(cut, { channels: 3 }), vigilError('E_DECODE', cut, 'truncated BMP'));
  } finally {
    await cleanup();
  }
});

test('corrupt, truncated, empty and non-image files are E_DECODE naming the file; missing is E_NOT_FOUND', async () => {
  const { dir, cleanup } = await tempDir('img');
  try {
    const noisy = pixels(64, 64, 3, (y, x, c) => (y * 131 + x * 71 + c * 29 + ((x * y) % 7) * 13) % 256);
    await writeRaw(path.join(dir, 'good.png'), noisy, 64, 64, 3);
    await writeRaw(path.join(dir, 'good.jpg'), noisy, 64, 64, 3, 'jpeg');
    const png = await readFile(path.join(dir, 'good.png'));
    const jpg = await readFile(path.join(dir, 'good.jpg'));
    const files: [string, Uint8Array, string][] = [
      ['truncated.png', png.subarray(0, Math.floor(png.length * 0.6)), 'corrupt or truncated PNG'],
      ['truncated.jpg', jpg.subarray(0, Math.floor(jpg.length * 0.6)), 'corrupt or truncated JPEG'],
      ['text.png', Buffer.from('this is not an image at all, just text\n'), 'not a PNG/JPEG image'],
      ['empty.jpg', new Uint8Array(0), 'empty file'],
    ];
    for (const [name, bytes, what] of files) {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      await assert.rejects(readImage(file, { channels: 1 }), vigilError('E_DECODE', file, what), name);
    }
    // The raw library error is kept as the cause, not as the message.
    await assert.rejects(readImage(path.join(dir, 'text.png'), { channels: 3 }), (e: unknown) => {
      assert.ok((e as Error).cause instanceof Error);
      assert.doesNotMatch((e as Error).message, /\n\s+at /);
      return true;
    });
    await assert.rejects(readImage(path.join(dir, 'missing.png'), { channels: 1 }), vigilError('E_NOT_FOUND', path.join(dir, 'missing.png')));
    await assert.rejects(readMask(path.join(dir, 'text.png'), { height: 4, width: 4 }), vigilError('E_DECODE', path.join(dir, 'text.png')));
    // A batch fails with the first bad file's error.
    await assert.rejects(
      readImages([path.join(dir, 'good.png'), path.join(dir, 'empty.jpg')], { channels: 1 }),
      vigilError('E_DECODE', path.join(dir, 'empty.jpg')),
    );
  } finally {
    await cleanup();
  }
});

test('readMask: nonzero → 1, resized with nearest neighbour so it stays binary', async () => {
  const { dir, cleanup } = await tempDir('img');
  try {
    // 4x4 mask: top-left 2x2 block set with faint value 3, the bottom-right pixel 255.
    const m = pixels(4, 4, 1, (y, x) => (y < 2 && x < 2 ? 3 : y === 3 && x === 3 ? 255 : 0));
    await writeRaw(path.join(dir, 'm.png'), m, 4, 4, 1);
    const same = await readMask(path.join(dir, 'm.png'), { height: 4, width: 4 });
    assert.deepEqual(Array.from(same), Array.from(m, (v) => (v ? 1 : 0)));
    // Upscaled x2: each pixel becomes a 2x2 block.
    const big = await readMask(path.join(dir, 'm.png'), { height: 8, width: 8 });
    const expected = Array.from({ length: 64 }, (_, i) => same[Math.floor(Math.floor(i / 8) / 2) * 4 + Math.floor((i % 8) / 2)]!);
    assert.deepEqual(Array.from(big), expected);
    // Downscaled 64x64 → 16x16: only 0 and 1, and the set fraction is kept.
    const blob = pixels(64, 64, 1, (y, x) => ((x - 20) ** 2 + (y - 30) ** 2 < 144 ? 200 : 0));
    await writeRaw(path.join(dir, 'blob.png'), blob, 64, 64, 1);
    const down = await readMask(path.join(dir, 'blob.png'), { height: 16, width: 16 });
    assert.equal(down.length, 256);
    assert.ok(down.every((v) => v === 0 || v === 1));
    const frac = down.reduce((s, v) => s + v, 0) / 256;
    const truth = blob.reduce((s, v) => s + (v ? 1 : 0), 0) / 4096;
    assert.ok(Math.abs(frac - truth) < 0.02, `mask fraction ${frac} vs ${truth}`);
    // A threshold ignores faint edge values.
    const strict = await readMask(path.join(dir, 'm.png'), { height: 4, width: 4 }, { threshold: 128 });
    assert.equal(strict.reduce((s, v) => s + v, 0), 1);
  } finally {
    await cleanup();
  }
});

test('writePng round-trips grey and RGB at 8-bit precision, clamping out-of-range values', async () => {
  const { dir, cleanup } = await tempDir('img');
  try {
    const grey: Image = { height: 3, width: 4, channels: 1, data: Float32Array.from({ length: 12 }, (_, i) => i / 11) };
    grey.data[0] = -0.5;
    grey.data[11] = 1.7;
    await writePng(path.join(dir, 'sub', 'g.png'), grey);
    const g = await readImage(path.join(dir, 'sub', 'g.png'), { channels: 1 });
    assert.equal(g.data[0], 0);
    assert.equal(g.data[11], 1);
    for (let i = 1; i < 11; i++) assert.ok(Math.abs(g.data[i]! - i / 11) <= 0.5 / 255 + 1e-6);
    const meta = await sharp(path.join(dir, 'sub', 'g.png')).metadata();
    assert.equal(meta.channels, 1);

    const rgb: Image = { height: 2, width: 2, channels: 3, data: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, 0.5, 0.5]) };
    await writePng(path.join(dir, 'c.png'), rgb);
    const c = await readImage(path.join(dir, 'c.png'), { channels: 3 });
    assert.deepEqual(Array.from(c.data), [1, 0, 0, 0, 1, 0, 0, 0, 1, f(128 / 255), f(128 / 255), f(128 / 255)]);
    await assert.rejects(writePng(path.join(dir, 'bad.png'), { height: 2, width: 2, channels: 1, data: new Float32Array(3) }), vigilError('E_SHAPE', 'bad.png'));
  } finally {
    await cleanup();
  }
});

test('heatmapOverlay blends a colormap over grey or RGB and checks the map size', async () => {
  const grey: Image = { height: 2, width: 2, channels: 1, data: Float32Array.from([0.2, 0.4, 0.6, 0.8]) };
  const map = Float32Array.from([0, 1, 2, 4]);
  const none = heatmapOverlay(grey, map, { alpha: 0 });
  assert.equal(none.channels, 3);
  for (let i = 0; i < 4; i++) for (let k = 0; k < 3; k++) assert.ok(Math.abs(none.data[3 * i + k]! - grey.data[i]!) < 1e-6);

  // alpha 1 shows the colormap alone; min/max default to the map range (0 → coldest, 4 → hottest).
  const full = heatmapOverlay(grey, map, { alpha: 1, colormap: 'jet' });
  assert.deepEqual(Array.from(full.data.subarray(0, 3)), jet(0));
  assert.deepEqual(Array.from(full.data.subarray(9, 12)), jet(1));
  assert.deepEqual(jet(0), [0, 0, 0.5]);
  assert.deepEqual(jet(1), [0.5, 0, 0]);
  // Explicit min/max clamp: with max 2 the values 2 and 4 get the same hottest colour.
  const clamped = heatmapOverlay(grey, map, { alpha: 1, min: 0, max: 2 });
  assert.deepEqual(Array.from(clamped.data.subarray(6, 9)), Array.from(clamped.data.subarray(9, 12)));
  // Turbo runs dark blue → red: blue dominates at 0.15, red at 0.85.
  const [r0, , b0] = turbo(0.15);
  const [r1, , b1] = turbo(0.85);
  assert.ok(b0 > r0 && r1 > b1);

  // Half alpha over RGB: the average of the pixel and the colour.
  const rgb: Image = { height: 1, width: 2, channels: 3, data: Float32Array.from([1, 1, 1, 0, 0, 0]) };
  const half = heatmapOverlay(rgb, Float32Array.from([0, 1]), { alpha: 0.5, colormap: 'jet' });
  assert.deepEqual(Array.from(half.data), [0.5, 0.5, 0.75, 0.25, 0, 0]);

  assert.throws(() => heatmapOverlay(grey, new Float32Array(3)), vigilError('E_SHAPE', 'map has 3 values', '2x2'));
  assert.throws(() => heatmapOverlay(grey, Float32Array.from([0, NaN, 0, 0])), vigilError('E_VALUE'));
  assert.throws(() => heatmapOverlay(grey, map, { alpha: 2 }), vigilError('E_VALUE', 'alpha'));

  const { dir, cleanup } = await tempDir('img');
  try {
    await writeHeatmapPng(path.join(dir, 'h.png'), grey, map, { alpha: 0.6 });
    const back = await readImage(path.join(dir, 'h.png'), { channels: 3 });
    assert.deepEqual([back.height, back.width, back.channels], [2, 2, 3]);
    const expected = heatmapOverlay(grey, map, { alpha: 0.6 });
    for (let i = 0; i < 12; i++) assert.ok(Math.abs(back.data[i]! - expected.data[i]!) <= 0.5 / 255 + 1e-6);
  } finally {
    await cleanup();
  }
});

test('listImageFiles: image extensions in any case, sorted by name, no hidden files or folders', async () => {
  const { dir, cleanup } = await tempDir('img');
  try {
    for (const n of ['b.PNG', 'a.jpg', 'C.jpeg', 'd.Bmp', 'e.tif', 'f.webp', 'notes.txt', '._a.png', 'a10.png', 'a9.png']) await writeFile(path.join(dir, n), 'x');
    await mkdir(path.join(dir, 'folder.png'));
    const files = await listImageFiles(dir);
    assert.deepEqual(files.map((p) => path.basename(p)), ['C.jpeg', 'a.jpg', 'a10.png', 'a9.png', 'b.PNG', 'd.Bmp', 'e.tif', 'f.webp']);
    assert.equal(files[0], path.join(dir, 'C.jpeg'));
    await assert.rejects(listImageFiles(path.join(dir, 'absent')), vigilError('E_NOT_FOUND', path.join(dir, 'absent')));
    await assert.rejects(listImageFiles(path.join(dir, 'a.jpg')), vigilError('E_NOT_FOUND', 'is not a folder'));
  } finally {
    await cleanup();
  }
});

test('mapLimit bounds concurrency, keeps order, and stops starting work after a failure', async () => {
  let inFlight = 0;
  let peak = 0;
  const tick = () => new Promise((r) => setTimeout(r, 2));
  const out = await mapLimit(Array.from({ length: 25 }, (_, i) => i), 4, async (x) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await tick();
    inFlight--;
    return x * 2;
  });
  assert.deepEqual(out, Array.from({ length: 25 }, (_, i) => i * 2));
  assert.equal(peak, 4);

  const started: number[] = [];
  await assert.rejects(
    mapLimit(Array.from({ length: 50 }, (_, i) => i), 2, async (x) => {
      started.push(x);
      await tick();
      if (x === 3) throw new Error('boom at 3');
      return x;
    }),
    /boom at 3/,
  );
  assert.ok(started.length <= 6, `started ${started.length} items after the failure`);

  // readImages keeps input order with concurrency.
  const { dir, cleanup } = await tempDir('img');
  try {
    const files: string[] = [];
    for (let i = 0; i < 9; i++) {
      files.push(path.join(dir, `${i}.png`));
      await writeRaw(files[i]!, pixels(2, 2, 1, () => i * 20), 2, 2, 1);
    }
    let updates = 0;
    const imgs = await readImages(files, { channels: 1, concurrency: 3, progress: { start() {}, update() { updates++; }, stop() {} } });
    assert.deepEqual(imgs.map((im) => Math.round(im.data[0]! * 255)), Array.from({ length: 9 }, (_, i) => i * 20));
    assert.equal(updates, 9);
  } finally {
    await cleanup();
  }
});
