/**
 * The 'onnx' detector: an ONNX model made elsewhere (here built by hand, NCHW as PyTorch exports
 * them), described by its input layout/size/scaling and output meaning; scored on ORT, saved with
 * model.onnx and reloaded; descriptions that disagree with the model fail naming the field.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getDetectorFactory, loadDetector, type Detector } from '../../src/core/detector.js';
import { isVigilError } from '../../src/core/errors.js';
import type { ImageSample } from '../../src/core/types.js';
import { GraphBuilder } from '../../src/engine/onnx/graph.js';
import { encodeModel, valueInfo } from '../../src/engine/onnx/proto.js';
import '../../src/models/index.js';

const H = 6;
const W = 5;

/** A one-input, one-output ONNX model: `body` adds nodes from 'x' and returns the output value name. */
function model(inShape: (number | null)[], outShape: (number | null)[], body: (g: GraphBuilder) => string): Uint8Array {
  const g = new GraphBuilder();
  g.reserve('x');
  g.reserve('y');
  const out = body(g);
  g.node('Identity', [out], {}, 'y', ['y']);
  return encodeModel({ graphName: 'hand', nodes: g.nodes, initializers: g.initializers, inputs: [valueInfo('x', inShape)], outputs: [valueInfo('y', outShape)], metadata: {}, producerVersion: 'test' });
}

function images(n: number, channels: 1 | 3): ImageSample[] {
  return Array.from({ length: n }, (_, k) => ({
    image: { height: H, width: W, channels, data: Float32Array.from({ length: H * W * channels }, (_, i) => ((i * 7 + k * 13) % 17) / 16) },
    source: `img-${k}`,
  }));
}

