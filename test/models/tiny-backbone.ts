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
  const model = tfl.model({ inputs: input, outputs: b, name: 'tiny' });
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
