/**
 * Encoder and decoder of the 1D convolutional (variational) autoencoder over windows (W, C).
 *
 * Encoder: `depth` stages of conv1d (kernel k, stride 2, 'same', filters doubling from `filters`) with
 * LeakyReLU, then a dense bottleneck of `latent` units (2 * latent for the VAE: mean and
 * log-variance). Input (W, C) → (W / 2^depth, F) → (latent).
 * Decoder: dense back to (W / 2^depth, F) with LeakyReLU, then `depth` stride-2 transposed
 * convolutions along time (TF.js layers has no conv1dTranspose, so the time axis is laid out as
 * (L, 1, F) and the kernels are (k, 1)), the last one linear with C filters; output (W, C) in
 * standardised units.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../../core/errors.js';

export interface Conv1dShape {
  window: number;
  channels: number;
  depth: number;
  filters: number;
  kernelSize: number;
  latent: number;
  variational: boolean;
  seed: number;
}

export interface Conv1dNetworks {
  encoder: tfl.LayersModel;
  decoder: tfl.LayersModel;
}

export function validateConv1dShape(s: Conv1dShape): void {
  const scale = 2 ** s.depth;
  if (!Number.isInteger(s.depth) || s.depth < 1 || s.depth > 6) throw new VigilError('E_CONFIG', `depth: ${s.depth} must be an integer from 1 to 6`, { field: 'depth' });
  if (s.window % scale !== 0) {
    throw new VigilError('E_CONFIG', `window: ${s.window} must be divisible by 2^depth = ${scale} (depth ${s.depth}); choose another window or depth`, { field: 'window' });
  }
  if (!Number.isInteger(s.channels) || s.channels < 1) throw new VigilError('E_SHAPE', `channels: ${s.channels} must be a positive integer`, { field: 'channels' });
}

function stageFilters(s: Conv1dShape, stage: number): number {
  return s.filters * 2 ** stage;
}

export function buildConv1dAutoencoder(s: Conv1dShape): Conv1dNetworks {
  validateConv1dShape(s);
  let seed = s.seed;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  const bottom = s.window / 2 ** s.depth;
  const bottomF = stageFilters(s, s.depth - 1);

  const encoder = tfl.sequential({ name: 'encoder' });
  for (let i = 0; i < s.depth; i++) {
    encoder.add(
      tfl.layers.conv1d({
        ...(i === 0 ? { inputShape: [s.window, s.channels] } : {}),
        filters: stageFilters(s, i),
        kernelSize: s.kernelSize,
        strides: 2,
        padding: 'same',
        kernelInitializer: init(),
      }),
    );
    encoder.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  encoder.add(tfl.layers.flatten());
  encoder.add(tfl.layers.dense({ units: s.variational ? 2 * s.latent : s.latent, kernelInitializer: init() }));

  const decoder = tfl.sequential({ name: 'decoder' });
  decoder.add(tfl.layers.dense({ inputShape: [s.latent], units: bottom * bottomF, kernelInitializer: init() }));
  decoder.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  decoder.add(tfl.layers.reshape({ targetShape: [bottom, 1, bottomF] }));
  for (let i = s.depth - 2; i >= 0; i--) {
    decoder.add(tfl.layers.conv2dTranspose({ filters: stageFilters(s, i), kernelSize: [s.kernelSize, 1], strides: [2, 1], padding: 'same', kernelInitializer: init() }));
    decoder.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  }
  decoder.add(tfl.layers.conv2dTranspose({ filters: s.channels, kernelSize: [s.kernelSize, 1], strides: [2, 1], padding: 'same', kernelInitializer: init() }));
  decoder.add(tfl.layers.reshape({ targetShape: [s.window, s.channels] }));
  return { encoder, decoder };
}
