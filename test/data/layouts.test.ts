import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { detectLayout, loadImageDataset, loadMagneticTile, loadMvtec, loadSamples } from '../../src/data/layouts.js';
import { pixels, projectRoot, tempDir, vigilError, writeRaw } from './fixtures.js';

/** A grey PNG of constant value `v` (0-255). */
const flat = (file: string, v: number, h = 8, w = 8) => writeRaw(file, pixels(h, w, 1, () => v), h, w, 1);

/**
 * MVTec-style tree:
 *   train/good/{000,001,002}.png   train/broken/000.png (labelled anomaly)
 *   test/good/{000,001}.png        test/broken/{000,001}.png  test/scratch/000.png
 *   ground_truth/broken/000_mask.png (16x16, left half set; 001 has no mask)
 *   ground_truth/scratch/000_mask.png (8x8, rows 2-3 set)
 */
async function mvtecTree(root: string): Promise<void> {
  for (const n of ['000', '001', '002']) await flat(path.join(root, 'train', 'good', `${n}.png`), 100);
  await flat(path.join(root, 'train', 'broken', '000.png'), 10);
  for (const n of ['000', '001']) await flat(path.join(root, 'test', 'good', `${n}.png`), 100);
  for (const n of ['000', '001']) await flat(path.join(root, 'test', 'broken', `${n}.png`), 20);
  await flat(path.join(root, 'test', 'scratch', '000.png'), 30);
  await writeRaw(path.join(root, 'ground_truth', 'broken', '000_mask.png'), pixels(16, 16, 1, (_y, x) => (x < 8 ? 255 : 0)), 16, 16, 1);
  await writeRaw(path.join(root, 'ground_truth', 'scratch', '000_mask.png'), pixels(8, 8, 1, (y) => (y === 2 || y === 3 ? 255 : 0)), 8, 8, 1);
  await writeFile(path.join(root, 'test', 'good', 'readme.txt'), 'not an image');
}

test('MVTec layout: detection, splits, labels, categories, masks and train anomalies', async () => {
  const { dir, cleanup } = await tempDir('mvtec');
  try {
    const root = path.join(dir, 'bottle');
    await mvtecTree(root);
    assert.equal(await detectLayout(root), 'mvtec');
    const ds = await loadImageDataset(root);
    assert.equal(ds.layout, 'mvtec');
    assert.equal(ds.name, 'bottle');
    assert.equal(ds.hasMasks, true);
    assert.deepEqual(ds.train.map((r) => path.relative(root, r.path)), ['train/good/000.png', 'train/good/001.png', 'train/good/002.png']);
    assert.ok(ds.train.every((r) => r.label === 0 && r.category === 'good' && r.maskPath === undefined));
    assert.deepEqual(
      ds.test.map((r) => [path.relative(root, r.path), r.label, r.category, r.maskPath && path.relative(root, r.maskPath)]),
      [
        ['test/good/000.png', 0, 'good', undefined],
        ['test/good/001.png', 0, 'good', undefined],
        ['test/broken/000.png', 1, 'broken', 'ground_truth/broken/000_mask.png'],
        ['test/broken/001.png', 1, 'broken', undefined],
        ['test/scratch/000.png', 1, 'scratch', 'ground_truth/scratch/000_mask.png'],
      ],
    );
    assert.deepEqual(ds.trainAnomalies.map((r) => [path.relative(root, r.path), r.label, r.category]), [['train/broken/000.png', 1, 'broken']]);

    // Native size: the 16x16 mask is resized to the 8x8 image; normal images get all-zero masks;
    // an anomaly without a mask file gets null (unknown), not zeros.
    const samples = await loadSamples(ds.test, { channels: 1 });
    assert.equal(samples.length, 5);
    for (const s of samples) assert.deepEqual([s.image.height, s.image.width], [8, 8]);
    assert.deepEqual(Array.from(samples[0]!.mask!), new Array(64).fill(0));
    assert.deepEqual(Array.from(samples[2]!.mask!), Array.from({ length: 64 }, (_, i) => (i % 8 < 4 ? 1 : 0)));
    assert.equal(samples[3]!.mask, null);
    assert.deepEqual(samples.map((s) => [s.label, s.category, s.source]), ds.test.map((r) => [r.label, r.category, r.path]));
    assert.equal(samples[2]!.image.data[0], Math.fround(20 / 255));

    // Resized to 4x6: images and masks together.
    const small = await loadSamples(ds.test, { channels: 3, size: { height: 4, width: 6 } });
    for (const s of small) {
      assert.deepEqual([s.image.height, s.image.width, s.image.channels], [4, 6, 3]);
      if (s.mask) assert.equal(s.mask.length, 24);
    }
    assert.deepEqual(Array.from(small[2]!.mask!), Array.from({ length: 24 }, (_, i) => (i % 6 < 3 ? 1 : 0)));
    // Rows 2-3 of 8 → row 1 of 4 (nearest neighbour).
    assert.deepEqual(Array.from(small[4]!.mask!), Array.from({ length: 24 }, (_, i) => (Math.floor(i / 6) === 1 ? 1 : 0)));

    // Train refs carry no masks, so none are attached.
    const train = await loadSamples(ds.train, { channels: 1 });
    assert.ok(train.every((s) => s.mask === undefined && s.label === 0));
  } finally {
    await cleanup();
  }
});

