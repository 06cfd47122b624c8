/**
 * Seeded synthetic surface-inspection data: grey textured surfaces (woven, brushed metal or mottled)
 * with per-image variation, and defects planted on them (scratches, spots, cracks) with exact pixel
 * masks. `generateTextureDataset` writes an MVTec-AD layout that `loadMvtec` reads; it backs
 * `npm run demo` and the unit tests, and is reproducible from its seed.
 *
 * Scale: the texture amplitude is about ±0.12 around a mid grey with ±0.015 pixel noise; defects
 * change intensity by 0.14-0.32 over 1-2 px wide lines or a few-pixel blobs, so they are plainly
 * visible to a person but small against the whole image (typically 0.5-3 % of the pixels).
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Image } from '../core/types.js';
import { VigilError } from '../core/errors.js';
import { createRng, type Rng } from './random.js';
import { mapLimit, writeMaskPng, writePng } from './images.js';

export type TextureKind = 'weave' | 'brushed' | 'mottled';
export type DefectKind = 'scratch' | 'spot' | 'crack';

export const TEXTURE_KINDS: readonly TextureKind[] = ['weave', 'brushed', 'mottled'];
export const DEFECT_KINDS: readonly DefectKind[] = ['scratch', 'spot', 'crack'];

const TAU = 2 * Math.PI;
const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

// ---------------------------------------------------------------------------------------------------
// Textures

/** What all images of one synthetic data set share (the "product"); images vary around it. */
export interface TextureStyle {
  kind: TextureKind;
  /** Dominant direction, radians. */
  angle: number;
  /** Thread / grain period in pixels at 64x64 (scaled with the size). */
  period: number;
  brightness: number;
  amplitude: number;
}

/** Draws a data-set style for `kind`. */
export function textureStyle(kind: TextureKind, rng: Rng): TextureStyle {
  return {
    kind,
    angle: rng.uniform(0, Math.PI),
    period: rng.uniform(6, 9),
    brightness: rng.uniform(0.42, 0.58),
    amplitude: rng.uniform(0.1, 0.13),
  };
}

