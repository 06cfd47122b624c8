/**
 * The feature-reconstruction autoencoder of 'feature-ae': a fully convolutional network over a
 * (h, w, d) grid of standardised backbone features, with a channel bottleneck (DFR, Shi et al.
 * 2021, reconstructs features with 1x1 convs; the middle convs here may be 3x3 so that a position
 * is reconstructed from its neighbourhood too).
 *
 *   1x1 d → hidden, LeakyReLU → k x k hidden → bottleneck, LeakyReLU
 *   → k x k bottleneck → hidden, LeakyReLU → 1x1 hidden → d (linear: standardised features are unbounded)
 *
 * The grid keeps its size throughout ('same' padding, stride 1): every position keeps its own code.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../../core/errors.js';

export interface FeatureAeShape {
  gridHeight: number;
  gridWidth: number;
  /** Feature channels in and out. */
  dims: number;
  hidden: number;
  bottleneck: number;
  /** Kernel of the two middle convs: 1 (DFR) or 3. */
  kernelSize: 1 | 3;
  seed: number;
}

/** E_CONFIG naming the key when the bottleneck does not narrow the features. */
export function validateFeatureAeShape(s: FeatureAeShape): void {
  if (s.bottleneck >= s.dims) {
    throw new VigilError('E_CONFIG', `feature-ae config.bottleneck: ${s.bottleneck} must be smaller than the ${s.dims} feature channels it compresses (lower bottleneck or raise dims)`, {
      field: 'bottleneck',
      value: s.bottleneck,
    });
  }
}

export function buildFeatureAe(s: FeatureAeShape): tfl.LayersModel {
  validateFeatureAeShape(s);
  let seed = s.seed;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  // Linear convs; the nonlinearity is the LeakyReLU layers between them.
  const conv = (filters: number, kernelSize: number, first = false): tfl.layers.Layer =>
    tfl.layers.conv2d({
      ...(first ? { inputShape: [s.gridHeight, s.gridWidth, s.dims] } : {}),
      filters,
      kernelSize,
      padding: 'same',
      kernelInitializer: init(),
    });
  const net = tfl.sequential({ name: 'feature_ae' });
  net.add(conv(s.hidden, 1, true));
  net.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  net.add(conv(s.bottleneck, s.kernelSize));
  net.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  net.add(conv(s.hidden, s.kernelSize));
  net.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  net.add(conv(s.dims, 1));
  return net;
}

/** Multiply-adds of one forward pass per grid position. */
export function macsPerPosition(s: Omit<FeatureAeShape, 'gridHeight' | 'gridWidth' | 'seed'>): number {
  const k2 = s.kernelSize * s.kernelSize;
  return s.dims * s.hidden + k2 * s.hidden * s.bottleneck + k2 * s.bottleneck * s.hidden + s.hidden * s.dims;
}
