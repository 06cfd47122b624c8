/**
 * In-thread decoding of the most common upload: an 8-bit, non-interlaced PNG that is already the
 * model's size and channel layout (grey for 1-channel models, RGB for 3-channel ones, no alpha,
 * no palette). Such an image needs no resampling or colour conversion, so the result is exactly
 * what sharp produces (bytes / 255), without the round trips through libuv's and libvips' thread
 * pools that dominate the latency of small images on a busy machine. Everything else returns null
 * and goes through sharp.
 */
import { inflateSync } from 'node:zlib';
import { VigilError } from '../../core/errors.js';
import type { Image } from '../../core/types.js';
import type { ImageInputShape } from './image-decode.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decodes `bytes` when it is a plain PNG of exactly `shape`; null when it needs the general path. */
export function decodePlainPng(bytes: Buffer, shape: ImageInputShape, field: string): Image | null {
  if (bytes.length < 33 || SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const bad = (what: string) => new VigilError('E_DECODE', `${field}: corrupt or truncated PNG image (${what})`, { field, format: 'png' });
  // IHDR must come first.
  if (bytes.readUInt32BE(8) !== 13 || bytes.toString('latin1', 12, 16) !== 'IHDR') throw bad('no IHDR chunk');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const depth = bytes[24]!;
  const colour = bytes[25]!;
  const interlace = bytes[28]!;
  const channels = colour === 0 ? 1 : colour === 2 ? 3 : 0;
  if (width !== shape.width || height !== shape.height || depth !== 8 || interlace !== 0 || channels !== shape.channels) return null;

  const parts: Buffer[] = [];
  let pos = 33;
  let ended = false;
  while (pos + 12 <= bytes.length) {
    const len = bytes.readUInt32BE(pos);
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + len > bytes.length) throw bad(`chunk ${type} runs past the end of the file`);
    if (type === 'IDAT') parts.push(bytes.subarray(pos + 8, pos + 8 + len));
    else if (type === 'IEND') {
      ended = true;
      break;
    } else if (type === 'PLTE' || type === 'tRNS' || type === 'gAMA' || type === 'iCCP' || type === 'sRGB' || type === 'cHRM') {
      // Colour management or transparency: leave it to sharp, which applies them.
      return null;
    }
    pos += 12 + len;
  }
  if (!ended) throw bad('no IEND chunk');
  if (parts.length === 0) throw bad('no image data');
  const stride = width * channels;
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(parts), { maxOutputLength: expected + 1 });
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (raw.length !== expected) throw bad(`${raw.length} bytes of pixel data, ${width}x${height} needs ${expected}`);

  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const v = raw[src + x]!;
      const a = x >= channels ? px[row + x - channels]! : 0;
      const b = y > 0 ? px[prev + x]! : 0;
      const c = x >= channels && y > 0 ? px[prev + x - channels]! : 0;
      let p: number;
      switch (filter) {
        case 0:
          p = 0;
          break;
        case 1:
          p = a;
          break;
        case 2:
          p = b;
          break;
        case 3:
          p = (a + b) >> 1;
          break;
        case 4: {
          const e = a + b - c;
          const da = Math.abs(e - a);
          const db = Math.abs(e - b);
          const dc = Math.abs(e - c);
          p = da <= db && da <= dc ? a : db <= dc ? b : c;
          break;
        }
        default:
          throw bad(`row ${y} has filter type ${filter}`);
      }
      px[row + x] = (v + p) & 0xff;
    }
  }
  const data = new Float32Array(px.length);
  for (let i = 0; i < px.length; i++) data[i] = px[i]! / 255;
  return { height, width, channels: shape.channels, data };
}
