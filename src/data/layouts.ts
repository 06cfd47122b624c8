/**
 * Data set layouts on disk → one uniform description (`ImageDataset`), and the loader that turns its
 * references into ImageSamples with masks.
 *
 * - MVTec AD: `train/good/*`, `test/good/*`, `test/<defect>/*`, `ground_truth/<defect>/<stem>_mask.png`
 *   (optional); `train/<defect>/*` (anything but `good`) become `trainAnomalies`.
 * - magnetic tile: `MT_<class>/Imgs/<name>.jpg` with the same-name `.png` mask; the split of
 *   ../shared/BENCHMARKS.md: sort `MT_Free/Imgs/*.jpg` by name, index % 5 == 0 is test, the rest
 *   train; test also holds every image of the defect classes.
 * - folder: a plain folder of normal images, train only.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ImageSample, ProgressSink } from '../core/types.js';
import { VigilError } from '../core/errors.js';
import { DEFAULT_DECODE_CONCURRENCY, type ImageSize, listImageFiles, mapLimit, readImage, readMask } from './images.js';

export type LayoutKind = 'mvtec' | 'magnetic-tile' | 'folder';

/** One image file and what the layout says about it. */
export interface ImageRef {
  path: string;
  /** 0 normal, 1 anomalous. */
  label: 0 | 1;
  /** `good` for normal images, else the defect class (folder name, `MT_` prefix dropped). */
  category: string;
  /** Pixel mask file, when the layout has one for this image. */
  maskPath?: string;
}

export interface ImageDataset {
  /** Folder name (e.g. `bottle`, `magnetic-tile`). */
  name: string;
  root: string;
  layout: LayoutKind;
  /** Normal training images. */
  train: ImageRef[];
  /** Labelled test images, normal first, then the defect classes in name order. */
  test: ImageRef[];
  /** Labelled anomalies offered for training (MVTec `train/<defect>/`), for semi-supervised fits. */
  trainAnomalies: ImageRef[];
  /** True when the layout provides pixel masks (normal test images then get all-zero masks). */
  hasMasks: boolean;
}

export interface LoadSamplesOptions {
  channels: 1 | 3;
  /** Resize images (and masks) to this size; omitted keeps each file's own size. */
  size?: ImageSize;
  fit?: 'fill' | 'cover';
  /**
   * Attach masks: anomalies get their mask file (or `null` when it has none), normal images an
   * all-zero mask. Default: true when any ref has a `maskPath`.
   */
  masks?: boolean;
  concurrency?: number;
  progress?: ProgressSink;
  label?: string;
  signal?: AbortSignal;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function isDir(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await isDir(path.join(dir, e.name))))) out.push(e.name);
  }
  return out.sort(byName);
}

async function requireFolder(dir: string): Promise<void> {
  const st = await stat(dir).catch(() => null);
  if (!st) throw new VigilError('E_NOT_FOUND', `${dir}: no such folder`, { dir });
  if (!st.isDirectory()) throw new VigilError('E_NOT_FOUND', `${dir}: is not a folder`, { dir });
}

const stem = (file: string): string => path.basename(file, path.extname(file));

// ---------------------------------------------------------------------------------------------------
// MVTec AD

