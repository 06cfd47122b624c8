import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getDetectorFactory, loadDetector } from '../../src/core/detector.js';
import { VigilError } from '../../src/core/errors.js';
import type { ImageSample } from '../../src/core/types.js';
import { createRng } from '../../src/data/random.js';
import { plantDefect, renderTexture, textureStyle } from '../../src/data/synthetic.js';
import { auroc } from '../../src/metrics/index.js';
import '../../src/models/index.js';
import { initEngine } from '../../src/engine/backend.js';
import { buildAutoencoder } from '../../src/models/conv-ae/network.js';

const SIZE = 32;

/** Normal textures of one style, and test images half of which carry a planted defect. */
function textures(seed: number, nTrain: number, nTest: number) {
  const rng = createRng(seed);
  const style = textureStyle('weave', rng);
  const sample = (i: number, prefix: string): ImageSample => ({ image: renderTexture(style, SIZE, rng), source: `${prefix}-${i}` });
  const train = Array.from({ length: nTrain }, (_, i) => sample(i, 'train'));
  const test: ImageSample[] = [];
  for (let i = 0; i < nTest; i++) {
    const s = sample(i, 'test');
    if (i % 2 === 1) {
      const d = plantDefect(s.image, rng, 'spot');
      test.push({ image: d.image, source: s.source, label: 1, mask: d.mask });
    } else test.push({ ...s, label: 0, mask: new Uint8Array(SIZE * SIZE) });
  }
  return { train, test };
}

const config = { height: SIZE, width: SIZE, channels: 1, depth: 2, filters: 8, latent: 16, epochs: 6, batchSize: 16, learningRate: 3e-3, seed: 3 };

test('conv-ae learns normal textures: planted spots score higher, the map peaks inside the spot', async () => {
  const { train, test: testSet } = textures(1, 96, 24);
  const det = getDetectorFactory('conv-ae').create({ ...config, loss: 'mse', aggregate: 'topk', topk: 0.02 });
  const report = await det.fit(train);
  assert.ok(report.history.length > 0 && report.history.at(-1)!.loss < report.history[0]!.loss, 'training loss decreases');
  assert.ok(det.postprocess.threshold !== null, 'a label-free threshold is fitted');
  const results = await det.score(testSet);
  const a = auroc(results.map((r) => r.score), testSet.map((s) => s.label!));
  assert.ok(a > 0.8, `AUROC ${a} should be well above chance`);
  // Localisation: for most defective images the hottest pixel is on the defect.
  let hits = 0;
  let defective = 0;
  testSet.forEach((s, i) => {
    if (s.label !== 1) return;
    defective++;
    const v = results[i]!.map!.values;
    let arg = 0;
    for (let j = 1; j < v.length; j++) if (v[j]! > v[arg]!) arg = j;
    // Allow a one-pixel margin around the mask.
    const y = Math.floor(arg / SIZE);
    const x = arg % SIZE;
    let near = false;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (s.mask![(y + dy) * SIZE + x + dx]) near = true;
    if (near) hits++;
  });
  assert.ok(hits / defective >= 0.7, `the map peaks on the defect in ${hits}/${defective} images`);
  det.dispose();
});

test('same seed gives the same model; save and load give the same scores and threshold', async () => {
  const { train, test: testSet } = textures(2, 40, 6);
  const make = () => getDetectorFactory('conv-ae').create({ ...config, epochs: 2 });
  const a = make();
  const b = make();
  await a.fit(train);
  await b.fit(train);
  const sa = (await a.score(testSet)).map((r) => r.score);
  const sb = (await b.score(testSet)).map((r) => r.score);
  assert.deepEqual(sa, sb, 'two runs with one seed agree exactly');
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'vigil-ae-')), 'model');
  await a.save(dir);
  const loaded = await loadDetector<ImageSample>(dir);
  assert.equal(loaded.kind, 'conv-ae');
  assert.equal(loaded.postprocess.threshold, a.postprocess.threshold);
  assert.deepEqual((await loaded.score(testSet)).map((r) => r.score), sa);
  a.dispose();
  b.dispose();
  loaded.dispose();
});

