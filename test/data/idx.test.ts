import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  imageView,
  indicesOfClass,
  loadFashionMnist,
  loadIdxImages,
  loadIdxLabels,
  packImages,
  packedSamples,
  parseIdx,
} from '../../src/data/idx.js';
import { tempDir, vigilError } from './fixtures.js';

/** idx bytes: 00 00 <type> <ndims>, big-endian uint32 dims, then the payload. */
function idxBytes(type: number, dims: number[], payload: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, payload]);
}

/** N images of H x W whose pixel (n, y, x) is (n * 31 + y * 7 + x * 3) % 256. */
function imagePayload(n: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(i * h + y) * w + x] = (i * 31 + y * 7 + x * 3) % 256;
  return out;
}

test('idx images round trip, plain and gzipped, scaled to [0, 1]', async () => {
  const { dir, cleanup } = await tempDir('idx');
  try {
    const payload = imagePayload(5, 4, 3);
    const raw = idxBytes(0x08, [5, 4, 3], payload);
    await writeFile(path.join(dir, 'a-idx3-ubyte'), raw);
    await writeFile(path.join(dir, 'a-idx3-ubyte.gz'), gzipSync(raw));
    for (const name of ['a-idx3-ubyte', 'a-idx3-ubyte.gz']) {
      const packed = await loadIdxImages(path.join(dir, name));
      assert.deepEqual([packed.count, packed.height, packed.width, packed.channels], [5, 4, 3, 1]);
      assert.equal(packed.data.length, 60);
      for (let i = 0; i < payload.length; i++) assert.equal(packed.data[i], Math.fround(payload[i]! / 255), `${name} element ${i}`);
      // Image 2, pixel (y=1, x=2) through a view.
      const img = imageView(packed, 2);
      assert.equal(img.data[1 * 3 + 2], Math.fround(((2 * 31 + 7 + 6) % 256) / 255));
    }
  } finally {
    await cleanup();
  }
});

test('idx labels read as uint8 and reject image-shaped files', async () => {
  const { dir, cleanup } = await tempDir('idx');
  try {
    const labels = Uint8Array.from([3, 1, 4, 1, 5, 9]);
    await writeFile(path.join(dir, 'l.gz'), gzipSync(idxBytes(0x08, [6], labels)));
    assert.deepEqual(await loadIdxLabels(path.join(dir, 'l.gz')), labels);
    await writeFile(path.join(dir, 'img'), idxBytes(0x08, [1, 2, 3], new Uint8Array(6)));
    await assert.rejects(loadIdxLabels(path.join(dir, 'img')), vigilError('E_SHAPE', path.join(dir, 'img'), '[1, 2, 3]'));
  } finally {
    await cleanup();
  }
});

test('idx: truncated, padded, gzip-truncated, bad magic and missing files fail naming the file', async () => {
  const { dir, cleanup } = await tempDir('idx');
  try {
    const raw = idxBytes(0x08, [5, 4, 3], imagePayload(5, 4, 3));
    const cases: [string, Uint8Array, string, string][] = [
      ['truncated', raw.subarray(0, raw.length - 1), 'E_DECODE', 'truncated'],
      ['header-only', raw.subarray(0, 10), 'E_DECODE', 'truncated idx header'],
      ['padded', Buffer.concat([raw, Buffer.from([0])]), 'E_DECODE', 'trailing bytes'],
      ['gz-truncated.gz', gzipSync(raw).subarray(0, 30), 'E_DECODE', 'gzip'],
      ['png-magic', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), 'E_DECODE', 'not an idx file'],
      ['bad-type', idxBytes(0x07, [2], new Uint8Array(2)), 'E_DECODE', 'unknown idx element type 0x07'],
      ['empty', new Uint8Array(0), 'E_DECODE', 'not an idx file'],
    ];
    for (const [name, bytes, code, what] of cases) {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      await assert.rejects(loadIdxImages(file), vigilError(code, file, what), name);
    }
    // The byte count is explained: 4 + 3*4 header + 60 payload = 76 expected, 75 found.
    await assert.rejects(loadIdxImages(path.join(dir, 'truncated')), vigilError('E_DECODE', 'need 76 bytes, the file has 75'));
    await assert.rejects(loadIdxImages(path.join(dir, 'nope')), vigilError('E_NOT_FOUND', path.join(dir, 'nope')));
    // Float images are not uint8 images.
    const f = path.join(dir, 'float');
    await writeFile(f, idxBytes(0x0d, [1, 1, 1], new Uint8Array(4)));
    await assert.rejects(loadIdxImages(f), vigilError('E_DECODE', f, 'uint8'));
  } finally {
    await cleanup();
  }
});

