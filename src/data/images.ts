/**
 * Image files in and out: decoding (PNG, JPEG, TIFF, WebP, GIF through sharp; uncompressed BMP by a
 * small decoder here, since sharp's prebuilt libvips lacks one), masks, PNG output, heat-map overlays,
 * image folder listing, and bounded-concurrency batch decoding.
 *
 * Every bad input becomes a VigilError naming the file: E_NOT_FOUND when it is missing, E_DECODE when
 * it is empty, not an image, corrupt or truncated.
 */
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { Image, ProgressSink } from '../core/types.js';
import { VigilError, assertFinite } from '../core/errors.js';

/** Extensions `listImageFiles` returns (compared case-insensitively). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp'];

/** How many files are decoded at once by the batch readers unless told otherwise. */
export const DEFAULT_DECODE_CONCURRENCY = 4;

export interface ImageSize {
  height: number;
  width: number;
}

export interface ReadImageOptions {
  /** 1: luminance; 3: sRGB. Alpha is composited onto black. */
  channels: 1 | 3;
  /** Resize to exactly this size; omitted keeps the file's size. */
  size?: ImageSize;
  /** `fill` (default) stretches to `size`; `cover` keeps the aspect ratio and crops the centre. */
  fit?: 'fill' | 'cover';
  /** Resampling kernel for the resize (default `lanczos3`). */
  kernel?: 'nearest' | 'linear' | 'cubic' | 'lanczos3';
}

export interface ReadMaskOptions {
  /** Must match the `fit` the image was read with, so that mask and image stay aligned. */
  fit?: 'fill' | 'cover';
  /** Grey values ≥ this (0-255) count as anomalous; default 1, i.e. any nonzero pixel. */
  threshold?: number;
}

