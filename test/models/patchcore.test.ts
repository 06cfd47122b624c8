import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadDetector, type Detector } from '../../src/core/detector.js';
import { VigilError } from '../../src/core/errors.js';
import type { Image, ImageSample } from '../../src/core/types.js';
import { readImage } from '../../src/data/images.js';
import { createRng } from '../../src/data/random.js';
import { plantDefect, renderTexture, textureStyle } from '../../src/data/synthetic.js';
import { initEngine } from '../../src/engine/backend.js';
import '../../src/models/index.js';
import { defaultBackboneDir } from '../../src/models/backbone/source.js';
import { kCenterGreedy } from '../../src/models/components/coreset.js';
import { NearestNeighbourIndex } from '../../src/models/components/nearest.js';
import { PositionStatsAccumulator, standardiseGrid } from '../../src/models/components/position-stats.js';
import { patchcoreFactory } from '../../src/models/patchcore/detector.js';
import { reweightedImageScore } from '../../src/models/patchcore/score.js';
import { TINY_TAPS, writeTinyBackbone } from './tiny-backbone.js';

const SIZE = 64;

function randomPoints(n: number, dim: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * dim }, () => rng.normal());
}

function bruteForceNearest(bank: Float32Array, queries: Float32Array, dim: number): { d: number[]; i: number[] } {
  const n = bank.length / dim;
  const d: number[] = [];
  const idx: number[] = [];
  for (let q = 0; q < queries.length / dim; q++) {
    let best = Infinity;
    let bi = -1;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += (queries[q * dim + t]! - bank[j * dim + t]!) ** 2;
      if (s < best) {
        best = s;
        bi = j;
      }
    }
    d.push(Math.sqrt(best));
    idx.push(bi);
  }
  return { d, i: idx };
}

/** The textbook greedy k-center (all distances updated after every pick), in float64. */
function naiveKCenter(p: Float32Array, n: number, dim: number, k: number, start: number): number[] {
  const minD = new Float64Array(n).fill(Infinity);
  const out: number[] = [];
  let c = start;
  for (let t = 0; t < k; t++) {
    out.push(c);
    let best = -1;
    let bi = 0;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let u = 0; u < dim; u++) s += (p[j * dim + u]! - p[c * dim + u]!) ** 2;
      if (s < minD[j]!) minD[j] = s;
      if (minD[j]! > best) {
        best = minD[j]!;
        bi = j;
      }
    }
    c = bi;
  }
  return out;
}

test('k-center greedy picks the farthest points first', async () => {
  await initEngine();
  // 2-D: a tight cluster at the origin, and outliers at known distances.
  const pts = [
    [0, 0],
    [0.1, 0],
    [0, 0.1],
    [0.1, 0.1],
    [10, 0], // 10 from the start
    [-6, 0], // then 6 from {0, 10}
    [0, 3], // then 3
    [0, -2], // then 2
  ];
  const flat = Float32Array.from(pts.flat());
  const sel = kCenterGreedy(flat, pts.length, 2, 5, { start: 0 });
  assert.deepEqual(Array.from(sel), [0, 4, 5, 6, 7]);
  // Asking for more than there are distinct points stops once every point is a center.
  assert.equal(kCenterGreedy(Float32Array.from([1, 1, 1, 1, 2, 2]), 3, 2, 3).length, 2);
});

test('k-center greedy equals the textbook algorithm on random data, across blocks', async () => {
  await initEngine();
  const n = 1500;
  const dim = 12;
  const p = randomPoints(n, dim, 11);
  const expected = naiveKCenter(p, n, dim, 200, 17);
  assert.deepEqual(Array.from(kCenterGreedy(p, n, dim, 200, { start: 17, block: 64 })), expected);
  assert.deepEqual(Array.from(kCenterGreedy(p, n, dim, 200, { start: 17 })), expected);
});

test('nearest-neighbour search by matrix products equals brute force', async () => {
  await initEngine();
  const dim = 24;
  const bank = randomPoints(2100, dim, 3);
  const queries = randomPoints(300, dim, 4);
  const index = new NearestNeighbourIndex(bank, dim, { bankChunk: 500, queryChunk: 128 });
  try {
    const want = bruteForceNearest(bank, queries, dim);
    // TF.js (search) and ONNX Runtime (searchAsync, what PatchCore scores with) give the same answer.
    for (const [engine, got] of [['tfjs', index.search(queries, 300)], ['onnxruntime', await index.searchAsync(queries, 300)]] as const) {
      assert.deepEqual(Array.from(got.indices), want.i, engine);
      got.distances.forEach((d, q) => assert.ok(Math.abs(d - want.d[q]!) < 1e-4 * Math.max(1, want.d[q]!), `${engine} query ${q}: ${d} vs ${want.d[q]}`));
    }
    // k nearest of one vector: sorted, itself first.
    const k = index.nearestK(index.vector(42), 5);
    assert.equal(k.indices[0], 42);
    assert.equal(k.distances[0], 0);
    for (let i = 1; i < 5; i++) assert.ok(k.distances[i]! >= k.distances[i - 1]!);
  } finally {
    index.dispose();
  }
});

