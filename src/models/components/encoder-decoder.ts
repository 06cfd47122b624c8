/**
 * The encoder/decoder pair that vigil's autoencoder detectors (conv-ae, conv1d-ae, tabular-ae)
 * share: how it is written into a model folder (TF.js topology in the manifest state, weights in
 * `encoder.bin` / `decoder.bin`, the ONNX exports when there are any) and read back.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../../core/errors.js';
import { deserializeNetwork, serializeNetwork, type SerializedNetwork } from '../../engine/serialize.js';
import type { NetworkEngines, OnnxNetworksState } from '../../engine/onnx/index.js';

export interface EncoderDecoder {
  encoder: tfl.LayersModel;
  decoder: tfl.LayersModel;
}

type Part = keyof EncoderDecoder;
const PARTS: readonly Part[] = ['encoder', 'decoder'];

/** The manifest-state fields of a saved pair. */
export interface EncoderDecoderState {
  topology: Record<Part, unknown>;
  weightSpecs: Record<Part, SerializedNetwork['weightSpecs']>;
  /** The networks exported to ONNX (encoder.onnx, decoder.onnx); absent when the detector scores on TF.js. */
  onnx?: OnnxNetworksState;
}

/** The state fields and files to save for `nets` (and their ONNX exports, when `engines` has them). */
export async function saveEncoderDecoder(
  nets: EncoderDecoder,
  engines?: NetworkEngines<Part> | null,
): Promise<{ state: EncoderDecoderState; files: Record<string, Uint8Array> }> {
  const enc = await serializeNetwork(nets.encoder);
  const dec = await serializeNetwork(nets.decoder);
  const state: EncoderDecoderState = {
    topology: { encoder: enc.topology, decoder: dec.topology },
    weightSpecs: { encoder: enc.weightSpecs, decoder: dec.weightSpecs },
  };
  const onnx = engines?.artifacts();
  if (onnx) state.onnx = onnx.state;
  return { state, files: { 'encoder.bin': enc.weights, 'decoder.bin': dec.weights, ...onnx?.files } };
}

/** Rebuilds the pair from a verified model folder's state and files; a missing part is E_MODEL_CORRUPT. */
export async function restoreEncoderDecoder(state: Partial<EncoderDecoderState>, files: Record<string, Buffer>, dir: string): Promise<EncoderDecoder> {
  const { topology, weightSpecs } = state;
  if (!topology || !weightSpecs || PARTS.some((p) => !topology[p] || !Array.isArray(weightSpecs[p]))) {
    throw new VigilError('E_MODEL_CORRUPT', `${dir}: manifest state lacks the network topology`, { path: dir });
  }
  const load = async (part: Part): Promise<tfl.LayersModel> => {
    const weights = files[`${part}.bin`];
    if (!weights) throw new VigilError('E_MODEL_CORRUPT', `${dir}: ${part}.bin is not listed in the manifest`, { path: dir });
    return deserializeNetwork({ topology: topology[part], weightSpecs: weightSpecs[part], weights }, `${dir}/${part}.bin`);
  };
  const encoder = await load('encoder');
  try {
    return { encoder, decoder: await load('decoder') };
  } catch (e) {
    encoder.dispose();
    throw e;
  }
}

export function disposeEncoderDecoder(nets: EncoderDecoder | null): void {
  nets?.encoder.dispose();
  nets?.decoder.dispose();
}

/**
 * A VAE encoder's output h (n, 2L) = [μ, log σ²] as host values: the means (n, L), decoded at
 * scoring time, and KL(q(z|x) || N(0, I)) = -1/2 Σ (1 + log σ² − μ² − σ²) per sample (n), with
 * log σ² clipped to ±10 as in training.
 */
export function gaussianHead(h: Float32Array, n: number, latent: number): { mu: Float32Array; kl: Float32Array } {
  const mu = new Float32Array(n * latent);
  const kl = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < latent; j++) {
      const m = h[i * 2 * latent + j]!;
      const logVar = Math.min(10, Math.max(-10, h[i * 2 * latent + latent + j]!));
      mu[i * latent + j] = m;
      sum += 1 + logVar - m * m - Math.exp(logVar);
    }
    kl[i] = -0.5 * sum;
  }
  return { mu, kl };
}
