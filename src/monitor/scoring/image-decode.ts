/**
 * Decoding of uploaded PNG/JPEG bytes to the model's input size and channels, as the CLI reads
 * files (data/images.ts has no buffer decoder): sharp, alpha composited onto black, resized with
 * `fill` and lanczos3, values in [0, 1]. Errors are E_DECODE naming the request field. The pixel
 * count of the upload is capped so that a small compressed file cannot expand into gigabytes.
 * A plain PNG already at the model's size and layout is decoded in-thread (png-fast.ts), with the
 * same result.
 */
import sharp from 'sharp';
import { VigilError } from '../../core/errors.js';
import type { Image } from '../../core/types.js';
import { decodePlainPng } from './png-fast.js';

export interface ImageInputShape {
  height: number;
  width: number;
  channels: 1 | 3;
}

/** Largest decoded image accepted: 4096 x 4096 pixels. */
export const MAX_INPUT_PIXELS = 4096 * 4096;

export type UploadFormat = 'png' | 'jpeg';

export function sniffUpload(b: Uint8Array): UploadFormat | null {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  return null;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n').map((s) => s.trim()).filter(Boolean)[0] ?? 'unknown error';
}

export async function decodeImageBuffer(bytes: Buffer, shape: ImageInputShape, field: string): Promise<Image> {
  if (bytes.length === 0) throw new VigilError('E_DECODE', `${field}: empty image (0 bytes)`, { field });
  const format = sniffUpload(bytes);
  if (!format) throw new VigilError('E_DECODE', `${field}: not a PNG or JPEG image (unrecognised leading bytes)`, { field });
  if (format === 'png') {
    const plain = decodePlainPng(bytes, shape, field);
    if (plain) return plain;
  }
  try {
    let pipe = sharp(bytes, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true }).flatten({ background: '#000000' });
    pipe = shape.channels === 1 ? pipe.greyscale() : pipe.toColourspace('srgb');
    pipe = pipe.resize(shape.width, shape.height, { fit: 'fill', kernel: 'lanczos3' });
    const { data, info } = await pipe.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== shape.channels || data.length !== shape.height * shape.width * shape.channels) {
      throw new VigilError('E_DECODE', `${field}: decoded to ${info.channels} channels, expected ${shape.channels}`, { field });
    }
    const out = new Float32Array(data.length);
    for (let i = 0; i < out.length; i++) out[i] = data[i]! / 255;
    return { height: shape.height, width: shape.width, channels: shape.channels, data: out };
  } catch (e) {
    if (e instanceof VigilError) throw e;
    const why = firstLine(e);
    const what = /pixel limit/i.test(why) ? `${format.toUpperCase()} image too large (over ${MAX_INPUT_PIXELS} pixels)` : `corrupt or truncated ${format.toUpperCase()} image (${why})`;
    throw new VigilError('E_DECODE', `${field}: ${what}`, { field, format }, { cause: e });
  }
}