test('conv-vae trains with a KL term and separates planted defects', async () => {
  const { train, test: testSet } = textures(4, 96, 24);
  const det = getDetectorFactory('conv-vae').create({ ...config, epochs: 20, klWeight: 0.1, scoreKl: true, aggregate: 'topk', topk: 0.02 });
  await det.fit(train);
  const results = await det.score(testSet);
  assert.match(results[0]!.reason!.summary, /KL/);
  const a = auroc(results.map((r) => r.score), testSet.map((s) => s.label!));
  assert.ok(a > 0.75, `VAE AUROC ${a} should be well above chance`);
  det.dispose();
});

test('bad input: wrong image size, NaN pixels and bad config name the culprit', async () => {
  const { train } = textures(5, 24, 0);
  const det = getDetectorFactory('conv-ae').create({ ...config, epochs: 1 });
  await det.fit(train);
  const wrong: ImageSample = { image: { height: 16, width: 16, channels: 1, data: new Float32Array(256) }, source: 'small.png' };
  await assert.rejects(det.score([wrong]), (e) => e instanceof VigilError && e.code === 'E_SHAPE' && /small\.png.*16x16x1/.test(e.message));
  const nan: ImageSample = { image: { ...train[0]!.image, data: train[0]!.image.data.slice() }, source: 'nan.png' };
  nan.image.data[5] = Number.NaN;
  await assert.rejects(det.score([nan]), (e) => e instanceof VigilError && e.code === 'E_VALUE' && /nan\.png/.test(e.message));
  assert.throws(() => getDetectorFactory('conv-ae').create({ latent: 0 }), (e) => e instanceof VigilError && e.code === 'E_CONFIG' && /latent/.test(e.message));
  assert.throws(() => getDetectorFactory('conv-ae').create({ laten: 3 }), (e) => e instanceof VigilError && /unknown key "laten"/.test(e.message));
  assert.throws(() => getDetectorFactory('conv-ae').create({ height: 30, width: 30, depth: 2 }), (e) => e instanceof VigilError && /divisible/.test(e.message));
  det.dispose();
});

test('init: torch draws kernels and biases uniformly within ±1/√fan-in (PyTorch), glorot leaves biases at zero', async () => {
  await initEngine();
  const shape = { height: 28, width: 28, channels: 1, depth: 2, filters: 32, latent: 32, variational: false, seed: 5 };
  const torch = buildAutoencoder({ ...shape, init: 'torch' });
  const glorot = buildAutoencoder(shape);
  try {
    // encoder: conv 1→32 (fan-in 9), conv 32→64 (fan-in 288), dense 3136→32 (fan-in 3136)
    const fanIns = [9, 288, 3136];
    const layers = torch.encoder.layers.filter((l) => l.getWeights().length === 2);
    assert.equal(layers.length, 3);
    layers.forEach((layer, i) => {
      const bound = 1 / Math.sqrt(fanIns[i]!);
      for (const w of layer.getWeights()) {
        const v = w.dataSync() as Float32Array;
        const max = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        assert.ok(max <= bound + 1e-7, `${layer.name}: |w| up to ${max}, bound ${bound}`);
        assert.ok(max > 0.8 * bound, `${layer.name}: values fill the range (max ${max}, bound ${bound})`);
      }
    });
    const glorotBiases = glorot.encoder.layers.filter((l) => l.getWeights().length === 2).map((l) => l.getWeights()[1]!.dataSync() as Float32Array);
    assert.ok(glorotBiases.every((b) => b.every((x) => x === 0)));
  } finally {
    for (const n of [torch, glorot]) {
      n.encoder.dispose();
      n.decoder.dispose();
    }
  }
});