test("PatchCore image score follows the paper's Eq. 7", async () => {
  await initEngine();
  // 1-D bank; the test's worst patch (value 10) has nearest bank vector 6, whose 3 nearest are 6, 5, 4.
  const bank = Float32Array.of(0, 1, 4, 5, 6);
  const index = new NearestNeighbourIndex(bank, 1);
  try {
    const features = Float32Array.of(0.5, 10, 1);
    const nn = index.search(features, 3);
    assert.deepEqual(Array.from(nn.indices), [0, 4, 1]);
    const s = reweightedImageScore(nn.distances, nn.indices, features, index, 3);
    const d = [4, 5, 6]; // |10 - 6|, |10 - 5|, |10 - 4|
    const soft = Math.exp(d[0]!) / d.reduce((a, x) => a + Math.exp(x), 0);
    assert.ok(Math.abs(s - (1 - soft) * 4) < 1e-9, `${s}`);
    assert.equal(reweightedImageScore(nn.distances, nn.indices, features, index, 1), 4);
  } finally {
    index.dispose();
  }
});

interface Textures {
  train: ImageSample[];
  clean: ImageSample;
  defect: ImageSample & { mask: Uint8Array };
}

function textures(seed: number): Textures {
  const rng = createRng(seed);
  const style = textureStyle('weave', rng);
  const img = (): Image => renderTexture(style, SIZE, rng);
  const train = Array.from({ length: 22 }, (_, i) => ({ image: img(), source: `train-${i}` }));
  const base = img();
  const planted = plantDefect(base, rng, 'spot');
  return { train, clean: { image: base, source: 'clean' }, defect: { image: planted.image, source: 'defect', mask: planted.mask } };
}

function argmax(v: Float32Array): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

test('PatchCore on a tiny backbone: localises a planted defect, boxes cover it, save/load scores identically', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-patchcore-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backbone = await writeTinyBackbone(path.join(dir, 'tiny'), SIZE);
  const data = textures(5);
  // 9 of the 22 images are held out: enough for per-position statistics (normalisePositions).
  const det = patchcoreFactory.create({ backbone, taps: [...TINY_TAPS], height: SIZE, width: SIZE, channels: 1, coresetRatio: 0.25, seed: 1, blurSigma: 2, validationSplit: 0.4 });
  let loaded: Detector<unknown> | null = null;
  try {
    await assert.rejects(det.score([data.clean]), (e: unknown) => e instanceof VigilError && e.code === 'E_NOT_FITTED');
    const report = await det.fit(data.train);
    assert.equal(report.trainSamples, 13);
    assert.equal(report.validationSamples, 9);
    assert.ok(report.validationScores.length > 0 && det.postprocess.threshold !== null);
    const summary = det.summary();
    assert.deepEqual(summary.input, { height: SIZE, width: SIZE, channels: 1 });
    assert.deepEqual(summary.config.taps, [...TINY_TAPS]);

    const tensors = tf.memory().numTensors;
    const [clean, defect] = await det.score([data.clean, data.defect]);
    assert.equal(tf.memory().numTensors, tensors, 'scoring leaks no tensors');
    assert.ok(defect!.score > clean!.score, `defect ${defect!.score} vs clean ${clean!.score}`);
    const map = defect!.map!;
    assert.equal(map.values.length, SIZE * SIZE);
    assert.equal(data.defect.mask[argmax(map.values)], 1, 'the map peaks inside the defect mask');
    const box = defect!.reason!.boxes![0]!;
    assert.ok(box, 'the defect gets a box');
    let inside = 0;
    let total = 0;
    data.defect.mask.forEach((m, i) => {
      if (!m) return;
      total++;
      const x = i % SIZE;
      const y = Math.floor(i / SIZE);
      if (x >= box.x0 && x <= box.x1 && y >= box.y0 && y <= box.y1) inside++;
    });
    assert.ok(inside / total >= 0.5, `the first box covers ${inside} of ${total} defect pixels`);
    assert.match(defect!.reason!.summary, /PatchCore .* region\(s\)/);

    const modelDir = path.join(dir, 'model');
    const manifest = await det.save(modelDir);
    assert.deepEqual((await readdir(modelDir)).sort(), ['manifest.json', 'memory-bank.f32', 'position-mean.f32', 'position-std.f32']);
    assert.equal(manifest.state.positionImages, 9);
    loaded = await loadDetector(modelDir);
    const again = await loaded.score([data.clean, data.defect]);
    assert.equal(again[0]!.score, clean!.score);
    assert.equal(again[1]!.score, defect!.score);
    assert.deepEqual(again[1]!.map!.values, defect!.map!.values);
    assert.deepEqual(again[1]!.reason!.boxes, defect!.reason!.boxes);
    loaded.dispose();
    loaded = null;

    // A model whose backbone has gone is a clear E_BACKBONE error naming the path.
    await rename(backbone, `${backbone}-moved`);
    await assert.rejects(
      loadDetector(modelDir),
      (e: unknown) => e instanceof VigilError && e.code === 'E_BACKBONE' && e.message.includes(backbone) && e.message.includes('config.backbone'),
    );
  } finally {
    det.dispose();
    loaded?.dispose();
  }
});

