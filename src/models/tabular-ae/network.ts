/**
 * Dense autoencoder over feature vectors (D): encoder D → hidden[0] → … → latent, decoder the mirror
 * image back to D (linear output, standardised units). LeakyReLU between layers, seeded
 * Glorot-uniform initialisers.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../../core/errors.js';

export interface DenseShape {
  features: number;
  hidden: readonly number[];
  latent: number;
  seed: number;
}

export interface DenseNetworks {
  encoder: tfl.LayersModel;
  decoder: tfl.LayersModel;
}

export function buildDenseAutoencoder(s: DenseShape): DenseNetworks {
  if (!Number.isInteger(s.features) || s.features < 1) throw new VigilError('E_SHAPE', `features: ${s.features} must be a positive integer`, { field: 'features' });
  let seed = s.seed;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  const encoder = tfl.sequential({ name: 'encoder' });
  s.hidden.forEach((units, i) => {
    encoder.add(tfl.layers.dense({ ...(i === 0 ? { inputShape: [s.features] } : {}), units, kernelInitializer: init() }));
    encoder.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  });
  encoder.add(tfl.layers.dense({ ...(s.hidden.length === 0 ? { inputShape: [s.features] } : {}), units: s.latent, kernelInitializer: init() }));

  const decoder = tfl.sequential({ name: 'decoder' });
  const back = [...s.hidden].reverse();
  back.forEach((units, i) => {
    decoder.add(tfl.layers.dense({ ...(i === 0 ? { inputShape: [s.latent] } : {}), units, kernelInitializer: init() }));
    decoder.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  });
  decoder.add(tfl.layers.dense({ ...(back.length === 0 ? { inputShape: [s.latent] } : {}), units: s.features, kernelInitializer: init() }));
  return { encoder, decoder };
}
