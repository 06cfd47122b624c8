/**
 * Saving and loading TF.js layers models without tfjs-node: an in-memory IO handler captures the
 * topology and weights, which the model store then writes atomically with checksums.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../core/errors.js';

export interface SerializedNetwork {
  /** Keras-format topology (JSON). */
  topology: unknown;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weights: Uint8Array;
}

export async function serializeNetwork(model: tfl.LayersModel): Promise<SerializedNetwork> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = captured as tf.io.ModelArtifacts | null;
  if (!a || !a.weightSpecs || !a.weightData) throw new VigilError('E_IO', `network ${model.name}: TF.js produced no weights to save`);
  const data = a.weightData;
  const buffer = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
  return { topology: a.modelTopology, weightSpecs: a.weightSpecs, weights: new Uint8Array(buffer) };
}

export async function deserializeNetwork(net: SerializedNetwork, what: string): Promise<tfl.LayersModel> {
  const expected = net.weightSpecs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (expected !== net.weights.byteLength) {
    throw new VigilError('E_MODEL_CORRUPT', `${what}: weights hold ${net.weights.byteLength} bytes, the topology needs ${expected}`);
  }
  // Copy into a fresh ArrayBuffer: the source may be a view into a larger pooled Buffer.
  const weightData = net.weights.slice().buffer;
  try {
    return await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: net.topology as tf.io.ModelJSON['modelTopology'], weightSpecs: net.weightSpecs, weightData }),
    );
  } catch (e) {
    throw new VigilError('E_MODEL_CORRUPT', `${what}: cannot rebuild the network (${(e as Error).message})`, {}, { cause: e });
  }
}
