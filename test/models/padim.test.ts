import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadDetector, type Detector } from '../../src/core/detector.js';
import { VigilError } from '../../src/core/errors.js';
import { readManifest } from '../../src/core/model-store.js';
import type { Image, ImageSample } from '../../src/core/types.js';
import { readImage } from '../../src/data/images.js';
import { createRng } from '../../src/data/random.js';
import { plantDefect, renderTexture, textureStyle } from '../../src/data/synthetic.js';
import '../../src/models/index.js';
import { defaultBackboneDir } from '../../src/models/backbone/source.js';
import { GaussianAccumulator, invertSpd, mahalanobis, packSymmetric, unpackSymmetric } from '../../src/models/components/gaussian.js';
import { padimFactory } from '../../src/models/padim/detector.js';
import { TINY_TAPS, writeTinyBackbone } from './tiny-backbone.js';

const SIZE = 64;

/** Inverse by Gauss-Jordan elimination with partial pivoting (independent of the Cholesky code). */
function gaussJordanInverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const piv = m[c]![c]!;
    for (let j = 0; j < 2 * n; j++) m[c]![j]! /= piv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]!;
      for (let j = 0; j < 2 * n; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row) => row.slice(n));
}

test('Mahalanobis distance matches a direct computation with an independently inverted covariance', () => {
  const rng = createRng(21);
  const P = 3;
  const d = 5;
  const n = 40;
  // Correlated features: x = A z + b per position.
  const A = Array.from({ length: P }, () => Array.from({ length: d * d }, () => rng.normal()));
  const samples = Array.from({ length: n }, () => {
    const x = new Float32Array(P * d);
    for (let p = 0; p < P; p++) {
      const z = Array.from({ length: d }, () => rng.normal());
      for (let u = 0; u < d; u++) {
        let s = 3 + p;
        for (let v = 0; v < d; v++) s += A[p]![u * d + v]! * z[v]!;
        x[p * d + u] = s;
      }
    }
    return x;
  });
  const acc = new GaussianAccumulator(P, d);
  const packed = (list: Float32Array[]) => {
    const out = new Float32Array(list.length * P * d);
    list.forEach((x, i) => out.set(x, i * P * d));
    return out;
  };
  acc.add(packed(samples.slice(0, 17)), 17);
  acc.add(packed(samples.slice(17)), n - 17);
  const eps = 0.01;
  const g = acc.finish(eps);
  const query = Float32Array.from({ length: P * d }, () => rng.normal() * 2 + 3);
  const got = mahalanobis(query, g);
  for (let p = 0; p < P; p++) {
    const mean = Array.from({ length: d }, (_, u) => samples.reduce((s, x) => s + x[p * d + u]!, 0) / n);
    const cov = Array.from({ length: d }, (_, u) =>
      Array.from({ length: d }, (_, v) => samples.reduce((s, x) => s + (x[p * d + u]! - mean[u]!) * (x[p * d + v]! - mean[v]!), 0) / (n - 1) + (u === v ? eps : 0)),
    );
    const inv = gaussJordanInverse(cov);
    const diff = mean.map((m, u) => query[p * d + u]! - m);
    let s = 0;
    for (let u = 0; u < d; u++) for (let v = 0; v < d; v++) s += diff[u]! * inv[u]![v]! * diff[v]!;
    assert.ok(Math.abs(got[p]! - Math.sqrt(s)) < 1e-4 * Math.sqrt(s), `position ${p}: ${got[p]} vs ${Math.sqrt(s)}`);
    for (let u = 0; u < d; u++) assert.ok(Math.abs(g.mean[p * d + u]! - mean[u]!) < 1e-4);
  }
});

test('invertSpd inverts, rejects non-positive-definite matrices; packed storage round-trips', () => {
  const a = Float64Array.of(4, 2, 0.6, 2, 5, 1, 0.6, 1, 3);
  const inv = invertSpd(a, 3);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += a[i * 3 + k]! * inv[k * 3 + j]!;
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12);
    }
  }
  assert.throws(() => invertSpd(Float64Array.of(1, 2, 2, 1), 2, 'cov'), (e: unknown) => e instanceof VigilError && e.code === 'E_VALUE' && /cov: not positive definite/.test(e.message));
  const full = Float32Array.of(1, 2, 3, 2, 4, 5, 3, 5, 6, 7, 8, 9, 8, 1, 2, 9, 2, 3);
  const packed = packSymmetric(full, 3, 2);
  assert.deepEqual(Array.from(packed), [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3]);
  assert.deepEqual(unpackSymmetric(packed, 3, 2), full);
});

function textures(seed: number): { train: ImageSample[]; clean: ImageSample; defect: ImageSample & { mask: Uint8Array } } {
  const rng = createRng(seed);
  const style = textureStyle('weave', rng);
  const img = (): Image => renderTexture(style, SIZE, rng);
  const train = Array.from({ length: 24 }, (_, i) => ({ image: img(), source: `train-${i}` }));
  const base = img();
  const planted = plantDefect(base, rng, 'spot');
  return { train, clean: { image: base, source: 'clean' }, defect: { image: planted.image, source: 'defect', mask: planted.mask } };
}