/** Smooth value noise in about [-1, 1]: random values on a `cell`-pixel grid, smoothstep-interpolated. */
function valueNoise(h: number, w: number, cell: number, rng: Rng): Float32Array {
  const gw = Math.ceil(w / cell) + 2;
  const gh = Math.ceil(h / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.next() * 2 - 1;
  const ox = rng.next() * cell;
  const oy = rng.next() * cell;
  const out = new Float32Array(h * w);
  const s = (t: number) => t * t * (3 - 2 * t);
  for (let y = 0; y < h; y++) {
    const fy = (y + oy) / cell;
    const iy = Math.floor(fy);
    const ty = s(fy - iy);
    for (let x = 0; x < w; x++) {
      const fx = (x + ox) / cell;
      const ix = Math.floor(fx);
      const tx = s(fx - ix);
      const a = grid[iy * gw + ix]!, b = grid[iy * gw + ix + 1]!;
      const c = grid[(iy + 1) * gw + ix]!, d = grid[(iy + 1) * gw + ix + 1]!;
      out[y * w + x] = (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
    }
  }
  return out;
}

/** One grey texture image (size x size x 1) of `style`, with this image's own random variation. */
export function renderTexture(style: TextureStyle, size: number, rng: Rng): Image {
  const h = size, w = size;
  const scale = size / 64;
  const angle = style.angle + rng.normal(0, 0.04);
  const period = style.period * scale * rng.uniform(0.96, 1.04);
  const brightness = style.brightness + rng.uniform(-0.03, 0.03);
  const amp = style.amplitude * rng.uniform(0.9, 1.1);
  const noiseStd = rng.uniform(0.01, 0.02);
  const ca = Math.cos(angle), sa = Math.sin(angle);
  const pu = rng.next() * TAU, pv = rng.next() * TAU;
  // Slow shading across the image (uneven lighting) and a mid-scale mottle common to all kinds.
  const shading = valueNoise(h, w, Math.max(8, size / 2), rng);
  const mottle = valueNoise(h, w, Math.max(4, 8 * scale), rng);
  let streaks: Float32Array | null = null;
  if (style.kind === 'brushed') {
    // Random grain per 1-px line across the brush direction, lightly smoothed.
    const n = Math.ceil(size * 1.5) + 4;
    const raw = Array.from({ length: n }, () => rng.normal());
    streaks = new Float32Array(n);
    for (let i = 0; i < n; i++) streaks[i] = 0.25 * (raw[Math.max(0, i - 1)]! + raw[Math.min(n - 1, i + 1)]!) + 0.5 * raw[i]!;
  }
  const fine = style.kind === 'mottled' ? valueNoise(h, w, Math.max(2, 3 * scale), rng) : null;
  const data = new Float32Array(h * w);
  const cx = w / 2, cy = h / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const u = (x - cx) * ca + (y - cy) * sa;
      const v = -(x - cx) * sa + (y - cy) * ca;
      let t: number;
      switch (style.kind) {
        case 'weave': {
          // Two crossing thread families; the product gives the over/under cells of a plain weave.
          const a = Math.cos((TAU * u) / period + pu);
          const b = Math.cos((TAU * v) / period + pv);
          t = 0.6 * a * b + 0.25 * (a + b) * 0.5 + 0.25 * mottle[i]!;
          break;
        }
        case 'brushed': {
          const k = v + size * 0.75 + 2;
          const k0 = Math.floor(k);
          const f = k - k0;
          const g = streaks![k0]! * (1 - f) + streaks![k0 + 1]! * f;
          t = 0.45 * g + 0.35 * mottle[i]! + 0.2 * Math.cos((TAU * u) / (period * 4) + pu);
          break;
        }
        case 'mottled':
          t = 0.55 * mottle[i]! + 0.45 * fine![i]!;
          break;
      }
      data[i] = clamp01(brightness + amp * t + 0.04 * shading[i]! + noiseStd * rng.normal());
    }
  }
  return { height: h, width: w, channels: 1, data };
}

// ---------------------------------------------------------------------------------------------------
// Defects

export interface PlantedDefect {
  image: Image;
  /** (H, W), 1 on the defect. */
  mask: Uint8Array;
  kind: DefectKind;
}

/** Distance from (px, py) to the segment (ax, ay)-(bx, by). */
function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2)) : 0;
  const ex = px - (ax + t * dx), ey = py - (ay + t * dy);
  return Math.sqrt(ex * ex + ey * ey);
}

/** Raises `cover` to the anti-aliased coverage of a line of `width` along the segment. */
function drawSegment(cover: Float32Array, h: number, w: number, ax: number, ay: number, bx: number, by: number, width: number): void {
  const r = width / 2 + 1;
  const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r)), x1 = Math.min(w - 1, Math.ceil(Math.max(ax, bx) + r));
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r)), y1 = Math.min(h - 1, Math.ceil(Math.max(ay, by) + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const c = clamp01(width / 2 + 0.5 - segmentDistance(x, y, ax, ay, bx, by));
      const i = y * w + x;
      if (c > cover[i]!) cover[i] = c;
    }
  }
}

function scratchCoverage(h: number, w: number, rng: Rng): Float32Array {
  const cover = new Float32Array(h * w);
  const m = Math.min(h, w);
  const cx = rng.uniform(0.25, 0.75) * w, cy = rng.uniform(0.25, 0.75) * h;
  const angle = rng.uniform(0, Math.PI);
  const half = (rng.uniform(0.22, 0.45) * m) / 2;
  const dx = Math.cos(angle) * half, dy = Math.sin(angle) * half;
  drawSegment(cover, h, w, cx - dx, cy - dy, cx + dx, cy + dy, rng.uniform(0.9, 1.6) * Math.max(1, m / 96));
  return cover;
}

