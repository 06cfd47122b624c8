/**
 * Detectors on ONNX Runtime: conv-ae and conv-vae export encoder.onnx / decoder.onnx at save time
 * (listed in the manifest with checksums), score on ORT after training and after loading, and agree
 * with TF.js; a folder without exports, or with an export ORT cannot load, falls back to TF.js.
 * The conv1d / tabular autoencoders' networks and the MobileNet backbone (when the shared data is
 * there) export within 1e-5 relative error.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { getDetectorFactory, loadDetector, type Detector } from '../../src/core/detector.js';
import { readModelDir, writeModelDir } from '../../src/core/model-store.js';
import type { ImageSample } from '../../src/core/types.js';
import { createRng } from '../../src/data/random.js';
import { renderTexture, textureStyle } from '../../src/data/synthetic.js';
import { initEngine } from '../../src/engine/backend.js';
import { compareEngines, exportLayersModel, OrtEngine, OrtSession, TfjsEngine, type OnnxNetworksState } from '../../src/engine/onnx/index.js';
import { NetworkEngines } from '../../src/engine/onnx/networks.js';
import { buildConv1dAutoencoder } from '../../src/models/conv1d-ae/network.js';
import { buildDenseAutoencoder } from '../../src/models/tabular-ae/network.js';
import '../../src/models/index.js';

const SIZE = 16;
const MOBILENET = path.resolve(import.meta.dirname, '../../../shared/data/mobilenet_v1');

function images(seed: number, n: number): ImageSample[] {
  const rng = createRng(seed);
  const style = textureStyle('weave', rng);
  return Array.from({ length: n }, (_, i) => ({ image: renderTexture(style, SIZE, rng), source: `img-${seed}-${i}` }));
}

const small = { height: SIZE, width: SIZE, channels: 1, depth: 2, filters: 4, latent: 8, epochs: 1, batchSize: 16, seed: 5 };

async function scores(d: Detector<ImageSample>, xs: ImageSample[]): Promise<{ scores: number[]; maps: Float32Array[] }> {
  const r = await d.score(xs);
  return { scores: r.map((x) => x.score), maps: r.map((x) => x.map!.values) };
}

function maxRel(a: number[], b: number[]): number {
  let m = 0;
  a.forEach((v, i) => (m = Math.max(m, Math.abs(v - b[i]!) / Math.max(Math.abs(b[i]!), 1e-12))));
  return m;
}

/** A copy of `dir` at `to` whose manifest has no ONNX exports (as saved before exports existed). */
async function withoutExports(dir: string, to: string): Promise<void> {
  const { manifest, files } = await readModelDir(dir);
  const { onnx: _, ...state } = manifest.state as Record<string, unknown>;
  const kept = Object.fromEntries(Object.entries(files).filter(([name]) => !name.endsWith('.onnx')));
  const { format: _f, formatVersion: _v, vigilVersion: _vv, createdAt: _c, files: _fl, ...draft } = manifest;
  await writeModelDir(to, { ...draft, state }, kept);
}

/** A copy of `dir` at `to` whose encoder.onnx is not a model (checksums recomputed: ORT, not the store, must refuse it). */
async function withBrokenEncoder(dir: string, to: string): Promise<void> {
  const { manifest, files } = await readModelDir(dir);
  const { format: _f, formatVersion: _v, vigilVersion: _vv, createdAt: _c, files: _fl, ...draft } = manifest;
  await writeModelDir(to, draft, { ...files, 'encoder.onnx': new Uint8Array([8, 1, 2, 3, 4]) });
}

for (const kind of ['conv-ae', 'conv-vae'] as const) {
  describe(`${kind} on ONNX Runtime`, () => {
    test('saves encoder.onnx and decoder.onnx with checksums; ORT scores match TF.js after reload; fallbacks work', async () => {
      const tmp = await mkdtemp(path.join(os.tmpdir(), `vigil-onnx-${kind}-`));
      const dets: Detector<ImageSample>[] = [];
      try {
        const det = getDetectorFactory(kind).create({ ...small, ...(kind === 'conv-vae' ? { scoreKl: true } : {}) }) as Detector<ImageSample>;
        dets.push(det);
        await det.fit(images(1, 40), { validationSplit: 0.25 });
        const probe = images(2, 6);
        const trained = await scores(det, probe);
        const dir = path.join(tmp, 'model');
        const manifest = await det.save(dir);
        for (const file of ['encoder.onnx', 'decoder.onnx']) {
          assert.ok(manifest.files[file] && /^[0-9a-f]{64}$/.test(manifest.files[file]!.sha256), `${file} is listed with a checksum`);
        }
        const onnx = (manifest.state as { onnx?: OnnxNetworksState }).onnx!;
        assert.deepEqual(Object.keys(onnx.networks).sort(), ['decoder', 'encoder']);
        assert.deepEqual(onnx.networks.encoder!.inputs[0]!.shape, [null, SIZE, SIZE, 1]);
        assert.ok(onnx.networks.encoder!.checkedRelError! <= 1e-5, `export check ${onnx.networks.encoder!.checkedRelError}`);

        const loaded = await loadDetector<ImageSample>(dir);
        dets.push(loaded);
        const reloaded = await scores(loaded, probe);
        assert.ok(maxRel(reloaded.scores, trained.scores) <= 1e-6, 'ORT scores are the same before and after reload');

        const plainDir = path.join(tmp, 'plain');
        await withoutExports(dir, plainDir);
        const plain = await loadDetector<ImageSample>(plainDir);
        dets.push(plain);
        const onTfjs = await scores(plain, probe);
        assert.ok(maxRel(reloaded.scores, onTfjs.scores) <= 1e-4, `ORT vs TF.js scores differ by ${maxRel(reloaded.scores, onTfjs.scores)}`);
        // Per map: max |ORT − TF.js| over the map's largest value (single pixels can cancel to ~0).
        const mapDiff = Math.max(...onTfjs.maps.map((m, i) => Math.max(...m.map((v, j) => Math.abs(v - reloaded.maps[i]![j]!))) / Math.max(...m)));
        assert.ok(mapDiff <= 1e-4, `maps differ by ${mapDiff}`);

        const brokenDir = path.join(tmp, 'broken');
        await withBrokenEncoder(dir, brokenDir);
        const broken = await loadDetector<ImageSample>(brokenDir);
        dets.push(broken);
        assert.ok(maxRel((await scores(broken, probe)).scores, onTfjs.scores) <= 1e-6, 'a model ORT refuses scores on TF.js');
        // Saving again keeps the exports it has (decoder) and the fallback's reason.
        const resaved = await broken.save(path.join(tmp, 'resaved'));
        assert.ok(resaved.files['decoder.onnx']);
      } finally {
        for (const d of dets) d.dispose();
        await rm(tmp, { recursive: true, force: true });
      }
    });
  });
}