export interface BatchOptions {
  /** Files decoded at once (default 4). */
  concurrency?: number;
  progress?: ProgressSink;
  /** Label shown by the progress sink. */
  label?: string;
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------------
// Concurrency

/**
 * Maps `fn` over `items` with at most `limit` calls in flight, returning results in input order.
 * After the first failure no new call starts and that failure is thrown (once the calls in flight
 * have settled, so no work is left running behind the caller's back).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  onDone?: (done: number) => void,
  signal?: AbortSignal,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new VigilError('E_CONFIG', `concurrency: ${limit}, expected a positive integer`, { field: 'concurrency', value: limit });
  }
  const results: R[] = new Array(items.length);
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      if (signal?.aborted) {
        failure = { error: signal.reason ?? new Error('aborted') };
        return;
      }
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
        done++;
        onDone?.(done);
      } catch (e) {
        if (failure === null) failure = { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}

// ---------------------------------------------------------------------------------------------------
// Reading bytes and sniffing formats

async function readFileChecked(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw new VigilError('E_DECODE', `${file}: is a folder, not an image file`, { file });
    bytes = await readFile(file);
  } catch (e) {
    if (e instanceof VigilError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new VigilError('E_NOT_FOUND', `${file}: no such file`, { file });
    throw new VigilError('E_IO', `${file}: cannot be read (${(e as Error).message})`, { file }, { cause: e });
  }
  if (bytes.length === 0) throw new VigilError('E_DECODE', `${file}: empty file (0 bytes), not an image`, { file });
  return bytes;
}

type Sniffed = 'png' | 'jpeg' | 'bmp' | 'tiff' | 'webp' | 'gif' | 'unknown';

function sniff(b: Uint8Array): Sniffed {
  const at = (i: number, ...v: number[]) => v.every((x, k) => b[i + k] === x);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return 'png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (at(0, 0x42, 0x4d)) return 'bmp';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'gif';
  return 'unknown';
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n').map((s) => s.trim()).filter(Boolean)[0] ?? 'unknown error';
}

function decodeFailure(file: string, kind: Sniffed, e: unknown): VigilError {
  if (e instanceof VigilError) return e;
  const why = firstLine(e);
  const what = kind === 'unknown'
    ? `not a PNG/JPEG image (${why})`
    : /pixel limit/i.test(why)
      ? `${kind.toUpperCase()} image too large to decode (${why})`
      : `corrupt or truncated ${kind.toUpperCase()} image (${why})`;
  return new VigilError('E_DECODE', `${file}: ${what}`, { file, format: kind }, { cause: e });
}

// ---------------------------------------------------------------------------------------------------
// BMP (uncompressed, and 16/32-bit bit-field) → raw 8-bit RGB

interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

/** Decodes an uncompressed BMP (1/4/8-bit palette, 16/24/32-bit, BI_RGB or BI_BITFIELDS) to RGB. */
export function decodeBmp(b: Uint8Array, file: string): RawImage {
  const bad = (what: string) => new VigilError('E_DECODE', `${file}: ${what}`, { file, format: 'bmp' });
  if (b.length < 26 || b[0] !== 0x42 || b[1] !== 0x4d) throw bad('not a BMP file (header too short or no BM magic)');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dataOffset = v.getUint32(10, true);
  const dibSize = v.getUint32(14, true);
  if (dibSize < 40) throw bad(`unsupported BMP header (${dibSize}-byte OS/2 header)`);
  if (b.length < 14 + 40) throw bad('truncated BMP header');
  const width = v.getInt32(18, true);
  const rawHeight = v.getInt32(22, true);
  const bpp = v.getUint16(28, true);
  const compression = v.getUint32(30, true);
  const colorsUsed = v.getUint32(46, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height === 0 || width > 65535 || height > 65535) throw bad(`invalid BMP size ${width}x${rawHeight}`);
  if (compression !== 0 && compression !== 3) throw bad(`unsupported BMP compression ${compression} (only uncompressed BMPs are read)`);
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw bad(`unsupported BMP bit depth ${bpp}`);
  const stride = Math.ceil((bpp * width) / 32) * 4;
  if (dataOffset + stride * height > b.length) {
    throw bad(`truncated BMP: ${width}x${height} at ${bpp} bits needs ${dataOffset + stride * height} bytes, the file has ${b.length}`);
  }
  // Bit-field masks (R, G, B) for 16- and 32-bit pixels.
  let masks: [number, number, number] | null = null;
  if (bpp === 16 || bpp === 32) {
    if (compression === 3) {
      if (b.length < 66) throw bad('truncated BMP bit-field masks');
      masks = [v.getUint32(54, true), v.getUint32(58, true), v.getUint32(62, true)];
    } else {
      masks = bpp === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0x00ff00, 0x0000ff];
    }
  } else if (compression === 3) {
    throw bad(`BI_BITFIELDS with ${bpp}-bit pixels`);
  }
  const fields = masks?.map((m) => {
    if (m === 0) return { shift: 0, max: 1, m };
    let shift = 0;
    while (((m >>> shift) & 1) === 0) shift++;
    let bits = 0;
    while (((m >>> (shift + bits)) & 1) === 1) bits++;
    return { shift, max: 2 ** bits - 1, m };
  });
  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const n = colorsUsed || 2 ** bpp;
    const start = 14 + dibSize;
    if (start + 4 * n > b.length) throw bad('truncated BMP palette');
    palette = b.subarray(start, start + 4 * n);
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (palette) {
        const bit = x * bpp;
        const byte = b[row + (bit >> 3)]!;
        const idx = bpp === 8 ? byte : (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        const p = 4 * idx;
        if (p + 2 >= palette.length) throw bad(`BMP palette index ${idx} out of range`);
        out[o] = palette[p + 2]!;
        out[o + 1] = palette[p + 1]!;
        out[o + 2] = palette[p]!;
      } else if (bpp === 24) {
        const p = row + 3 * x;
        out[o] = b[p + 2]!;
        out[o + 1] = b[p + 1]!;
        out[o + 2] = b[p]!;
      } else {
        const px = bpp === 16 ? v.getUint16(row + 2 * x, true) : v.getUint32(row + 4 * x, true);
        for (let c = 0; c < 3; c++) {
          const f = fields![c]!;
          out[o + c] = Math.round((((px & f.m) >>> f.shift) * 255) / f.max);
        }
      }
    }
  }
  return { data: out, width, height, channels: 3 };
}

