/**
 * Per-channel standardisation, x' = (x - mean_c) / std_c, fitted on the training images and saved
 * with the model (the object is plain JSON).
 */
import type { Image } from '../core/types.js';
import { VigilError } from '../core/errors.js';
import type { PackedImages } from './idx.js';

export interface Normalisation {
  /** Per channel, length 1 or 3. */
  mean: number[];
  /** Per channel, > 0. */
  std: number[];
}

/** Standard deviations below this are replaced by 1 (a constant channel is only centred). */
export const MIN_STD = 1e-6;

function channelsOf(norm: Normalisation, what: string): number {
  return checkNormalisation(norm, what).mean.length;
}

/**
 * Validates an untrusted object (e.g. read back from a model manifest) as a Normalisation:
 * equal-length (1 or 3) arrays of finite numbers, std > 0. E_VALUE naming `what` otherwise.
 */
export function checkNormalisation(value: unknown, what = 'normalisation'): Normalisation {
  const v = value as Partial<Normalisation> | null;
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!v || typeof v !== 'object' || !ok(v.mean) || !ok(v.std)) {
    throw new VigilError('E_VALUE', `${what}: expected {mean: number[], std: number[]} of finite numbers`, { field: what });
  }
  if (v.mean.length !== v.std.length || (v.mean.length !== 1 && v.mean.length !== 3)) {
    throw new VigilError('E_VALUE', `${what}: mean has ${v.mean.length} and std ${v.std.length} channels, expected 1 or 3 each`, { field: what });
  }
  const bad = v.std.findIndex((s) => !(s > 0));
  if (bad >= 0) throw new VigilError('E_VALUE', `${what}: std[${bad}] = ${v.std[bad]}, expected > 0`, { field: `${what}.std`, index: bad });
  return { mean: [...v.mean], std: [...v.std] };
}

function isPacked(x: Iterable<Image> | PackedImages): x is PackedImages {
  return typeof (x as PackedImages).count === 'number' && (x as PackedImages).data instanceof Float32Array;
}

/**
 * Mean and standard deviation per channel over every pixel of every image (float64 sums, two
 * passes would be more exact but the shifted one-pass form is stable for values in [0, 1]).
 * E_EMPTY when there are no images, E_SHAPE when channel counts differ.
 */
export function fitNormalisation(images: Iterable<Image> | PackedImages): Normalisation {
  const chunks: { data: Float32Array; channels: number; source: string }[] = [];
  if (isPacked(images)) {
    if (images.count > 0) chunks.push({ data: images.data, channels: images.channels, source: images.source });
  } else {
    let i = 0;
    for (const img of images) {
      if (img.data.length !== img.height * img.width * img.channels) {
        throw new VigilError('E_SHAPE', `normalisation: image ${i} has ${img.data.length} values for ${img.height}x${img.width}x${img.channels}`, { index: i });
      }
      chunks.push({ data: img.data, channels: img.channels, source: `image ${i}` });
      i++;
    }
  }
  if (chunks.length === 0) throw new VigilError('E_EMPTY', 'normalisation: no training images to fit on');
  const c = chunks[0]!.channels;
  // Shift by the first pixel to keep the one-pass variance well conditioned.
  const shift = Array.from({ length: c }, (_, k) => chunks[0]!.data[k] ?? 0);
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  let pixels = 0;
  for (const ch of chunks) {
    if (ch.channels !== c) {
      throw new VigilError('E_SHAPE', `normalisation: ${ch.source} has ${ch.channels} channels, the first image has ${c}`, { channels: ch.channels, expected: c });
    }
    const d = ch.data;
    for (let i = 0; i < d.length; i += c) {
      for (let k = 0; k < c; k++) {
        const v = d[i + k]! - shift[k]!;
        if (!Number.isFinite(v)) {
          throw new VigilError('E_VALUE', `normalisation: ${ch.source} has a non-finite value at element ${i + k}`, { index: i + k });
        }
        sum[k] += v;
        sumSq[k] += v * v;
      }
    }
    pixels += d.length / c;
  }
  if (pixels === 0) throw new VigilError('E_EMPTY', 'normalisation: the training images have no pixels');
  const mean: number[] = [];
  const std: number[] = [];
  for (let k = 0; k < c; k++) {
    const m = sum[k]! / pixels;
    const variance = Math.max(0, sumSq[k]! / pixels - m * m);
    const s = Math.sqrt(variance);
    mean.push(m + shift[k]!);
    std.push(s < MIN_STD ? 1 : s);
  }
  return { mean, std };
}

function transform(image: Image, norm: Normalisation, inPlace: boolean, forward: boolean): Image {
  const c = channelsOf(norm, 'normalisation');
  if (image.channels !== c) {
    throw new VigilError('E_SHAPE', `normalisation: image has ${image.channels} channels, the normalisation ${c}`, { channels: image.channels, expected: c });
  }
  const src = image.data;
  const out = inPlace ? src : new Float32Array(src.length);
  const scale = norm.std.map((s) => (forward ? 1 / s : s));
  for (let i = 0; i < src.length; i += c) {
    for (let k = 0; k < c; k++) {
      out[i + k] = forward ? (src[i + k]! - norm.mean[k]!) * scale[k]! : src[i + k]! * scale[k]! + norm.mean[k]!;
    }
  }
  return inPlace ? image : { height: image.height, width: image.width, channels: image.channels, data: out };
}

/** (x - mean) / std per channel. A new Image unless `inPlace`. */
export function applyNormalisation(image: Image, norm: Normalisation, opts: { inPlace?: boolean } = {}): Image {
  return transform(image, norm, opts.inPlace ?? false, true);
}

/** x * std + mean per channel: back to [0, 1] pixel values. A new Image unless `inPlace`. */
export function invertNormalisation(image: Image, norm: Normalisation, opts: { inPlace?: boolean } = {}): Image {
  return transform(image, norm, opts.inPlace ?? false, false);
}