/** Reads an MVTec-AD-style category folder. E_EMPTY when `train/good` holds no images. */
export async function loadMvtec(dir: string): Promise<ImageDataset> {
  const root = path.resolve(dir);
  await requireFolder(root);
  const goodDir = path.join(root, 'train', 'good');
  if (!(await isDir(goodDir))) throw new VigilError('E_NOT_FOUND', `${root}: no train/good folder (MVTec layout)`, { dir: root });
  const ref = (p: string, category: string, maskPath?: string): ImageRef => {
    const r: ImageRef = { path: p, label: category === 'good' ? 0 : 1, category };
    if (maskPath) r.maskPath = maskPath;
    return r;
  };
  const train = (await listImageFiles(goodDir)).map((p) => ref(p, 'good'));
  if (train.length === 0) throw new VigilError('E_EMPTY', `${goodDir}: no image files (MVTec train/good)`, { dir: goodDir });

  const trainAnomalies: ImageRef[] = [];
  for (const cls of await subfolders(path.join(root, 'train'))) {
    if (cls === 'good') continue;
    for (const p of await listImageFiles(path.join(root, 'train', cls))) trainAnomalies.push(ref(p, cls));
  }

  const test: ImageRef[] = [];
  const gtRoot = path.join(root, 'ground_truth');
  const hasGroundTruth = await isDir(gtRoot);
  const testClasses = await subfolders(path.join(root, 'test'));
  // Normal first, then the defect classes in name order.
  testClasses.sort((a, b) => (a === 'good' ? -1 : b === 'good' ? 1 : byName(a, b)));
  for (const cls of testClasses) {
    const files = await listImageFiles(path.join(root, 'test', cls));
    const masks = hasGroundTruth && cls !== 'good' ? new Set(await readdir(path.join(gtRoot, cls)).catch(() => [] as string[])) : null;
    for (const p of files) {
      let maskPath: string | undefined;
      if (masks) {
        const name = `${stem(p)}_mask.png`;
        if (masks.has(name)) maskPath = path.join(gtRoot, cls, name);
      }
      test.push(ref(p, cls, maskPath));
    }
  }
  return {
    name: path.basename(root),
    root,
    layout: 'mvtec',
    train,
    test,
    trainAnomalies,
    hasMasks: test.some((r) => r.maskPath !== undefined),
  };
}

// ---------------------------------------------------------------------------------------------------
// Magnetic tile

export const MAGNETIC_TILE_NORMAL = 'MT_Free';

async function magneticTileRefs(imgsDir: string, category: string): Promise<ImageRef[]> {
  const names = await readdir(imgsDir);
  const present = new Set(names);
  const jpgs = names.filter((n) => path.extname(n).toLowerCase() === '.jpg' && !n.startsWith('.')).sort(byName);
  return jpgs.map((n) => {
    const r: ImageRef = { path: path.join(imgsDir, n), label: category === 'good' ? 0 : 1, category };
    const mask = `${stem(n)}.png`;
    if (present.has(mask)) r.maskPath = path.join(imgsDir, mask);
    return r;
  });
}

/**
 * Reads the magnetic-tile defect data set (Huang et al. 2020) with the benchmark split: the sorted
 * `MT_Free/Imgs/*.jpg` at index % 5 == 0 are normal test images, the rest train; every image of the
 * other `MT_<class>` folders is an anomalous test image (category `<class>`).
 */
export async function loadMagneticTile(dir: string): Promise<ImageDataset> {
  const root = path.resolve(dir);
  await requireFolder(root);
  const freeDir = path.join(root, MAGNETIC_TILE_NORMAL, 'Imgs');
  if (!(await isDir(freeDir))) throw new VigilError('E_NOT_FOUND', `${root}: no ${MAGNETIC_TILE_NORMAL}/Imgs folder (magnetic-tile layout)`, { dir: root });
  const free = await magneticTileRefs(freeDir, 'good');
  if (free.length === 0) throw new VigilError('E_EMPTY', `${freeDir}: no .jpg images (magnetic-tile ${MAGNETIC_TILE_NORMAL})`, { dir: freeDir });
  const train: ImageRef[] = [];
  const test: ImageRef[] = [];
  free.forEach((r, i) => (i % 5 === 0 ? test : train).push(r));
  for (const cls of await subfolders(root)) {
    if (!cls.startsWith('MT_') || cls === MAGNETIC_TILE_NORMAL) continue;
    const imgs = path.join(root, cls, 'Imgs');
    if (!(await isDir(imgs))) continue;
    test.push(...(await magneticTileRefs(imgs, cls.slice(3))));
  }
  return {
    name: path.basename(root),
    root,
    layout: 'magnetic-tile',
    train,
    test,
    trainAnomalies: [],
    hasMasks: test.some((r) => r.maskPath !== undefined),
  };
}

// ---------------------------------------------------------------------------------------------------
// Plain folder