// ---------------------------------------------------------------------------------------------------
// Decoding

function sharpInput(bytes: Buffer, kind: Sniffed, file: string): Sharp {
  if (kind === 'bmp') {
    const raw = decodeBmp(bytes, file);
    return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
  }
  // 'error' rejects corrupt and truncated data but tolerates benign decoder warnings.
  return sharp(bytes, { failOn: 'error' });
}

function validateSize(size: ImageSize | undefined, file: string): void {
  if (!size) return;
  for (const k of ['height', 'width'] as const) {
    const n = size[k];
    if (!Number.isInteger(n) || n < 1 || n > 16384) {
      throw new VigilError('E_CONFIG', `${file}: size.${k} = ${n}, expected an integer in [1, 16384]`, { file, field: `size.${k}`, value: n });
    }
  }
}

async function decodeRaw(
  file: string,
  channels: 1 | 3,
  size: ImageSize | undefined,
  fit: 'fill' | 'cover',
  kernel: NonNullable<ReadImageOptions['kernel']>,
): Promise<{ data: Uint8Array; height: number; width: number }> {
  validateSize(size, file);
  const bytes = await readFileChecked(file);
  const kind = sniff(bytes);
  try {
    let pipe = sharpInput(bytes, kind, file).flatten({ background: '#000000' });
    pipe = channels === 1 ? pipe.greyscale() : pipe.toColourspace('srgb');
    if (size) pipe = pipe.resize(size.width, size.height, { fit, kernel, position: 'centre' });
    const { data, info } = await pipe.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== channels || data.length !== info.width * info.height * channels) {
      throw new VigilError('E_DECODE', `${file}: decoded to ${info.channels} channels, expected ${channels}`, { file });
    }
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width };
  } catch (e) {
    throw decodeFailure(file, kind, e);
  }
}

/** Decodes one image file to an Image with values in [0, 1]. */
export async function readImage(file: string, opts: ReadImageOptions): Promise<Image> {
  const channels = opts.channels;
  if (channels !== 1 && channels !== 3) {
    throw new VigilError('E_CONFIG', `${file}: channels = ${String(channels)}, expected 1 or 3`, { file, field: 'channels', value: channels });
  }
  const raw = await decodeRaw(file, channels, opts.size, opts.fit ?? 'fill', opts.kernel ?? 'lanczos3');
  const data = new Float32Array(raw.data.length);
  for (let i = 0; i < data.length; i++) data[i] = raw.data[i]! / 255;
  return { height: raw.height, width: raw.width, channels, data };
}

/**
 * Reads a pixel mask at `size` (nearest-neighbour resampling, so it stays binary): 1 where the grey
 * value is ≥ `threshold` (default: nonzero), else 0. Returns H*W bytes, row-major.
 */
export async function readMask(file: string, size: ImageSize, opts: ReadMaskOptions = {}): Promise<Uint8Array> {
  const threshold = opts.threshold ?? 1;
  if (!Number.isFinite(threshold) || threshold < 1 || threshold > 255) {
    throw new VigilError('E_CONFIG', `${file}: mask threshold ${threshold}, expected a number in [1, 255]`, { file, field: 'threshold', value: threshold });
  }
  const raw = await decodeRaw(file, 1, size, opts.fit ?? 'fill', 'nearest');
  const out = new Uint8Array(raw.data.length);
  for (let i = 0; i < out.length; i++) out[i] = raw.data[i]! >= threshold ? 1 : 0;
  return out;
}

