/**
 * Readers for the idx format of MNIST and Fashion-MNIST (optionally gzipped), and a packed image
 * store: one Float32Array of N*H*W*C values with cheap `subarray` views per image, so that 60,000
 * 28x28 images cost 188 MB once instead of 60,000 separate allocations.
 *
 * idx layout: bytes 0-1 are zero, byte 2 the element type (0x08 ubyte, 0x09 sbyte, 0x0B int16,
 * 0x0C int32, 0x0D float32, 0x0E float64), byte 3 the number of dimensions; then one big-endian
 * uint32 per dimension; then the elements, big-endian, row-major.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Image, ImageSample } from '../core/types.js';
import { VigilError } from '../core/errors.js';

const gunzipAsync = promisify(gunzip);

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  source: string;
  dtype: IdxDtype;
  dims: number[];
  data: IdxData;
}

const IDX_TYPES: Record<number, { dtype: IdxDtype; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

/** N images of one size stored back to back, channels-last: image i is data[i*H*W*C, (i+1)*H*W*C). */
export interface PackedImages {
  source: string;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** count * height * width * channels values in [0, 1]. */
  data: Float32Array;
}

export interface IdxSplit {
  images: PackedImages;
  /** Class index per image (0-9 for (Fashion-)MNIST). */
  labels: Uint8Array;
}

export interface IdxDataset {
  train: IdxSplit;
  test: IdxSplit;
}

/** Where Debian's `dataset-fashion-mnist` package installs the four files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

function decodeError(file: string, what: string, details: Record<string, unknown> = {}, cause?: unknown): VigilError {
  return new VigilError('E_DECODE', `${file}: ${what}`, { file, ...details }, cause === undefined ? undefined : { cause });
}

async function readBytes(file: string): Promise<Buffer> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new VigilError('E_NOT_FOUND', `${file}: is not a file`, { file });
    return await readFile(file);
  } catch (e) {
    if (e instanceof VigilError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new VigilError('E_NOT_FOUND', `${file}: no such file`, { file });
    throw new VigilError('E_IO', `${file}: cannot be read (${(e as Error).message})`, { file }, { cause: e });
  }
}

/** Parses idx bytes (already gunzipped). `source` names the file in errors. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.length < 4) throw decodeError(source, `not an idx file (${bytes.length} bytes, shorter than the 4-byte header)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw decodeError(source, `not an idx file (magic bytes ${head}, expected 00 00 <type> <ndims>)`);
  }
  const type = IDX_TYPES[bytes[2]!];
  if (!type) throw decodeError(source, `unknown idx element type 0x${bytes[2]!.toString(16).padStart(2, '0')} (expected 08, 09, 0b, 0c, 0d or 0e)`);
  const ndims = bytes[3]!;
  if (ndims === 0) throw decodeError(source, 'idx header declares 0 dimensions');
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw decodeError(source, `truncated idx header (${bytes.length} bytes, ${ndims} dimensions need ${headerBytes})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let elements = 1;
  for (let d = 0; d < ndims; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    dims.push(n);
    elements *= n;
  }
  const expected = headerBytes + elements * type.bytes;
  if (bytes.length !== expected) {
    const why = bytes.length < expected ? 'truncated' : 'trailing bytes';
    throw decodeError(
      source,
      `${why}: dims [${dims.join(', ')}] of ${type.dtype} need ${expected} bytes, the file has ${bytes.length}`,
      { dims, expectedBytes: expected, actualBytes: bytes.length },
    );
  }
  let data: IdxData;
  switch (type.dtype) {
    case 'uint8':
      data = bytes.subarray(headerBytes, expected);
      break;
    case 'int8':
      data = new Int8Array(bytes.buffer, bytes.byteOffset + headerBytes, elements);
      break;
    default: {
      const out =
        type.dtype === 'int16' ? new Int16Array(elements)
        : type.dtype === 'int32' ? new Int32Array(elements)
        : type.dtype === 'float32' ? new Float32Array(elements)
        : new Float64Array(elements);
      for (let i = 0, o = headerBytes; i < elements; i++, o += type.bytes) {
        out[i] =
          type.dtype === 'int16' ? view.getInt16(o, false)
          : type.dtype === 'int32' ? view.getInt32(o, false)
          : type.dtype === 'float32' ? view.getFloat32(o, false)
          : view.getFloat64(o, false);
      }
      data = out;
    }
  }
  return { source, dtype: type.dtype, dims, data };
}

/** Reads an idx file, gunzipping it first when it starts with the gzip magic (1f 8b). */
export async function readIdx(file: string): Promise<IdxArray> {
  let bytes: Uint8Array = await readBytes(file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (e) {
      throw decodeError(file, `corrupt or truncated gzip data (${(e as Error).message})`, {}, e);
    }
  }
  return parseIdx(bytes, file);
}

/**
 * Reads an idx file of uint8 images, dims (N, H, W) or (N, H, W, C) with C 1 or 3, as packed
 * float images scaled to [0, 1].
 */
export async function loadIdxImages(file: string): Promise<PackedImages> {
  const idx = await readIdx(file);
  if (idx.dtype !== 'uint8') throw decodeError(file, `idx images must be uint8, found ${idx.dtype}`);
  const dims = idx.dims;
  const channels = dims.length === 3 ? 1 : dims.length === 4 ? dims[3] : undefined;
  if (channels !== 1 && channels !== 3) {
    throw new VigilError('E_SHAPE', `${file}: idx images need dims (N, H, W) or (N, H, W, 1|3), found [${dims.join(', ')}]`, { file, dims });
  }
  const src = idx.data as Uint8Array;
  const data = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) data[i] = src[i]! / 255;
  return { source: file, count: dims[0]!, height: dims[1]!, width: dims[2]!, channels, data };
}