/** A folder of normal images (train only). E_EMPTY when it holds none. */
export async function loadImageFolder(dir: string): Promise<ImageDataset> {
  const root = path.resolve(dir);
  await requireFolder(root);
  const files = await listImageFiles(root);
  if (files.length === 0) throw new VigilError('E_EMPTY', `${root}: no image files (png/jpg/jpeg/bmp/tif/webp)`, { dir: root });
  return {
    name: path.basename(root),
    root,
    layout: 'folder',
    train: files.map((p) => ({ path: p, label: 0, category: 'good' })),
    test: [],
    trainAnomalies: [],
    hasMasks: false,
  };
}

// ---------------------------------------------------------------------------------------------------
// Detection

/**
 * Which layout `dir` has: `mvtec` (a `train/good` folder), `magnetic-tile` (an `MT_Free/Imgs`
 * folder) or `folder` (image files directly inside). E_NOT_FOUND when `dir` is missing; E_EMPTY,
 * naming what was looked for, when none fits.
 */
export async function detectLayout(dir: string): Promise<LayoutKind> {
  const root = path.resolve(dir);
  await requireFolder(root);
  if (await isDir(path.join(root, 'train', 'good'))) return 'mvtec';
  if (await isDir(path.join(root, MAGNETIC_TILE_NORMAL, 'Imgs'))) return 'magnetic-tile';
  if ((await listImageFiles(root)).length > 0) return 'folder';
  // A parent of several MVTec categories is a common mistake: name them.
  const subs = await subfolders(root);
  const categories: string[] = [];
  for (const s of subs) if (await isDir(path.join(root, s, 'train', 'good'))) categories.push(s);
  const hint = categories.length > 0 ? `; it looks like a collection of MVTec categories, pick one: ${categories.slice(0, 8).join(', ')}${categories.length > 8 ? ', …' : ''}` : '';
  throw new VigilError(
    'E_EMPTY',
    `${root} has no train/good folder (MVTec layout), no MT_Free/Imgs (magnetic-tile layout) and no image files (plain folder)${hint}`,
    { dir: root, categories },
  );
}

/** Detects the layout of `dir` (unless given) and reads it. */
export async function loadImageDataset(dir: string, layout?: LayoutKind): Promise<ImageDataset> {
  switch (layout ?? (await detectLayout(dir))) {
    case 'mvtec':
      return loadMvtec(dir);
    case 'magnetic-tile':
      return loadMagneticTile(dir);
    case 'folder':
      return loadImageFolder(dir);
    default:
      throw new VigilError('E_CONFIG', `layout: ${String(layout)}, expected mvtec, magnetic-tile or folder`, { field: 'layout', value: layout });
  }
}

// ---------------------------------------------------------------------------------------------------
// Samples

/**
 * Decodes `refs` into ImageSamples (bounded concurrency, input order). Masks are read at the image's
 * size with the same fit, so they align pixel for pixel.
 */
export async function loadSamples(refs: readonly ImageRef[], opts: LoadSamplesOptions): Promise<ImageSample[]> {
  const withMasks = opts.masks ?? refs.some((r) => r.maskPath !== undefined);
  const fit = opts.fit ?? 'fill';
  const { progress } = opts;
  progress?.start(refs.length, opts.label ?? 'loading images');
  try {
    return await mapLimit(
      refs,
      opts.concurrency ?? DEFAULT_DECODE_CONCURRENCY,
      async (ref) => {
        const readOpts = opts.size ? { channels: opts.channels, size: opts.size, fit } : { channels: opts.channels };
        const image = await readImage(ref.path, readOpts);
        const sample: ImageSample = { image, source: ref.path, label: ref.label, category: ref.category };
        if (withMasks) {
          if (ref.maskPath) {
            sample.mask = await readMask(ref.maskPath, { height: image.height, width: image.width }, { fit: opts.size ? fit : 'fill' });
          } else {
            sample.mask = ref.label === 0 ? new Uint8Array(image.height * image.width) : null;
          }
        }
        return sample;
      },
      (done) => progress?.update(done),
      opts.signal,
    );
  } finally {
    progress?.stop();
  }
}
