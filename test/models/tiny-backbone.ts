/**
 * Test fixture: a tiny seeded CNN saved as a TF.js layers model (model.json + one weight shard) in
 * a folder, so that backbone, PaDiM and PatchCore tests run in seconds without the shared MobileNet.
 *
 * Layers: input (size, size, 3) → conv 3x3 stride 2, 8 filters, ReLU ("tap_a", size/2) → conv 3x3
 * stride 2, 16 filters, ReLU ("tap_b", size/4).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initEngine } from '../../src/engine/backend.js';

export const TINY_TAPS = ['tap_a', 'tap_b'] as const;

/** Writes the tiny backbone to `dir` (created) and returns `dir`. */
export async function writeTinyBackbone(dir: string, size = 64, seed = 7): Promise<string> {
  await initEngine();
  const input = tfl.input({ shape: [size, size, 3], name: 'image' });
  const a = tfl.layers
    .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'tap_a', kernelInitializer: tfl.initializers.glorotUniform({ seed }) })
    .apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers
    .conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'tap_b', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) })
    .apply(a) as tfl.SymbolicTensor;
  return saveLayersModel(tfl.model({ inputs: input, outputs: b, name: 'tiny' }), dir);
}

export const TINY_MOBILENET_TAPS = ['block_1_relu', 'block_2_relu'] as const;

/**
 * Writes a tiny MobileNet-v1-like backbone to `dir`: zero padding, conv 3x3 stride 2 (no bias) →
 * batch norm → ReLU6, then two depthwise-separable blocks (depthwise 3x3 → BN → ReLU6 → pointwise
 * 1x1 → BN → ReLU6, taps "block_1_relu" at size/2 and "block_2_relu" at size/4). The batch norms get
 * seeded non-trivial statistics so an exporter that drops or misplaces them is caught.
 */
export async function writeTinyMobileNet(dir: string, size = 32, seed = 11): Promise<string> {
  await initEngine();
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: s });
  const input = tfl.input({ shape: [size, size, 3], name: 'image' });
  let x = tfl.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'conv1_pad' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'conv1', kernelInitializer: init(seed) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'conv1_bn' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU({ maxValue: 6, name: 'conv1_relu' }).apply(x) as tfl.SymbolicTensor;
  const block = (i: number, filters: number, stride: number) => {
    x = tfl.layers
      .depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, name: `block_${i}_dw`, depthwiseInitializer: init(seed + 2 * i) })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: `block_${i}_dw_bn` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.activation({ activation: 'relu6', name: `block_${i}_dw_relu` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.conv2d({ filters, kernelSize: 1, padding: 'same', useBias: false, name: `block_${i}_pw`, kernelInitializer: init(seed + 2 * i + 1) }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ name: `block_${i}_bn` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.activation({ activation: 'relu6', name: `block_${i}_relu` }).apply(x) as tfl.SymbolicTensor;
  };
  block(1, 16, 1);
  block(2, 24, 2);
  const model = tfl.model({ inputs: input, outputs: x, name: 'tiny_mobilenet' });
  // Seeded BN statistics: gamma in [0.5, 1.5], beta in [-0.5, 0.5], mean in [-1, 1], variance in [0.5, 2.5].
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const n = layer.getWeights()[0]!.shape[0]!;
    const v = (lo: number, hi: number) => tf.tensor1d(Array.from({ length: n }, () => lo + (hi - lo) * rand()));
    layer.setWeights([v(0.5, 1.5), v(-0.5, 0.5), v(-1, 1), v(0.5, 2.5)]);
  }
  return saveLayersModel(model, dir);
}

/** Saves `model` as model.json + one shard in `dir` (created), disposes it, returns `dir`. */
async function saveLayersModel(model: tfl.LayersModel, dir: string): Promise<string> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (x) => {
      artifacts = x;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  const art = artifacts as unknown as tf.io.ModelArtifacts;
  const data = art.weightData!;
  const bytes = new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
  await mkdir(dir, { recursive: true });
  const shard = 'group1-shard1of1.bin';
  await writeFile(path.join(dir, shard), bytes);
  await writeFile(
    path.join(dir, 'model.json'),
    JSON.stringify({ format: 'layers-model', modelTopology: art.modelTopology, weightsManifest: [{ paths: [shard], weights: art.weightSpecs }] }),
  );
  return dir;
}