test('magnetic-tile layout: the every-fifth split over sorted names, defect classes and masks', async () => {
  const { dir, cleanup } = await tempDir('mt');
  try {
    const root = path.join(dir, 'magnetic-tile');
    // 12 normal images named so that code-unit order differs from numeric order.
    const freeNames = ['exp1_num_9', 'exp1_num_10', 'exp1_num_100', 'exp0_num_5', 'exp2_num_1', 'exp1_num_2', 'exp3_num_7', 'exp1_num_11', 'exp0_num_50', 'exp2_num_3', 'exp1_num_1', 'exp4_num_8'];
    for (const n of freeNames) {
      await writeRaw(path.join(root, 'MT_Free', 'Imgs', `${n}.jpg`), pixels(6, 10, 1, () => 128), 6, 10, 1, 'jpeg');
      await writeRaw(path.join(root, 'MT_Free', 'Imgs', `${n}.png`), new Uint8Array(60), 6, 10, 1);
    }
    const defects: Record<string, string[]> = { MT_Blowhole: ['b2', 'b1'], MT_Crack: ['c1'] };
    for (const [cls, names] of Object.entries(defects)) {
      for (const n of names) {
        await writeRaw(path.join(root, cls, 'Imgs', `${n}.jpg`), pixels(6, 10, 1, () => 60), 6, 10, 1, 'jpeg');
        await writeRaw(path.join(root, cls, 'Imgs', `${n}.png`), pixels(6, 10, 1, (_y, x) => (x >= 5 ? 255 : 0)), 6, 10, 1);
      }
    }
    await mkdir(path.join(root, 'MT_Empty', 'Imgs'), { recursive: true });
    await writeFile(path.join(root, 'README.md'), 'x');

    assert.equal(await detectLayout(root), 'magnetic-tile');
    const ds = await loadMagneticTile(root);
    const sorted = [...freeNames].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual(sorted.slice(0, 4), ['exp0_num_5', 'exp0_num_50', 'exp1_num_1', 'exp1_num_10']);
    const base = (p: string) => path.basename(p, '.jpg');
    const expectTestNormal = sorted.filter((_, i) => i % 5 === 0);
    assert.deepEqual(expectTestNormal, ['exp0_num_5', 'exp1_num_11', 'exp3_num_7']);
    assert.deepEqual(ds.train.map((r) => base(r.path)), sorted.filter((_, i) => i % 5 !== 0));
    assert.equal(ds.train.length, 9);
    assert.deepEqual(
      ds.test.map((r) => [base(r.path), r.label, r.category]),
      [
        ['exp0_num_5', 0, 'good'],
        ['exp1_num_11', 0, 'good'],
        ['exp3_num_7', 0, 'good'],
        ['b1', 1, 'Blowhole'],
        ['b2', 1, 'Blowhole'],
        ['c1', 1, 'Crack'],
      ],
    );
    assert.ok(ds.test.every((r) => r.maskPath === r.path.replace(/\.jpg$/, '.png')));
    assert.equal(ds.hasMasks, true);

    const samples = await loadSamples(ds.test, { channels: 1, size: { height: 3, width: 4 } });
    assert.deepEqual(Array.from(samples[0]!.mask!), new Array(12).fill(0));
    assert.deepEqual(Array.from(samples[3]!.mask!), Array.from({ length: 12 }, (_, i) => (i % 4 >= 2 ? 1 : 0)));
    assert.ok(Math.abs(samples[3]!.image.data[0]! - 60 / 255) < 3 / 255);
  } finally {
    await cleanup();
  }
});