/** Decodes many files, `concurrency` at a time, in input order. */
export async function readImages(files: readonly string[], opts: ReadImageOptions & BatchOptions): Promise<Image[]> {
  const { progress } = opts;
  progress?.start(files.length, opts.label ?? 'decoding images');
  try {
    return await mapLimit(files, opts.concurrency ?? DEFAULT_DECODE_CONCURRENCY, (f) => readImage(f, opts), (d) => progress?.update(d), opts.signal);
  } finally {
    progress?.stop();
  }
}

// ---------------------------------------------------------------------------------------------------
// Writing

function checkImage(image: Image, what: string): void {
  const { height, width, channels, data } = image;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1 || (channels !== 1 && channels !== 3)) {
    throw new VigilError('E_SHAPE', `${what}: invalid image shape ${height}x${width}x${channels}`, { file: what });
  }
  if (data.length !== height * width * channels) {
    throw new VigilError('E_SHAPE', `${what}: image data has ${data.length} values, ${height}x${width}x${channels} needs ${height * width * channels}`, { file: what });
  }
}

/** Float [0, 1] → byte, clamped and rounded; NaN → 0. */
function toBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = v > 0 ? (v >= 1 ? 255 : Math.round(v * 255)) : 0;
  }
  return out;
}

async function writeBytes(file: string, bytes: Uint8Array): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, bytes);
  } catch (e) {
    throw new VigilError('E_IO', `${file}: cannot be written (${firstLine(e)})`, { file }, { cause: e });
  }
}

/** Encodes raw 8-bit pixels as PNG bytes. */
export async function encodePng(data: Uint8Array, height: number, width: number, channels: 1 | 3): Promise<Buffer> {
  let s = sharp(data, { raw: { width, height, channels } });
  // Without an explicit colourspace sharp widens 1-channel input to 3-channel sRGB.
  if (channels === 1) s = s.toColourspace('b-w');
  return s.png({ compressionLevel: 6 }).toBuffer();
}

/** Writes an Image (values clamped to [0, 1]) as an 8-bit grey or RGB PNG, creating the folder. */
export async function writePng(file: string, image: Image): Promise<void> {
  checkImage(image, file);
  const png = await encodePng(toBytes(image.data), image.height, image.width, image.channels);
  await writeBytes(file, png);
}

/** Writes a binary mask (H*W, nonzero = anomalous) as a black/white grey PNG. */
export async function writeMaskPng(file: string, mask: Uint8Array, size: ImageSize): Promise<void> {
  if (mask.length !== size.height * size.width) {
    throw new VigilError('E_SHAPE', `${file}: mask has ${mask.length} values, ${size.height}x${size.width} needs ${size.height * size.width}`, { file });
  }
  const bytes = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) bytes[i] = mask[i] ? 255 : 0;
  await writeBytes(file, await encodePng(bytes, size.height, size.width, 1));
}

// ---------------------------------------------------------------------------------------------------
// Heat maps

export type Colormap = 'turbo' | 'jet';