function spotCoverage(h: number, w: number, rng: Rng): Float32Array {
  const cover = new Float32Array(h * w);
  const m = Math.min(h, w);
  const cx = rng.uniform(0.2, 0.8) * w, cy = rng.uniform(0.2, 0.8) * h;
  const rx = rng.uniform(0.035, 0.07) * m + 1, ry = rx * rng.uniform(0.6, 1.0);
  const angle = rng.uniform(0, Math.PI);
  const ca = Math.cos(angle), sa = Math.sin(angle);
  const r = Math.ceil(Math.max(rx, ry) * 1.3) + 1;
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(h - 1, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(w - 1, Math.ceil(cx + r)); x++) {
      const u = ((x - cx) * ca + (y - cy) * sa) / rx;
      const v = (-(x - cx) * sa + (y - cy) * ca) / ry;
      const d = Math.sqrt(u * u + v * v);
      // Full strength inside 0.75 of the radius, fading to zero at 1.25.
      cover[y * w + x] = clamp01((1.25 - d) / 0.5);
    }
  }
  return cover;
}

function crackCoverage(h: number, w: number, rng: Rng): Float32Array {
  const cover = new Float32Array(h * w);
  const m = Math.min(h, w);
  const width = rng.uniform(0.8, 1.3) * Math.max(1, m / 96);
  const walk = (x: number, y: number, dir: number, steps: number): [number, number][] => {
    const pts: [number, number][] = [[x, y]];
    for (let s = 0; s < steps; s++) {
      dir += rng.normal(0, 0.35);
      const len = rng.uniform(1.5, 3) * Math.max(1, m / 64);
      const nx = x + Math.cos(dir) * len, ny = y + Math.sin(dir) * len;
      if (nx < 1 || ny < 1 || nx > w - 2 || ny > h - 2) break;
      drawSegment(cover, h, w, x, y, nx, ny, width);
      x = nx;
      y = ny;
      pts.push([x, y]);
    }
    return pts;
  };
  const dir = rng.uniform(0, TAU);
  const steps = Math.round(rng.uniform(8, 15) * Math.max(1, m / 64));
  const pts = walk(rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h, dir, steps);
  if (pts.length > 3 && rng.bool(0.6)) {
    const [bx, by] = pts[1 + rng.int(pts.length - 2)]!;
    walk(bx, by, dir + (rng.bool() ? 1 : -1) * rng.uniform(0.5, 1.2), Math.round(steps / 2));
  }
  return cover;
}

/**
 * Plants one defect on a copy of `image` (grey or RGB, values in [0, 1]) and returns it with its
 * mask: pixels whose defect coverage is at least one half. `kind` defaults to a random one.
 * Scratches are bright or dark thin lines, spots soft blobs (mostly dark), cracks dark branching
 * random-walk lines.
 */
export function plantDefect(image: Image, rng: Rng, kind?: DefectKind): PlantedDefect {
  const { height: h, width: w, channels } = image;
  if (h < 8 || w < 8 || image.data.length !== h * w * channels) {
    throw new VigilError('E_SHAPE', `plantDefect: image ${h}x${w}x${channels} with ${image.data.length} values; need a consistent image of at least 8x8`, { height: h, width: w });
  }
  const k = kind ?? rng.pick(DEFECT_KINDS);
  let cover: Float32Array;
  let delta: number;
  switch (k) {
    case 'scratch':
      cover = scratchCoverage(h, w, rng);
      delta = rng.uniform(0.16, 0.28) * (rng.bool(0.5) ? 1 : -1);
      break;
    case 'spot':
      cover = spotCoverage(h, w, rng);
      delta = rng.uniform(0.14, 0.25) * (rng.bool(0.65) ? -1 : 1);
      break;
    case 'crack':
      cover = crackCoverage(h, w, rng);
      delta = -rng.uniform(0.2, 0.32);
      break;
    default:
      throw new VigilError('E_CONFIG', `plantDefect: unknown defect kind ${String(k)} (expected ${DEFECT_KINDS.join(', ')})`, { field: 'kind', value: k });
  }
  const mask = new Uint8Array(h * w);
  let any = false;
  let best = 0;
  for (let i = 0; i < cover.length; i++) {
    if (cover[i]! >= 0.5) {
      mask[i] = 1;
      any = true;
    }
    if (cover[i]! > cover[best]!) best = i;
  }
  if (!any) {
    // A very thin line that passes between pixel centres: keep its strongest pixel so the mask is never empty.
    cover[best] = 1;
    mask[best] = 1;
  }
  const data = new Float32Array(image.data);
  for (let i = 0; i < h * w; i++) {
    const c = cover[i]!;
    if (c === 0) continue;
    for (let ch = 0; ch < channels; ch++) data[i * channels + ch] = clamp01(data[i * channels + ch]! + delta * c);
  }
  return { image: { height: h, width: w, channels, data }, mask, kind: k };
}