test('PatchCore bounds the bank and pool', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-patchcore-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backbone = await writeTinyBackbone(path.join(dir, 'tiny'), SIZE);
  await initEngine();
  const tensors = tf.memory().numTensors;
  const det = patchcoreFactory.create({ backbone, taps: [...TINY_TAPS], height: SIZE, width: SIZE, channels: 1, maxPool: 1000, maxBank: 150, validationSplit: 0 });
  try {
    await det.fit(textures(9).train.slice(0, 6));
    await det.save(path.join(dir, 'm'));
    const { readManifest } = await import('../../src/core/model-store.js');
    const state = (await readManifest(path.join(dir, 'm'))).state as Record<string, number>;
    assert.equal(state.trainPatches, 6 * 32 * 32);
    assert.equal(state.perImage, Math.floor(1000 / 6));
    assert.equal(state.pooled, 6 * Math.floor(1000 / 6));
    assert.equal(state.bankSize, 150);
  } finally {
    det.dispose();
  }
  assert.equal(tf.memory().numTensors, tensors, 'fit, save and dispose leave no tensors behind');
});

test('per-position statistics: leave-one-out equals statistics of the others; z-scores', () => {
  const rng = createRng(4);
  const grids = Array.from({ length: 6 }, () => Float32Array.from({ length: 5 }, () => rng.normal() * 3 + 1));
  const all = new PositionStatsAccumulator(5);
  grids.forEach((g) => all.add(g));
  const others = new PositionStatsAccumulator(5);
  grids.slice(1).forEach((g) => others.add(g));
  const loo = all.stats(grids[0]);
  const direct = others.stats();
  for (let p = 0; p < 5; p++) {
    assert.ok(Math.abs(loo.mean[p]! - direct.mean[p]!) < 1e-5);
    assert.ok(Math.abs(loo.std[p]! - direct.std[p]!) < 1e-5);
    const vals = grids.slice(1).map((g) => g[p]!);
    const m = vals.reduce((a, b) => a + b, 0) / 5;
    assert.ok(Math.abs(direct.std[p]! - Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / 4)) < 1e-5);
  }
  const z = standardiseGrid(grids[0]!, loo);
  z.forEach((v, p) => assert.ok(Math.abs(v - (grids[0]![p]! - loo.mean[p]!) / loo.std[p]!) < 1e-6));
});

test('PatchCore config errors name the key', () => {
  assert.throws(() => patchcoreFactory.create({ coresetRatio: 0 }), (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG' && /coresetRatio/.test(e.message));
  assert.throws(() => patchcoreFactory.create({ taps: [] }), (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG' && /taps/.test(e.message));
});

const MOBILENET = defaultBackboneDir();
const FREE = path.resolve(MOBILENET, '../magnetic-tile/MT_Free/Imgs');
const HAVE_REAL = existsSync(path.join(MOBILENET, 'model.json')) && existsSync(FREE);

/** A dark blowhole-like disc of radius r at (cx, cy), darkening by `depth`; returns the image and mask. */
function plantDisc(image: Image, cx: number, cy: number, r: number, depth: number): { image: Image; mask: Uint8Array } {
  const { height: h, width: w } = image;
  const data = Float32Array.from(image.data);
  const mask = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = Math.hypot(x - cx, y - cy);
      if (d > r + 1) continue;
      const cover = Math.min(1, Math.max(0, r + 0.5 - d));
      data[y * w + x] = Math.max(0, data[y * w + x]! - depth * cover);
      if (cover >= 0.5) mask[y * w + x] = 1;
    }
  }
  return { image: { ...image, data }, mask };
}

test(
  'MobileNet PatchCore: a real magnetic tile with a planted defect scores higher than without',
  { skip: HAVE_REAL ? false : `needs ${MOBILENET} and ${FREE}` },
  async () => {
    const files = (await readdir(FREE)).filter((f) => f.endsWith('.jpg')).sort();
    const pick = files.filter((_, i) => i % 40 === 0).slice(0, 13);
    const images = await Promise.all(pick.map((f) => readImage(path.join(FREE, f), { channels: 1, size: { height: 224, width: 224 } })));
    const train = images.slice(0, 12).map((image, i) => ({ image, source: pick[i]! }));
    const tile = images[12]!;
    const planted = plantDisc(tile, 120, 100, 9, 0.45);
    const det = patchcoreFactory.create({ channels: 1, validationSplit: 0.2, batchSize: 4 });
    try {
      await det.fit(train);
      const [clean, defect] = await det.score([
        { image: tile, source: pick[12]! },
        { image: planted.image, source: `${pick[12]} + disc` },
      ]);
      assert.ok(defect!.score > clean!.score, `defect ${defect!.score} vs clean ${clean!.score}`);
      assert.equal(planted.mask[argmax(defect!.map!.values)], 1, 'the map peaks inside the planted defect');
    } finally {
      det.dispose();
    }
  },
);
