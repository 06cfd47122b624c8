/**
 * Encoder and decoder networks of the 2D convolutional (variational) autoencoder.
 *
 * Encoder: `depth` stages of conv 3x3 stride 2 (filters doubling from `filters`) with LeakyReLU, then a
 * dense bottleneck of `latent` units (2 * latent for the VAE: mean and log-variance).
 * Decoder: dense back to (H / 2^depth, W / 2^depth, F), `depth` transposed convs stride 2, sigmoid.
 * With depth 2, filters 32, latent 32 on 28x28x1 this is the reference autoencoder of BENCHMARKS.md.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../../core/errors.js';

export type WeightInit = 'glorot' | 'torch';

export interface NetworkShape {
  height: number;
  width: number;
  channels: number;
  depth: number;
  filters: number;
  latent: number;
  /** Default 'glorot'. */
  init?: WeightInit;
  variational: boolean;
  seed: number;
}

export interface AutoencoderNetworks {
  encoder: tfl.LayersModel;
  decoder: tfl.LayersModel;
}

export function validateNetworkShape(s: NetworkShape): void {
  const scale = 2 ** s.depth;
  if (!Number.isInteger(s.depth) || s.depth < 1 || s.depth > 6) throw new VigilError('E_CONFIG', `depth: ${s.depth} must be an integer from 1 to 6`, { field: 'depth' });
  if (s.height % scale !== 0 || s.width % scale !== 0) {
    throw new VigilError('E_CONFIG', `size ${s.height}x${s.width} must be divisible by 2^depth = ${scale} (depth ${s.depth}); choose another --size or depth`, {
      field: 'size',
    });
  }
  if (!Number.isInteger(s.filters) || s.filters < 1) throw new VigilError('E_CONFIG', `filters: ${s.filters} must be a positive integer`, { field: 'filters' });
  if (!Number.isInteger(s.latent) || s.latent < 1) throw new VigilError('E_CONFIG', `latent: ${s.latent} must be a positive integer`, { field: 'latent' });
}

function stageFilters(s: NetworkShape, stage: number): number {
  return s.filters * 2 ** stage;
}

export function buildAutoencoder(s: NetworkShape): AutoencoderNetworks {
  validateNetworkShape(s);
  let seed = s.seed;
  // PyTorch's default for conv and linear layers (kaiming_uniform with a = √5) is U(±1/√fan_in), which
  // is variance scaling with scale 1/3; it draws the biases from the same range (TF.js: zeros).
  const torch = s.init === 'torch';
  const scaling = () => tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: seed++ });
  /** Initialisers of a layer whose kernel has `fanIn` inputs per output (transposed conv: its output channels x 9, as in PyTorch). */
  const init = (fanIn: number) =>
    torch
      ? { kernelInitializer: scaling(), biasInitializer: tfl.initializers.randomUniform({ minval: -1 / Math.sqrt(fanIn), maxval: 1 / Math.sqrt(fanIn), seed: seed++ }) }
      : { kernelInitializer: tfl.initializers.glorotUniform({ seed: seed++ }) };
  const bottomH = s.height / 2 ** s.depth;
  const bottomW = s.width / 2 ** s.depth;
  const bottomF = stageFilters(s, s.depth - 1);

  const encoder = tfl.sequential({ name: 'encoder' });
  for (let i = 0; i < s.depth; i++) {
    encoder.add(
      tfl.layers.conv2d({
        ...(i === 0 ? { inputShape: [s.height, s.width, s.channels] } : {}),
        filters: stageFilters(s, i),
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        ...init((i === 0 ? s.channels : stageFilters(s, i - 1)) * 9),
      }),
    );
    encoder.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  encoder.add(tfl.layers.flatten());
  encoder.add(tfl.layers.dense({ units: s.variational ? 2 * s.latent : s.latent, ...init(bottomH * bottomW * bottomF) }));

  const decoder = tfl.sequential({ name: 'decoder' });
  decoder.add(tfl.layers.dense({ inputShape: [s.latent], units: bottomH * bottomW * bottomF, ...init(s.latent) }));
  decoder.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  decoder.add(tfl.layers.reshape({ targetShape: [bottomH, bottomW, bottomF] }));
  for (let i = s.depth - 2; i >= 0; i--) {
    decoder.add(tfl.layers.conv2dTranspose({ filters: stageFilters(s, i), kernelSize: 3, strides: 2, padding: 'same', ...init(stageFilters(s, i) * 9) }));
    decoder.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  decoder.add(
    tfl.layers.conv2dTranspose({ filters: s.channels, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid', ...init(s.channels * 9) }),
  );
  return { encoder, decoder };
}

/** Multiply-adds of one forward pass, for throughput reports (GFLOP/s = 2 * MACs * samples/s). */
export function forwardMacs(s: NetworkShape): number {
  let macs = 0;
  let h = s.height;
  let w = s.width;
  let c = s.channels;
  for (let i = 0; i < s.depth; i++) {
    h /= 2;
    w /= 2;
    const f = stageFilters(s, i);
    macs += h * w * f * 9 * c;
    c = f;
  }
  const flat = h * w * c;
  macs += flat * (s.variational ? 2 * s.latent : s.latent) + s.latent * flat;
  for (let i = s.depth - 2; i >= -1; i--) {
    const f = i >= 0 ? stageFilters(s, i) : s.channels;
    // A stride-2 transposed conv does 9 * Cin * Cout MACs per input position.
    macs += h * w * 9 * c * f;
    h *= 2;
    w *= 2;
    c = f;
  }
  return macs;
}
