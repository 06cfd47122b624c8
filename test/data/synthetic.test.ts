import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Image } from '../../src/core/types.js';
import { createRng } from '../../src/data/random.js';
import { DEFECT_KINDS, generateTextureDataset, plantDefect, renderTexture, textureStyle } from '../../src/data/synthetic.js';
import { loadMvtec, loadSamples } from '../../src/data/layouts.js';
import { tempDir, vigilError } from './fixtures.js';

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
}

test('generateTextureDataset: MVTec layout, counts, and byte-identical output for a seed', async () => {
  const { dir, cleanup } = await tempDir('synth');
  try {
    const t0 = Date.now();
    const info = await generateTextureDataset(path.join(dir, 'a'), { count: 300, seed: 5 });
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds < 20, `300 images took ${seconds} s`);
    assert.deepEqual(
      [info.train, info.testGood, info.testAnomalies],
      [210, 45, { scratch: 15, spot: 15, crack: 15 }],
    );
    const ds = await loadMvtec(info.root);
    assert.equal(ds.train.length, 210);
    assert.equal(ds.test.filter((r) => r.label === 0).length, 45);
    const anomalies = ds.test.filter((r) => r.label === 1);
    assert.equal(anomalies.length, 45);
    assert.ok(anomalies.every((r) => r.maskPath?.endsWith(path.join('ground_truth', r.category, `${path.basename(r.path, '.png')}_mask.png`))));

    // Same seed → the same files with the same bytes (concurrency does not matter); another seed differs.
    const again = await generateTextureDataset(path.join(dir, 'b'), { count: 300, seed: 5, concurrency: 1 });
    const files = await listTree(info.root);
    assert.deepEqual(await listTree(again.root), files);
    for (const f of files.filter((x) => x.endsWith('.png'))) {
      assert.ok((await readFile(path.join(info.root, f))).equals(await readFile(path.join(again.root, f))), f);
    }
    const other = await generateTextureDataset(path.join(dir, 'c'), { count: 300, seed: 6 });
    assert.ok(!(await readFile(path.join(info.root, 'train/good/000.png'))).equals(await readFile(path.join(other.root, 'train/good/000.png'))));

    // Images are grey 64x64; every anomaly has a non-empty mask covering a small part of the image,
    // and the defect is visible: the masked pixels differ from their surroundings.
    const samples = await loadSamples(ds.test, { channels: 1 });
    for (const s of samples) {
      assert.deepEqual([s.image.height, s.image.width, s.image.channels], [64, 64, 1]);
      const area = s.mask!.reduce((a, b) => a + b, 0);
      if (s.label === 0) {
        assert.equal(area, 0);
        continue;
      }
      assert.ok(area >= 4 && area < 0.05 * 4096, `${s.source}: mask area ${area}`);
    }
    // Normal train images are not all the same (per-image variation) but share their statistics.
    const train = await loadSamples(ds.train.slice(0, 20), { channels: 1 });
    const means = train.map((s) => s.image.data.reduce((a, b) => a + b, 0) / 4096);
    assert.ok(new Set(means.map((m) => m.toFixed(4))).size > 15);
    assert.ok(means.every((m) => m > 0.3 && m < 0.7), `means ${means}`);

    // An existing non-empty folder is refused unless overwrite.
    await assert.rejects(generateTextureDataset(info.root, { count: 10, seed: 5 }), vigilError('E_IO', info.root, 'overwrite'));
    await writeFile(path.join(info.root, 'keep.txt'), 'x');
    const small = await generateTextureDataset(info.root, { count: 10, seed: 5, overwrite: true, trainAnomalies: 2, texture: 'brushed', size: 32 });
    const tree = await listTree(info.root);
    assert.ok(tree.includes('keep.txt'));
    assert.equal(tree.filter((f) => f.startsWith('train/good/')).length, small.train);
    assert.deepEqual(small.trainAnomalies, { scratch: 1, spot: 1 });
    assert.equal((await loadMvtec(info.root)).trainAnomalies.length, 2);
    await assert.rejects(generateTextureDataset(path.join(dir, 'd'), { count: 3 }), vigilError('E_CONFIG', 'count = 3'));
  } finally {
    await cleanup();
  }
});

test('plantDefect: each kind changes only the masked area, visibly but not wildly, without mutating the input', () => {
  const rng = createRng(3);
  for (const texture of ['weave', 'brushed', 'mottled'] as const) {
    const style = textureStyle(texture, rng);
    for (const kind of DEFECT_KINDS) {
      for (let rep = 0; rep < 10; rep++) {
        const base = renderTexture(style, 64, rng);
        const before = new Float32Array(base.data);
        const { image, mask, kind: k } = plantDefect(base, rng, kind);
        assert.equal(k, kind);
        assert.deepEqual(base.data, before, 'input untouched');
        const area = mask.reduce((a, b) => a + b, 0);
        assert.ok(area >= 3 && area <= 200, `${texture}/${kind}: mask area ${area}`);
        // Changes are confined to the mask grown by two pixels (anti-aliased edges).
        let inside = 0;
        for (let i = 0; i < 4096; i++) {
          const d = Math.abs(image.data[i]! - base.data[i]!);
          if (mask[i]) inside += d;
          else if (d > 0) {
            const y = Math.floor(i / 64), x = i % 64;
            let near = false;
            for (let dy = -2; dy <= 2 && !near; dy++) for (let dx = -2; dx <= 2 && !near; dx++) near = mask[(y + dy) * 64 + x + dx] === 1;
            assert.ok(near, `${texture}/${kind}: pixel (${y}, ${x}) changed far from the mask`);
          }
        }
        const meanChange = inside / area;
        assert.ok(meanChange > 0.08 && meanChange < 0.35, `${texture}/${kind}: mean change in mask ${meanChange}`);
      }
    }
  }
});

test('plantDefect works on RGB images and with a random kind; the same rng state gives the same defect', () => {
  const img: Image = { height: 32, width: 32, channels: 3, data: new Float32Array(32 * 32 * 3).fill(0.5) };
  const a = plantDefect(img, createRng(8));
  const b = plantDefect(img, createRng(8));
  assert.deepEqual(a, b);
  assert.ok((DEFECT_KINDS as readonly string[]).includes(a.kind));
  const i = a.mask.indexOf(1);
  assert.equal(a.image.data[3 * i], a.image.data[3 * i + 1]);
  assert.notEqual(a.image.data[3 * i], 0.5);
  const kinds = new Set(Array.from({ length: 30 }, (_, s) => plantDefect(img, createRng(s)).kind));
  assert.equal(kinds.size, 3);
  assert.throws(() => plantDefect({ height: 4, width: 4, channels: 1, data: new Float32Array(16) }, createRng(1)), vigilError('E_SHAPE'));
});