function argmax(v: Float32Array): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

test('PaDiM on a tiny backbone: localises a planted defect, boxes cover it, save/load scores identically', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-padim-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backbone = await writeTinyBackbone(path.join(dir, 'tiny'), SIZE);
  const data = textures(5);
  const det = padimFactory.create({ backbone, taps: [...TINY_TAPS], height: SIZE, width: SIZE, channels: 1, dims: 20, gridStride: 4, seed: 2, blurSigma: 2 });
  let loaded: Detector<unknown> | null = null;
  try {
    await assert.rejects(det.score([data.clean]), (e: unknown) => e instanceof VigilError && e.code === 'E_NOT_FITTED');
    await det.fit(data.train);
    const tensors = tf.memory().numTensors;
    const [clean, defect] = await det.score([data.clean, data.defect]);
    assert.equal(tf.memory().numTensors, tensors, 'scoring leaks no tensors');
    assert.ok(defect!.score > clean!.score, `defect ${defect!.score} vs clean ${clean!.score}`);
    assert.equal(data.defect.mask[argmax(defect!.map!.values)], 1, 'the map peaks inside the defect mask');
    const box = defect!.reason!.boxes![0];
    assert.ok(box, 'the defect gets a box');
    const peak = argmax(defect!.map!.values);
    const px = peak % SIZE;
    const py = Math.floor(peak / SIZE);
    assert.ok(px >= box.x0 && px <= box.x1 && py >= box.y0 && py <= box.y1, 'the first box holds the peak');
    assert.match(defect!.reason!.summary, /PaDiM/);

    const modelDir = path.join(dir, 'model');
    await det.save(modelDir);
    const files = await readdir(modelDir);
    assert.ok(files.includes('gaussian-mean.f32') && files.includes('gaussian-inverse-covariance.f32'));
    const manifest = await readManifest(modelDir);
    // 16x16 grid, 20 dims: means 256*20, packed inverses 256*210 float32.
    assert.equal(manifest.files['gaussian-mean.f32']!.bytes, 256 * 20 * 4);
    assert.equal(manifest.files['gaussian-inverse-covariance.f32']!.bytes, 256 * 210 * 4);
    assert.equal(manifest.config.backbone, backbone);
    assert.deepEqual(manifest.config.taps, [...TINY_TAPS]);
    loaded = await loadDetector(modelDir);
    const again = await loaded.score([data.clean, data.defect]);
    assert.equal(again[0]!.score, clean!.score);
    assert.equal(again[1]!.score, defect!.score);
    assert.deepEqual(again[1]!.map!.values, defect!.map!.values);
  } finally {
    det.dispose();
    loaded?.dispose();
  }
});

test('PaDiM: more dims than the taps have is E_CONFIG naming dims', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-padim-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backbone = await writeTinyBackbone(path.join(dir, 'tiny'), SIZE);
  const det = padimFactory.create({ backbone, taps: [...TINY_TAPS], height: SIZE, width: SIZE, channels: 1, dims: 25 });
  try {
    await assert.rejects(det.fit(textures(1).train.slice(0, 3)), (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG' && /dims: 25 exceeds the 24 channels/.test(e.message));
  } finally {
    det.dispose();
  }
});

const MOBILENET = defaultBackboneDir();
const FREE = path.resolve(MOBILENET, '../magnetic-tile/MT_Free/Imgs');
const HAVE_REAL = existsSync(path.join(MOBILENET, 'model.json')) && existsSync(FREE);

test(
  'MobileNet PaDiM: a real magnetic tile with a planted defect scores higher than without',
  { skip: HAVE_REAL ? false : `needs ${MOBILENET} and ${FREE}` },
  async () => {
    const files = (await readdir(FREE)).filter((f) => f.endsWith('.jpg')).sort();
    const pick = files.filter((_, i) => i % 40 === 0).slice(0, 17);
    const images = await Promise.all(pick.map((f) => readImage(path.join(FREE, f), { channels: 1, size: { height: 224, width: 224 } })));
    const train = images.slice(0, 16).map((image, i) => ({ image, source: pick[i]! }));
    const tile = images[16]!;
    // A dark disc of radius 9 at (120, 100).
    const data = Float32Array.from(tile.data);
    for (let y = 90; y <= 110; y++) for (let x = 110; x <= 130; x++) if (Math.hypot(x - 120, y - 100) <= 9) data[y * 224 + x] = Math.max(0, data[y * 224 + x]! - 0.45);
    const det = padimFactory.create({ channels: 1, validationSplit: 0.2, batchSize: 4 });
    try {
      await det.fit(train);
      const [clean, defect] = await det.score([
        { image: tile, source: pick[16]! },
        { image: { ...tile, data }, source: `${pick[16]} + disc` },
      ]);
      assert.ok(defect!.score > clean!.score, `defect ${defect!.score} vs clean ${clean!.score}`);
      const peak = argmax(defect!.map!.values);
      assert.ok(Math.hypot((peak % 224) - 120, Math.floor(peak / 224) - 100) <= 16, 'the map peaks at the planted defect');
    } finally {
      det.dispose();
    }
  },
);