test('plain folder layout, and detection errors that name the folder and what was looked for', async () => {
  const { dir, cleanup } = await tempDir('layout');
  try {
    const folder = path.join(dir, 'parts');
    await flat(path.join(folder, 'b.png'), 50);
    await flat(path.join(folder, 'a.png'), 60);
    assert.equal(await detectLayout(folder), 'folder');
    const ds = await loadImageDataset(folder);
    assert.deepEqual(ds.train.map((r) => path.basename(r.path)), ['a.png', 'b.png']);
    assert.deepEqual([ds.test.length, ds.trainAnomalies.length, ds.hasMasks], [0, 0, false]);

    const empty = path.join(dir, 'x');
    await mkdir(path.join(empty, 'sub'), { recursive: true });
    await assert.rejects(detectLayout(empty), vigilError('E_EMPTY', empty, 'no train/good folder (MVTec layout)', 'no MT_Free/Imgs (magnetic-tile layout)'));
    await assert.rejects(loadImageDataset(path.join(dir, 'absent')), vigilError('E_NOT_FOUND', path.join(dir, 'absent')));
    await assert.rejects(loadMvtec(folder), vigilError('E_NOT_FOUND', folder, 'train/good'));

    // A parent of MVTec categories: the error lists them.
    const parent = path.join(dir, 'mvtec');
    await flat(path.join(parent, 'bottle', 'train', 'good', '000.png'), 1);
    await flat(path.join(parent, 'cable', 'train', 'good', '000.png'), 1);
    await assert.rejects(detectLayout(parent), vigilError('E_EMPTY', 'pick one: bottle, cable'));

    // train/good present but empty.
    const hollow = path.join(dir, 'hollow');
    await mkdir(path.join(hollow, 'train', 'good'), { recursive: true });
    await assert.rejects(loadImageDataset(hollow), vigilError('E_EMPTY', path.join(hollow, 'train', 'good')));
    // A corrupt image inside a layout names the file.
    await writeFile(path.join(folder, 'c.png'), 'garbage');
    const again = await loadImageDataset(folder);
    await assert.rejects(loadSamples(again.train, { channels: 1 }), vigilError('E_DECODE', path.join(folder, 'c.png')));
  } finally {
    await cleanup();
  }
});

test('real magnetic-tile data set: the benchmark split counts', async (t) => {
  const root = path.resolve(projectRoot, '../shared/data/magnetic-tile');
  const present = await stat(path.join(root, 'MT_Free', 'Imgs')).then((s) => s.isDirectory(), () => false);
  if (!present) {
    t.skip(`real magnetic-tile data not available: ${root} is absent`);
    return;
  }
  const ds = await loadImageDataset(root);
  assert.equal(ds.layout, 'magnetic-tile');
  const normalTest = ds.test.filter((r) => r.label === 0);
  const defects = ds.test.filter((r) => r.label === 1);
  assert.equal(ds.train.length + normalTest.length, 952);
  assert.equal(normalTest.length, 191);
  assert.equal(ds.train.length, 761);
  assert.equal(defects.length, 392);
  const perClass: Record<string, number> = {};
  for (const r of defects) perClass[r.category] = (perClass[r.category] ?? 0) + 1;
  assert.deepEqual(perClass, { Blowhole: 115, Break: 85, Crack: 57, Fray: 32, Uneven: 103 });
  // Every image has its same-name mask, and the first sorted MT_Free name is a test image.
  assert.ok([...ds.train, ...ds.test].every((r) => r.maskPath !== undefined));
  const sorted = (await readdir(path.join(root, 'MT_Free', 'Imgs'))).filter((n) => n.endsWith('.jpg')).sort();
  assert.equal(path.basename(normalTest[0]!.path), sorted[0]);
  // A few decode with masks resized to the image.
  const few = await loadSamples([normalTest[0]!, defects[0]!], { channels: 1, size: { height: 64, width: 64 } });
  assert.deepEqual(few.map((s) => s.mask!.length), [4096, 4096]);
  assert.equal(few[0]!.mask!.reduce((a, b) => a + b, 0), 0);
  assert.ok(few[1]!.mask!.reduce((a, b) => a + b, 0) > 0);
});