describe('NetworkEngines', () => {
  test('reports the engine per network and why a network fell back', async () => {
    await initEngine();
    const nets = buildDenseAutoencoder({ features: 6, hidden: [5], latent: 2, seed: 1 });
    const engines = await NetworkEngines.export(nets as unknown as Record<'encoder' | 'decoder', tfl.LayersModel>);
    try {
      const report = engines.report();
      assert.match(report.encoder.engine, /^onnxruntime \[cpu\], 1 thread/);
      assert.equal(report.encoder.fallback, null);
      assert.ok(engines.allOnnxRuntime);
      const { files, state } = engines.artifacts();
      assert.deepEqual(Object.keys(files).sort(), ['decoder.onnx', 'encoder.onnx']);
      const restored = await NetworkEngines.restore(state, files, nets as unknown as Record<'encoder' | 'decoder', tfl.LayersModel>, 'mem', { backend: 'tfjs' });
      assert.equal(restored.engine('encoder').kind, 'tfjs');
      assert.match(restored.report().encoder.fallback!, /asked for/);
      restored.dispose();
    } finally {
      engines.dispose();
      nets.encoder.dispose();
      nets.decoder.dispose();
    }
  });
});

describe('other detectors export within 1e-5', () => {
  async function check(model: tfl.LayersModel): Promise<void> {
    const exported = exportLayersModel(model);
    const ort = new OrtEngine(await OrtSession.create(exported.bytes, model.name));
    try {
      const rel = await compareEngines(new TfjsEngine(model), ort, exported.inputs[0]!.shape);
      assert.ok(rel !== null && rel <= 1e-5, `${model.name}: relative error ${rel}`);
    } finally {
      ort.dispose();
    }
  }

  test('conv1d-ae / conv1d-vae encoder and decoder', async () => {
    await initEngine();
    for (const variational of [false, true]) {
      const nets = buildConv1dAutoencoder({ window: 32, channels: 3, depth: 2, filters: 4, kernelSize: 5, latent: 6, variational, seed: 2 });
      await check(nets.encoder);
      await check(nets.decoder);
      nets.encoder.dispose();
      nets.decoder.dispose();
    }
  });

  test('tabular-ae encoder and decoder', async () => {
    await initEngine();
    const nets = buildDenseAutoencoder({ features: 21, hidden: [16, 8], latent: 3, seed: 4 });
    await check(nets.encoder);
    await check(nets.decoder);
    nets.encoder.dispose();
    nets.decoder.dispose();
  });

  test('MobileNet v1 backbone with two feature taps (PaDiM / PatchCore)', { skip: existsSync(MOBILENET) ? false : `no ${MOBILENET}` }, async () => {
    const { loadBackbone } = await import('../../src/models/backbone/loader.js');
    const { createTapModel } = await import('../../src/models/backbone/taps.js');
    const backbone = await loadBackbone(MOBILENET, { height: 64, width: 64 });
    const taps = createTapModel(backbone, ['conv_pw_3_relu', 'conv_pw_5_relu']);
    try {
      const exported = exportLayersModel(taps.model);
      assert.equal(exported.outputs.length, 2);
      const ort = new OrtEngine(await OrtSession.create(exported.bytes, 'mobilenet taps'));
      const rel = await compareEngines(new TfjsEngine(taps.model), ort, exported.inputs[0]!.shape);
      ort.dispose();
      assert.ok(rel !== null && rel <= 1e-5, `relative error ${rel}`);
    } finally {
      backbone.model.dispose();
    }
  });

  test('TfjsEngine leaves no tensors behind', async () => {
    await initEngine();
    const nets = buildDenseAutoencoder({ features: 4, hidden: [], latent: 2, seed: 1 });
    const engine = new TfjsEngine(nets.encoder);
    const before = tf.memory().numTensors;
    await engine.run(new Float32Array(8), [2, 4]);
    assert.equal(tf.memory().numTensors, before);
    nets.encoder.dispose();
    nets.decoder.dispose();
  });
});