// ---------------------------------------------------------------------------------------------------
// Data set on disk

export interface TextureDatasetOptions {
  /** Total number of images written (train + test), at least 4. */
  count: number;
  /** Side of the square images in pixels (default 64). */
  size?: number;
  seed?: number;
  texture?: TextureKind;
  defects?: readonly DefectKind[];
  /** Fraction of `count` that goes to test (default 0.3). */
  testFraction?: number;
  /** Fraction of the test images that are anomalous (default 0.5). */
  anomalyFraction?: number;
  /** Extra labelled anomalies written to `train/<defect>/` (default 0), beyond `count`. */
  trainAnomalies?: number;
  /** Replace the train/, test/ and ground_truth/ folders of an existing non-empty `dir`. */
  overwrite?: boolean;
  concurrency?: number;
}

export interface TextureDatasetInfo {
  root: string;
  name: string;
  texture: TextureKind;
  size: number;
  seed: number;
  train: number;
  testGood: number;
  /** Anomalous test images per defect kind. */
  testAnomalies: Record<string, number>;
  trainAnomalies: Record<string, number>;
}

function intOption(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new VigilError('E_CONFIG', `synthetic dataset: ${name} = ${value}, expected an integer in [${min}, ${max}]`, { field: name, value });
  }
  return value;
}

function fractionOption(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new VigilError('E_CONFIG', `synthetic dataset: ${name} = ${value}, expected a number in (0, 1)`, { field: name, value });
  }
  return value;
}

type Job =
  | { kind: 'normal'; file: string; rng: Rng }
  | { kind: 'defect'; file: string; maskFile: string | null; defect: DefectKind; rng: Rng };

/**
 * Writes an MVTec-AD-layout data set of one texture to `dir`:
 * `train/good/NNN.png`, `test/good/NNN.png`, `test/<defect>/NNN.png`,
 * `ground_truth/<defect>/NNN_mask.png`, optional `train/<defect>/NNN.png`, and `synthetic.json`
 * recording the options. Deterministic for a seed (independent of `concurrency`).
 */