export interface HeatmapOptions {
  /** Map value drawn as the coldest colour (default: the map's minimum). */
  min?: number;
  /** Map value drawn as the hottest colour (default: the map's maximum). */
  max?: number;
  /** Weight of the colour over the image, in [0, 1] (default 0.5). */
  alpha?: number;
  colormap?: Colormap;
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/** Turbo colormap (Mikhailov 2019), polynomial approximation; t in [0, 1] → RGB in [0, 1]. */
export function turbo(t: number): [number, number, number] {
  const x = clamp01(t);
  const x2 = x * x, x3 = x2 * x, x4 = x2 * x2, x5 = x4 * x;
  return [
    clamp01(0.13572138 + 4.6153926 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5),
    clamp01(0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5),
    clamp01(0.1066733 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5),
  ];
}

/** Classic jet colormap: blue → cyan → yellow → red. */
export function jet(t: number): [number, number, number] {
  const x = clamp01(t);
  return [clamp01(1.5 - Math.abs(4 * x - 3)), clamp01(1.5 - Math.abs(4 * x - 2)), clamp01(1.5 - Math.abs(4 * x - 1))];
}

/**
 * Blends a colour-mapped anomaly map (H*W, same size as the image) over a grey or RGB image:
 * out = (1 - alpha) * image + alpha * colormap((v - min) / (max - min)). Returns an RGB Image.
 */
export function heatmapOverlay(image: Image, map: Float32Array, opts: HeatmapOptions = {}): Image {
  checkImage(image, 'heatmap image');
  const { height, width, channels } = image;
  const n = height * width;
  if (map.length !== n) {
    throw new VigilError('E_SHAPE', `heatmap: map has ${map.length} values, the ${height}x${width} image needs ${n}`, { field: 'map', values: map.length, expected: n });
  }
  assertFinite(map, 'heatmap map');
  const alpha = opts.alpha ?? 0.5;
  if (!Number.isFinite(alpha) || alpha < 0 || alpha > 1) {
    throw new VigilError('E_VALUE', `heatmap: alpha = ${alpha}, expected a number in [0, 1]`, { field: 'alpha', value: alpha });
  }
  let lo = opts.min, hi = opts.max;
  if (lo === undefined || hi === undefined) {
    let mn = Infinity, mx = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = map[i]!;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    lo ??= mn;
    hi ??= mx;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new VigilError('E_VALUE', `heatmap: min ${lo} / max ${hi} must be finite`, { field: 'min/max' });
  }
  const range = hi - lo;
  const cmap = (opts.colormap ?? 'turbo') === 'jet' ? jet : turbo;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const t = range > 0 ? (map[i]! - lo) / range : 0;
    const c = cmap(t);
    for (let k = 0; k < 3; k++) {
      const base = clamp01(image.data[channels === 1 ? i : 3 * i + k]!);
      out[3 * i + k] = (1 - alpha) * base + alpha * c[k]!;
    }
  }
  return { height, width, channels: 3, data: out };
}

/** `heatmapOverlay` written as an RGB PNG. */
export async function writeHeatmapPng(file: string, image: Image, map: Float32Array, opts: HeatmapOptions = {}): Promise<void> {
  await writePng(file, heatmapOverlay(image, map, opts));
}

// ---------------------------------------------------------------------------------------------------
// Folders

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when `name` ends in one of IMAGE_EXTENSIONS (any case). */
export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/**
 * Image files directly in `dir` (not recursive), as full paths sorted by file name (plain code-unit
 * order, like Python's `sorted`). Hidden files (`.name`, e.g. macOS `._x.png`) are skipped.
 * E_NOT_FOUND when `dir` does not exist or is not a folder; an empty list when it holds no images.
 */
export async function listImageFiles(dir: string, opts: { recursive?: boolean } = {}): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new VigilError('E_NOT_FOUND', `${dir}: no such folder`, { dir });
    if (code === 'ENOTDIR') throw new VigilError('E_NOT_FOUND', `${dir}: is not a folder`, { dir });
    throw new VigilError('E_IO', `${dir}: cannot be read (${firstLine(e)})`, { dir }, { cause: e });
  }
  const names: string[] = [];
  const subdirs: string[] = [];
  for (const ent of entries) {
    if (ent.name.startsWith('.')) continue;
    if (opts.recursive && ent.isDirectory()) {
      subdirs.push(ent.name);
      continue;
    }
    if (!isImageFile(ent.name)) continue;
    let isFile = ent.isFile();
    if (ent.isSymbolicLink()) isFile = await stat(path.join(dir, ent.name)).then((s) => s.isFile(), () => false);
    if (isFile) names.push(ent.name);
  }
  const files = names.sort(byName).map((n) => path.join(dir, n));
  // Files of a folder first, then each subfolder in name order.
  for (const sub of subdirs.sort(byName)) files.push(...(await listImageFiles(path.join(dir, sub), opts)));
  return files;
}
