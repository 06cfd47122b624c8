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

/** Target mean and standard deviation of a standardised image's values in [0, 1]. */
const STANDARD_MEAN = 0.5;
const STANDARD_STD = 0.15;

/**
 * Per-image contrast standardisation: an affine map of the values to mean 0.5 and standard deviation
 * 0.15 (clipped to [0, 1]), so that overall brightness and contrast, which vary from capture to
 * capture, do not count as anomalies; relative variations within the image are kept.
 */
function standardiser(data: Float32Array): (v: number) => number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  const mean = sum / data.length;
  let sq = 0;
  for (let i = 0; i < data.length; i++) sq += (data[i]! - mean) ** 2;
  const std = Math.sqrt(sq / data.length);
  const gain = std > 1e-6 ? STANDARD_STD / std : 0;
  return (v) => Math.min(1, Math.max(0, STANDARD_MEAN + (v - mean) * gain));
}

/**
 * Packs `samples` into a (N, height, width, 3) row-major float32 buffer. Each image must already be
 * height x width (the input adapters decode at the detector's size) with 1 or 3 channels and finite
 * values; otherwise E_SHAPE / E_VALUE naming the image's source. With `standardise`, each image's
 * values are first mapped to a fixed mean and contrast (see {@link standardiser}).
 */
export function backboneInput(samples: readonly ImageSample[], height: number, width: number, scaling: BackboneScaling, standardise = false): Float32Array {
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
    for (let i = 0; i < src.length; i++) {
      if (!Number.isFinite(src[i]!)) throw new VigilError('E_VALUE', `${s.source}: pixel ${Math.floor(i / ch)} channel ${i % ch} is ${src[i]}`, { file: s.source });
    }
    const pre = standardise ? standardiser(src) : (v: number) => v;
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < 3; c++) out[base + p * 3 + c] = pre(src[p * ch + (ch === 1 ? 0 : c)]!) * scale[c]! + shift[c]!;
    }
  });
  return out;
}

/** {@link backboneInput} as a (N, height, width, 3) tensor. */
export function backboneBatch(samples: readonly ImageSample[], height: number, width: number, scaling: BackboneScaling, standardise = false): tf.Tensor4D {
  return tf.tensor4d(backboneInput(samples, height, width, scaling, standardise), [samples.length, height, width, 3]);
}

/**
 * Reflect-pads a (N, H, W, C) row-major batch by `p` pixels on every side, as
 * `tf.mirrorPad(x, ..., 'reflect')` does (the edge row is not repeated: index -1 reads index 1).
 * Needs p < H and p < W.
 */
export function reflectPad(data: Float32Array, n: number, h: number, w: number, c: number, p: number): Float32Array {
  if (p === 0) return data;
  const H = h + 2 * p;
  const W = w + 2 * p;
  const out = new Float32Array(n * H * W * c);
  const reflect = (i: number, size: number) => (i < 0 ? -i : i >= size ? 2 * size - 2 - i : i);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < H; y++) {
      const sy = reflect(y - p, h);
      for (let x = 0; x < W; x++) {
        const sx = reflect(x - p, w);
        const src = ((b * h + sy) * w + sx) * c;
        out.set(data.subarray(src, src + c), ((b * H + y) * W + x) * c);
      }
    }
  }
  return out;
}