/** Reads an idx file of uint8 labels, dims (N). */
export async function loadIdxLabels(file: string): Promise<Uint8Array> {
  const idx = await readIdx(file);
  if (idx.dtype !== 'uint8' || idx.dims.length !== 1) {
    throw new VigilError('E_SHAPE', `${file}: idx labels need uint8 dims (N), found ${idx.dtype} [${idx.dims.join(', ')}]`, { file, dims: idx.dims });
  }
  // Copy so the labels do not keep the whole file buffer alive.
  return new Uint8Array(idx.data as Uint8Array);
}

async function findIdxFile(dir: string, names: Set<string>, stem: string, kind: string): Promise<string> {
  const candidates = [`${stem}-${kind}`, `${stem}.${kind}`].flatMap((s) => [s, `${s}.gz`]);
  for (const c of candidates) if (names.has(c)) return path.join(dir, c);
  throw new VigilError('E_NOT_FOUND', `${dir}: no ${candidates[0]} or ${candidates[1]} file`, { dir, file: candidates[0] });
}

async function loadIdxSplit(dir: string, names: Set<string>, prefix: 'train' | 't10k'): Promise<IdxSplit> {
  const imagesFile = await findIdxFile(dir, names, `${prefix}-images`, 'idx3-ubyte');
  const labelsFile = await findIdxFile(dir, names, `${prefix}-labels`, 'idx1-ubyte');
  const [images, labels] = await Promise.all([loadIdxImages(imagesFile), loadIdxLabels(labelsFile)]);
  if (labels.length !== images.count) {
    throw new VigilError('E_SHAPE', `${labelsFile}: ${labels.length} labels for ${images.count} images in ${imagesFile}`, {
      file: labelsFile,
      labels: labels.length,
      images: images.count,
    });
  }
  return { images, labels };
}

/**
 * Loads the four files of (Fashion-)MNIST from `dir`: `train-images-idx3-ubyte`,
 * `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally
 * gzipped with a `.gz` name (the `train-images.idx3-ubyte` spelling is accepted too).
 */
export async function loadFashionMnist(dir: string = DEBIAN_FASHION_MNIST_DIR): Promise<IdxDataset> {
  let names: Set<string>;
  try {
    names = new Set(await readdir(dir));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new VigilError('E_NOT_FOUND', `${dir}: no such folder`, { dir });
    throw new VigilError('E_IO', `${dir}: cannot be read (${(e as Error).message})`, { dir }, { cause: e });
  }
  const train = await loadIdxSplit(dir, names, 'train');
  const test = await loadIdxSplit(dir, names, 't10k');
  return { train, test };
}

/** Image `i` of a packed store as an Image whose `data` is a view (no copy) into the store. */
export function imageView(packed: PackedImages, i: number): Image {
  if (!Number.isInteger(i) || i < 0 || i >= packed.count) {
    throw new VigilError('E_VALUE', `${packed.source}: image index ${i} out of range [0, ${packed.count})`, { file: packed.source, index: i });
  }
  const n = packed.height * packed.width * packed.channels;
  return { height: packed.height, width: packed.width, channels: packed.channels, data: packed.data.subarray(i * n, (i + 1) * n) };
}

export interface PackedSampleOptions {
  /** Which images (default all, in order). */
  indices?: ArrayLike<number>;
  /** Class per image; becomes `category` (as a string) on each sample. */
  classes?: ArrayLike<number>;
  /** With `classes`: images of these classes get label 0, the others label 1 (the one-class protocol). */
  normalClasses?: readonly number[];
}

/**
 * ImageSample views of a packed store (the image data is shared, not copied); `source` is
 * `<file>#<index>`.
 */
export function packedSamples(packed: PackedImages, opts: PackedSampleOptions = {}): ImageSample[] {
  const { classes, normalClasses } = opts;
  if (classes && classes.length !== packed.count) {
    throw new VigilError('E_SHAPE', `${packed.source}: ${classes.length} classes for ${packed.count} images`, { file: packed.source });
  }
  if (normalClasses && !classes) {
    throw new VigilError('E_CONFIG', `${packed.source}: normalClasses needs classes`, { file: packed.source });
  }
  const normal = normalClasses ? new Set(normalClasses) : null;
  const count = opts.indices ? opts.indices.length : packed.count;
  const out: ImageSample[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const i = opts.indices ? opts.indices[k]! : k;
    const sample: ImageSample = { image: imageView(packed, i), source: `${packed.source}#${i}` };
    if (classes) {
      sample.category = String(classes[i]);
      if (normal) sample.label = normal.has(classes[i]!) ? 0 : 1;
    }
    out[k] = sample;
  }
  return out;
}

/** Indices of the images whose class is `cls`. */
export function indicesOfClass(classes: ArrayLike<number>, cls: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < classes.length; i++) if (classes[i] === cls) out.push(i);
  return out;
}

/** Copies same-shaped images into one packed store (E_SHAPE naming the first that differs). */
export function packImages(images: readonly Image[], source = 'packed'): PackedImages {
  if (images.length === 0) throw new VigilError('E_EMPTY', `${source}: no images to pack`, { file: source });
  const { height, width, channels } = images[0]!;
  const n = height * width * channels;
  const data = new Float32Array(images.length * n);
  images.forEach((img, i) => {
    if (img.height !== height || img.width !== width || img.channels !== channels || img.data.length !== n) {
      throw new VigilError(
        'E_SHAPE',
        `${source}: image ${i} is ${img.height}x${img.width}x${img.channels}, the first is ${height}x${width}x${channels}`,
        { file: source, index: i },
      );
    }
    data.set(img.data, i * n);
  });
  return { source, count: images.length, height, width, channels, data };
}
