/**
 * Backbone input preparation: images in [0, 1] (grey or RGB, channels-last) → the batch tensor a
 * pretrained CNN expects, (N, H, W, 3) float32, grey repeated to three channels and scaled as the
 * network was trained.
 */
import * as tf from '@tensorflow/tfjs-core';
import { VigilError } from '../../core/errors.js';
import type { ImageSample } from '../../core/types.js';

/**
 * How pixel values in [0, 1] are mapped for the network:
 * - `tf`: to [-1, 1] (x * 2 - 1), as Keras MobileNet / Inception expect;
 * - `imagenet`: (x - mean) / std per channel with ImageNet's statistics (torchvision's convention).
 */
export type BackboneScaling = 'tf' | 'imagenet';
export const BACKBONE_SCALINGS: readonly BackboneScaling[] = ['tf', 'imagenet'];

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * Packs `samples` into a (N, height, width, 3) tensor. Each image must already be height x width
 * (the input adapters decode at the detector's size) with 1 or 3 channels and finite values;
 * otherwise E_SHAPE / E_VALUE naming the image's source.
 */
export function backboneBatch(samples: readonly ImageSample[], height: number, width: number, scaling: BackboneScaling): tf.Tensor4D {
  const pixels = height * width;
  const out = new Float32Array(samples.length * pixels * 3);
  const scale = scaling === 'tf' ? [2, 2, 2] : IMAGENET_STD.map((s) => 1 / s);
  const shift = scaling === 'tf' ? [-1, -1, -1] : IMAGENET_MEAN.map((m, c) => -m / IMAGENET_STD[c]!);
  samples.forEach((s, n) => {
    const im = s.image;
    if (im.height !== height || im.width !== width || (im.channels !== 1 && im.channels !== 3) || im.data.length !== pixels * im.channels) {
      throw new VigilError('E_SHAPE', `${s.source}: image is ${im.height}x${im.width}x${im.channels}, the backbone runs at ${height}x${width} (1 or 3 channels)`, {
        file: s.source,
        expected: [height, width],
        actual: [im.height, im.width, im.channels],
      });
    }
    const base = n * pixels * 3;
    const src = im.data;
    const ch = im.channels;
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < 3; c++) {
        const v = src[p * ch + (ch === 1 ? 0 : c)]!;
        if (!Number.isFinite(v)) throw new VigilError('E_VALUE', `${s.source}: pixel ${p} channel ${ch === 1 ? 0 : c} is ${v}`, { file: s.source });
        out[base + p * 3 + c] = v * scale[c]! + shift[c]!;
      }
    }
  });
  return tf.tensor4d(out, [samples.length, height, width, 3]);
}