export async function generateTextureDataset(dir: string, opts: TextureDatasetOptions): Promise<TextureDatasetInfo> {
  const root = path.resolve(dir);
  const count = intOption('count', opts.count, 4, 1_000_000);
  const size = intOption('size', opts.size ?? 64, 16, 4096);
  const seed = opts.seed ?? 0;
  const texture = opts.texture ?? 'weave';
  if (!TEXTURE_KINDS.includes(texture)) {
    throw new VigilError('E_CONFIG', `synthetic dataset: texture = ${String(texture)}, expected one of ${TEXTURE_KINDS.join(', ')}`, { field: 'texture', value: texture });
  }
  const defects = [...(opts.defects ?? DEFECT_KINDS)];
  if (defects.length === 0 || defects.some((d) => !DEFECT_KINDS.includes(d)) || new Set(defects).size !== defects.length) {
    throw new VigilError('E_CONFIG', `synthetic dataset: defects = [${defects.join(', ')}], expected distinct kinds among ${DEFECT_KINDS.join(', ')}`, { field: 'defects' });
  }
  const testFraction = fractionOption('testFraction', opts.testFraction ?? 0.3);
  const anomalyFraction = fractionOption('anomalyFraction', opts.anomalyFraction ?? 0.5);
  const nTrainAnomalies = intOption('trainAnomalies', opts.trainAnomalies ?? 0, 0, 1_000_000);

  const nTest = Math.min(count - 1, Math.max(2, Math.round(count * testFraction)));
  const nTestAnomalies = Math.min(nTest - 1, Math.max(1, Math.round(nTest * anomalyFraction)));
  const nTestGood = nTest - nTestAnomalies;
  const nTrain = count - nTest;

  // Refuse to mix with what is already there unless told to replace it.
  const existing = await readdir(root).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw new VigilError('E_IO', `${root}: cannot be read (${e.message})`, { dir: root }, { cause: e });
  });
  if (existing.length > 0) {
    if (!opts.overwrite) {
      throw new VigilError('E_IO', `${root}: folder exists and is not empty; pass overwrite to replace its train/, test/ and ground_truth/`, { dir: root });
    }
    for (const sub of ['train', 'test', 'ground_truth', 'synthetic.json']) await rm(path.join(root, sub), { recursive: true, force: true });
  }
  await mkdir(root, { recursive: true });

  // Every random draw comes from a stream forked here in a fixed order, so the output does not
  // depend on the order in which the concurrent writers finish.
  const master = createRng(seed);
  const style = textureStyle(texture, master.fork());
  const digits = Math.max(3, String(Math.max(nTrain, nTestGood, nTestAnomalies, nTrainAnomalies)).length);
  const name = (i: number) => String(i).padStart(digits, '0');
  const jobs: Job[] = [];
  for (let i = 0; i < nTrain; i++) jobs.push({ kind: 'normal', file: path.join(root, 'train', 'good', `${name(i)}.png`), rng: master.fork() });
  for (let i = 0; i < nTestGood; i++) jobs.push({ kind: 'normal', file: path.join(root, 'test', 'good', `${name(i)}.png`), rng: master.fork() });
  const testAnomalies: Record<string, number> = {};
  const trainAnomalies: Record<string, number> = {};
  const addDefects = (n: number, split: 'test' | 'train', counts: Record<string, number>) => {
    for (let j = 0; j < n; j++) {
      const defect = defects[j % defects.length]!;
      const idx = counts[defect] ?? 0;
      counts[defect] = idx + 1;
      jobs.push({
        kind: 'defect',
        defect,
        file: path.join(root, split, defect, `${name(idx)}.png`),
        maskFile: split === 'test' ? path.join(root, 'ground_truth', defect, `${name(idx)}_mask.png`) : null,
        rng: master.fork(),
      });
    }
  };
  addDefects(nTestAnomalies, 'test', testAnomalies);
  addDefects(nTrainAnomalies, 'train', trainAnomalies);

  await mapLimit(jobs, opts.concurrency ?? 4, async (job) => {
    const base = renderTexture(style, size, job.rng);
    if (job.kind === 'normal') return writePng(job.file, base);
    const planted = plantDefect(base, job.rng, job.defect);
    await writePng(job.file, planted.image);
    if (job.maskFile) await writeMaskPng(job.maskFile, planted.mask, { height: size, width: size });
  });

  const info: TextureDatasetInfo = {
    root,
    name: path.basename(root),
    texture,
    size,
    seed,
    train: nTrain,
    testGood: nTestGood,
    testAnomalies,
    trainAnomalies,
  };
  const record = { generator: 'vigil synthetic textures', ...info, root: undefined, style, options: { count, testFraction, anomalyFraction, defects } };
  try {
    await writeFile(path.join(root, 'synthetic.json'), JSON.stringify(record, null, 2) + '\n');
  } catch (e) {
    throw new VigilError('E_IO', `${path.join(root, 'synthetic.json')}: cannot be written (${(e as Error).message})`, { file: path.join(root, 'synthetic.json') }, { cause: e });
  }
  return info;
}