test('parseIdx decodes big-endian int16 and float32 elements', () => {
  const i16 = Buffer.alloc(4);
  i16.writeInt16BE(-2, 0);
  i16.writeInt16BE(300, 2);
  const a = parseIdx(idxBytes(0x0b, [2], i16), 'mem');
  assert.equal(a.dtype, 'int16');
  assert.deepEqual(Array.from(a.data), [-2, 300]);
  const f32 = Buffer.alloc(8);
  f32.writeFloatBE(1.5, 0);
  f32.writeFloatBE(-0.25, 4);
  const b = parseIdx(idxBytes(0x0d, [1, 2], f32), 'mem');
  assert.deepEqual(b.dims, [1, 2]);
  assert.deepEqual(Array.from(b.data), [1.5, -0.25]);
});

test('loadFashionMnist finds the four files (gz or not), checks counts, and names a missing file', async () => {
  const { dir, cleanup } = await tempDir('fmnist');
  try {
    const trainLabels = Uint8Array.from([0, 1, 2, 1, 0, 9]);
    const testLabels = Uint8Array.from([7, 7, 3]);
    await writeFile(path.join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idxBytes(0x08, [6, 28, 28], imagePayload(6, 28, 28))));
    await writeFile(path.join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idxBytes(0x08, [6], trainLabels)));
    await writeFile(path.join(dir, 't10k-images-idx3-ubyte'), idxBytes(0x08, [3, 28, 28], imagePayload(3, 28, 28)));
    await writeFile(path.join(dir, 't10k-labels-idx1-ubyte'), idxBytes(0x08, [3], testLabels));
    const ds = await loadFashionMnist(dir);
    assert.equal(ds.train.images.count, 6);
    assert.equal(ds.test.images.count, 3);
    assert.deepEqual(ds.train.labels, trainLabels);
    assert.deepEqual(ds.test.labels, testLabels);
    assert.equal(ds.train.images.data.length, 6 * 28 * 28);

    // One-class views: class 1 normal, the rest anomalous; image data shared with the store, not copied.
    assert.deepEqual(indicesOfClass(ds.train.labels, 1), [1, 3]);
    const samples = packedSamples(ds.train.images, { classes: ds.train.labels, normalClasses: [1] });
    assert.deepEqual(samples.map((s) => s.label), [1, 0, 1, 0, 1, 1]);
    assert.deepEqual(samples.map((s) => s.category), ['0', '1', '2', '1', '0', '9']);
    assert.equal(samples[4]!.source, `${path.join(dir, 'train-images-idx3-ubyte.gz')}#4`);
    assert.equal(samples[4]!.image.data.buffer, ds.train.images.data.buffer);
    ds.train.images.data[4 * 784 + 5] = 0.123;
    assert.equal(samples[4]!.image.data[5], Math.fround(0.123));
    const subset = packedSamples(ds.test.images, { indices: [2, 0] });
    assert.deepEqual(subset.map((s) => s.source.split('#')[1]), ['2', '0']);

    // Label count must match the image count.
    await writeFile(path.join(dir, 't10k-labels-idx1-ubyte'), idxBytes(0x08, [2], Uint8Array.from([1, 2])));
    await assert.rejects(loadFashionMnist(dir), vigilError('E_SHAPE', 't10k-labels-idx1-ubyte', '2 labels for 3 images'));
    // Missing file: the folder and the expected name.
    const { dir: empty, cleanup: c2 } = await tempDir('fmnist-empty');
    try {
      await assert.rejects(loadFashionMnist(empty), vigilError('E_NOT_FOUND', empty, 'train-images-idx3-ubyte'));
    } finally {
      await c2();
    }
    await assert.rejects(loadFashionMnist(path.join(dir, 'absent')), vigilError('E_NOT_FOUND', 'absent'));
  } finally {
    await cleanup();
  }
});

test('packImages packs same-shaped images and rejects a mismatch', () => {
  const a = { height: 2, width: 2, channels: 1 as const, data: Float32Array.from([0, 0.25, 0.5, 1]) };
  const b = { height: 2, width: 2, channels: 1 as const, data: Float32Array.from([1, 1, 0, 0]) };
  const packed = packImages([a, b], 'mem');
  assert.deepEqual(Array.from(imageView(packed, 1).data), [1, 1, 0, 0]);
  assert.throws(() => imageView(packed, 2), vigilError('E_VALUE', 'index 2'));
  const c = { height: 1, width: 4, channels: 1 as const, data: new Float32Array(4) };
  assert.throws(() => packImages([a, c], 'mem'), vigilError('E_SHAPE', 'image 1 is 1x4x1'));
});