describe('onnx detector (external models)', () => {
  test('NCHW reconstruction: the error map is computed against the fed input; save and reload give the same scores', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'vigil-onnx-ext-'));
    const dets: Detector<ImageSample>[] = [];
    try {
      // y = x / 2: the squared error map is x² / 4.
      const file = path.join(tmp, 'ae.onnx');
      await writeFile(file, model([null, 1, H, W], [null, 1, H, W], (g) => g.node('Mul', ['x', g.floats('half', [], Float32Array.of(0.5))])[0]!));
      const det = getDetectorFactory('onnx').create({
        model: file,
        input: { layout: 'NCHW', height: H, width: W, channels: 1 },
        output: { kind: 'reconstruction', loss: 'mse' },
        batchSize: 2,
      }) as Detector<ImageSample>;
      dets.push(det);
      await det.fit(images(5, 1));
      assert.ok(det.postprocess.threshold !== null);
      const probe = images(3, 1);
      const results = await det.score(probe);
      probe.forEach((s, i) => {
        const expected = s.image.data.reduce((a, v) => a + (v * v) / 4, 0) / (H * W);
        assert.ok(Math.abs(results[i]!.score - expected) < 1e-6, `score ${results[i]!.score} vs ${expected}`);
        assert.ok(Math.abs(results[i]!.map!.values[7]! - s.image.data[7]! ** 2 / 4) < 1e-6);
      });
      const dir = path.join(tmp, 'model');
      const manifest = await det.save(dir);
      assert.equal(manifest.kind, 'onnx');
      assert.ok(manifest.files['model.onnx']);
      const loaded = await loadDetector<ImageSample>(dir);
      dets.push(loaded);
      const again = await loaded.score(probe);
      again.forEach((r, i) => assert.equal(r.score, results[i]!.score));
      assert.equal(loaded.postprocess.threshold, det.postprocess.threshold);
    } finally {
      for (const d of dets) d.dispose();
      await rm(tmp, { recursive: true, force: true });
    }
  });

  test("NHWC map output with 'tf' scaling, grey images into an RGB model, fixed threshold without fit", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'vigil-onnx-ext-'));
    try {
      const file = path.join(tmp, 'map.onnx');
      await writeFile(file, model([null, H, W, 3], [null, H, W, 3], (g) => g.node('Abs', ['x'])[0]!));
      const det = getDetectorFactory('onnx').create({
        model: file,
        input: { layout: 'NHWC', height: H, width: W, channels: 3, scaling: 'tf' },
        output: { kind: 'map' },
        aggregate: 'max',
        fixedThreshold: 0.75,
      }) as Detector<ImageSample>;
      const probe = images(2, 1);
      const r = await det.score(probe);
      const expectedMax = Math.max(...Array.from(probe[0]!.image.data, (v) => Math.abs(2 * v - 1)));
      assert.ok(Math.abs(r[0]!.score - expectedMax) < 1e-6);
      const manifest = await det.save(path.join(tmp, 'model'));
      assert.equal((manifest.postprocess as { threshold: number }).threshold, 0.75);
      det.dispose();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  test('score output with a fixed batch of 1 runs image by image; a missing input.batch is named', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'vigil-onnx-ext-'));
    try {
      const file = path.join(tmp, 'score.onnx');
      await writeFile(file, model([1, 1, H, W], [1], (g) => g.node('ReduceMean', ['x'], { axes: [1, 2, 3], keepdims: 0 })[0]!));
      const base = { model: file, input: { layout: 'NCHW', height: H, width: W, channels: 1, scaling: 'custom', mean: [0.5], std: [0.25] }, output: { kind: 'score' } };
      const bad = getDetectorFactory('onnx').create(base) as Detector<ImageSample>;
      await assert.rejects(bad.score(images(1, 1)), (e: unknown) => isVigilError(e) && e.code === 'E_CONFIG' && e.details.field === 'input.batch' && e.message.includes(file));
      const det = getDetectorFactory('onnx').create({ ...base, input: { ...base.input, batch: 1 } }) as Detector<ImageSample>;
      const probe = images(3, 1);
      const r = await det.score(probe);
      probe.forEach((s, i) => {
        const expected = s.image.data.reduce((a, v) => a + (v - 0.5) / 0.25, 0) / (H * W);
        assert.ok(Math.abs(r[i]!.score - expected) < 1e-5, `${r[i]!.score} vs ${expected}`);
      });
      det.dispose();
      bad.dispose();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  test('a description that disagrees with the model fails naming the field and the file', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'vigil-onnx-ext-'));
    try {
      const file = path.join(tmp, 'ae.onnx');
      await writeFile(file, model([null, 1, H, W], [null, 1, H, W], (g) => g.node('Relu', ['x'])[0]!));
      const wrongSize = getDetectorFactory('onnx').create({ model: file, input: { layout: 'NCHW', height: H + 1, width: W, channels: 1 }, output: { kind: 'reconstruction' } });
      await assert.rejects(wrongSize.score([]), (e: unknown) => isVigilError(e) && e.code === 'E_CONFIG' && e.details.field === 'input.height');
      const wrongName = getDetectorFactory('onnx').create({ model: file, input: { layout: 'NCHW', height: H, width: W, channels: 1, name: 'pixels' }, output: { kind: 'reconstruction' } });
      await assert.rejects(wrongName.score([]), (e: unknown) => isVigilError(e) && e.code === 'E_CONFIG' && /pixels/.test(e.message) && /\bx\b/.test(e.message));
      const missing = getDetectorFactory('onnx').create({ model: path.join(tmp, 'nope.onnx'), input: { height: H, width: W }, output: { kind: 'score' } });
      await assert.rejects(missing.score([]), (e: unknown) => isVigilError(e) && e.code === 'E_NOT_FOUND');
      assert.throws(
        () => getDetectorFactory('onnx').create({ model: file, input: { height: H, width: W, layout: 'NCWH' }, output: { kind: 'score' } }),
        (e: unknown) => isVigilError(e) && e.code === 'E_CONFIG' && /layout/.test(e.message),
      );
      for (const d of [wrongSize, wrongName, missing]) d.dispose();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
