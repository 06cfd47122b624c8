/**
 * Held-out normal data and synthetic anomalies for label-free model selection, per input kind:
 *  - images: a random subset of the normal training images is held out; each gets an altered copy,
 *    taking the kinds in turn: a planted defect (scratch, spot or crack, `plantDefect` from
 *    data/synthetic.ts, flipped in sign where clipping would erase it), the whole image turned by 90
 *    degrees or flipped (a global change of shape), or a CutPaste patch (opt-in);
 *  - series: the last part of every training series is held out and cut into chunks; each chunk
 *    gets four altered copies, alternately with a spike (1-3 steps at 3-7 standard deviations) or a
 *    level shift (1-3 standard deviations over an eighth to a third of the chunk) in one channel;
 *  - table rows: a random subset of the rows is held out; each gets a copy with, alternately, a
 *    fifth of its features moved 3-5 standard deviations from the held-out mean (out of range) or
 *    half of them taken from another held-out row (in range, relations broken).
 * Normal and anomalous copies are paired (same source), so their score difference measures the
 * anomaly alone.
 */
import { VigilError } from '../core/errors.js';
import type { Image, ImageSample, InputKind, ScoreResult, Series } from '../core/types.js';
import { createRng, type Rng } from '../data/random.js';
import { sliceSeries } from '../data/series.js';
import { trainValidationSplit } from '../data/split.js';
import { plantDefect, type DefectKind } from '../data/synthetic.js';
import type { TableRow } from '../data/tables.js';

export interface HeldOut<S> {
  train: S[];
  heldOut: S[];
}

/** A labelled sample set to rank: scores of samples (or of steps, for series with step labels). */
export interface Ranked {
  scores: number[];
  labels: number[];
}

/**
 * Splits normal training data into what trials train on and what selection scores. Images and rows:
 * `fraction` of them at random (at most `max`); series: the last `fraction` of every series, cut into
 * chunks of `chunk` steps (the last chunk absorbs a remainder shorter than `chunk`).
 */
export function holdOut<S>(kind: InputKind, normal: S[], o: { fraction: number; seed: number; max?: number; chunk?: number }): HeldOut<S> {
  if (!(o.fraction > 0 && o.fraction < 1)) throw new VigilError('E_CONFIG', `holdout: ${o.fraction} must be a fraction in (0, 1)`, { field: 'holdout', value: o.fraction });
  if (kind === 'series') return holdOutSeries(normal as unknown as Series[], o.fraction, o.chunk ?? 256) as unknown as HeldOut<S>;
  if (normal.length < 4) throw new VigilError('E_EMPTY', `holding out normal samples for selection needs at least 4 normal samples (got ${normal.length})`);
  const split = trainValidationSplit(normal, o.fraction, `${o.seed}:holdout`);
  let heldOut = split.validation;
  let train = split.train;
  if (o.max !== undefined && heldOut.length > o.max) {
    // Keep `max` for selection; the rest goes back to training.
    train = [...train, ...heldOut.slice(o.max)];
    heldOut = heldOut.slice(0, o.max);
  }
  return { train, heldOut };
}

function holdOutSeries(normal: Series[], fraction: number, chunk: number): HeldOut<Series> {
  const train: Series[] = [];
  const heldOut: Series[] = [];
  for (const s of normal) {
    const tail = Math.floor(s.length * fraction);
    if (tail < chunk) {
      throw new VigilError('E_EMPTY', `${s.source}: ${s.length} steps; holding out ${fraction} of it gives ${tail} steps, less than one selection chunk of ${chunk}; give longer series or raise --holdout`, {
        file: s.source,
      });
    }
    const cut = s.length - tail;
    train.push(sliceSeries(s, 0, cut));
    const n = Math.floor(tail / chunk);
    for (let k = 0; k < n; k++) {
      const end = k === n - 1 ? s.length : cut + (k + 1) * chunk;
      heldOut.push(sliceSeries(s, cut + k * chunk, end, `${s.source}@${cut + k * chunk}`));
    }
  }
  return { train, heldOut };
}

export interface SyntheticOptions {
  /** Image anomalies to make, taken in turn over the held-out images (default DEFAULT_IMAGE_ANOMALIES). */
  imageKinds?: readonly ImageAnomalyKind[];
}

/**
 * Synthetic anomalies made from held-out normal samples, labelled 1: one per image or row, in the
 * same order (category `synthetic-<kind>` for images); SERIES_COPIES per series chunk, copy k of
 * chunk i at index k * n + i. Element i is paired with normal sample i mod n.
 */
export function syntheticAnomalies<S>(kind: InputKind, normal: S[], seed: number, opts: SyntheticOptions = {}): S[] {
  const master = createRng(`${seed}:synthetic`);
  switch (kind) {
    case 'image': {
      const kinds = opts.imageKinds ?? DEFAULT_IMAGE_ANOMALIES;
      if (kinds.length === 0 || kinds.some((k) => !IMAGE_ANOMALY_KINDS.includes(k))) {
        throw new VigilError('E_CONFIG', `synthetic image anomalies: [${kinds.join(', ')}], expected some of ${IMAGE_ANOMALY_KINDS.join(', ')}`, { field: 'synthetic' });
      }
      return (normal as unknown as ImageSample[]).map((s, i) => {
        const rng = master.fork();
        const which = kinds[i % kinds.length]!;
        const d = which === 'cutpaste' ? cutPaste(s.image, rng) : which === 'rotate' ? rotated(s.image, rng) : visibleDefect(s.image, rng);
        return { image: d.image, source: `${s.source}+${d.kind}`, label: 1, category: `synthetic-${which}`, mask: d.mask } satisfies ImageSample;
      }) as unknown as S[];
    }
    case 'series': {
      // Several altered copies of each chunk (the chunks are few): copy k of chunk i at k * n + i.
      const series = normal as unknown as Series[];
      const out: Series[] = [];
      for (let k = 0; k < SERIES_COPIES; k++) for (const s of series) out.push(injectSeriesAnomaly(s, master.fork(), k % 2 === 0 ? 'spike' : 'level-shift'));
      return out as unknown as S[];
    }
    case 'table': {
      const rows = normal as unknown as TableRow[];
      const stats = rowStats(rows);
      return rows.map((r, i) => (i % 2 === 0 ? perturbRow(r, stats, master.fork()) : swapFeatures(r, rows, master.fork()))) as unknown as S[];
    }
    default:
      throw new VigilError('E_UNSUPPORTED', `synthetic anomalies: unknown input kind ${String(kind)}`);
  }
}

/**
 * Synthetic image anomalies: `defect` (a planted scratch, spot or crack: local), `cutpaste` (a patch
 * moved elsewhere: local, structural), `rotate` (the whole image turned or flipped: global).
 */
export type ImageAnomalyKind = 'defect' | 'cutpaste' | 'rotate';
export const IMAGE_ANOMALY_KINDS: readonly ImageAnomalyKind[] = ['defect', 'cutpaste', 'rotate'];
/**
 * Local defects and whole-image turns, taken in turn. Planted defects carry the signal on surface
 * data (magnetic tiles) and barely register on object data (Fashion-MNIST, whose anomalies are other
 * garments), where turned images do.
 */
export const DEFAULT_IMAGE_ANOMALIES: readonly ImageAnomalyKind[] = ['defect', 'rotate'];

/**
 * The image turned by 90 degrees (square images) or flipped upside down, alternately: a global
 * change of shape, as when a different object stands in for the normal one. The mask is the whole image.
 */
export function rotated(image: Image, rng: Rng): { image: Image; mask: Uint8Array; kind: string } {
  const { height: H, width: W, channels: C } = image;
  const turn = H === W && rng.bool();
  const data = new Float32Array(image.data.length);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // Turn: (y, x) -> (x, W - 1 - y); flip: (y, x) -> (H - 1 - y, x).
      const to = turn ? x * W + (W - 1 - y) : (H - 1 - y) * W + x;
      for (let c = 0; c < C; c++) data[to * C + c] = image.data[(y * W + x) * C + c]!;
    }
  }
  return { image: { height: H, width: W, channels: C, data }, mask: new Uint8Array(H * W).fill(1), kind: turn ? 'turned' : 'flipped' };
}

function invert(image: Image): Image {
  return { ...image, data: image.data.map((v) => 1 - v) };
}

/** Mean |change| over the defect mask. */
function maskedChange(a: Image, b: Image, mask: Uint8Array): number {
  let sum = 0;
  let n = 0;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    for (let c = 0; c < a.channels; c++) sum += Math.abs(a.data[p * a.channels + c]! - b.data[p * b.channels + c]!);
    n += a.channels;
  }
  return n > 0 ? sum / n : 0;
}

/**
 * `plantDefect`, made visible on saturated backgrounds: a dark defect planted on black (or a bright
 * one on white) is clipped away, so while the planted change averages under 0.05 over its mask the
 * defect is planted again, alternately on the image and on its inverse (inverted back afterwards:
 * the opposite sign), up to 8 times.
 */
export function visibleDefect(image: Image, rng: Rng): { image: Image; mask: Uint8Array; kind: string } {
  let last: { image: Image; mask: Uint8Array; kind: string } | null = null;
  const inverse = invert(image);
  for (let attempt = 0; attempt < 8; attempt++) {
    const flip = attempt % 2 === 1;
    const d = plantDefect(flip ? inverse : image, rng, last?.kind as DefectKind | undefined);
    last = flip ? { image: invert(d.image), mask: d.mask, kind: d.kind } : d;
    if (maskedChange(image, last.image, last.mask) >= 0.05) return last;
  }
  return last!;
}

/**
 * CutPaste (Li et al., CVPR 2021): a rectangle of 2-15% of the image (aspect ratio 0.3-3.3) is cut
 * from one place and pasted at another.
 */
export function cutPaste(image: Image, rng: Rng): { image: Image; mask: Uint8Array; kind: string } {
  const { height: H, width: W, channels: C } = image;
  const area = rng.uniform(0.02, 0.15) * H * W;
  const aspect = Math.exp(rng.uniform(Math.log(0.3), Math.log(3.3)));
  const h = Math.max(2, Math.min(H - 1, Math.round(Math.sqrt(area * aspect))));
  const w = Math.max(2, Math.min(W - 1, Math.round(Math.sqrt(area / aspect))));
  const sy = rng.int(H - h + 1);
  const sx = rng.int(W - w + 1);
  let dy = rng.int(H - h + 1);
  let dx = rng.int(W - w + 1);
  if (Math.abs(dy - sy) < h / 2 && Math.abs(dx - sx) < w / 2) {
    // Keep the paste away from where it was cut.
    dy = (sy + Math.ceil(h / 2) + rng.int(Math.max(1, H - h))) % (H - h + 1);
    dx = (sx + Math.ceil(w / 2) + rng.int(Math.max(1, W - w))) % (W - w + 1);
  }
  const data = new Float32Array(image.data);
  const mask = new Uint8Array(H * W);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const from = ((sy + y) * W + sx + x) * C;
      const to = ((dy + y) * W + dx + x) * C;
      for (let c = 0; c < C; c++) data[to + c] = image.data[from + c]!;
      mask[(dy + y) * W + dx + x] = 1;
    }
  }
  return { image: { height: H, width: W, channels: C, data }, mask, kind: 'cutpaste' };
}

export type SeriesAnomalyKind = 'spike' | 'level-shift';
/** Altered copies made of each held-out series chunk, alternating spikes and level shifts. */
export const SERIES_COPIES = 4;

function channelStd(s: Series, c: number): number {
  let sum = 0;
  let sq = 0;
  for (let t = 0; t < s.length; t++) {
    const v = s.values[t * s.channels + c]!;
    sum += v;
    sq += v * v;
  }
  const mean = sum / s.length;
  return Math.sqrt(Math.max(sq / s.length - mean * mean, 0)) || 1;
}

/**
 * A copy of `s` with one anomaly in one channel and step labels marking it: a spike (1-3 steps
 * moved by 3-7 standard deviations of that channel) or a level shift (1-3 standard deviations
 * added over an eighth to a third of the series). Placed away from the ends.
 */
export function injectSeriesAnomaly(s: Series, rng: Rng, kind: SeriesAnomalyKind = rng.bool() ? 'spike' : 'level-shift'): Series {
  if (s.length < 16) throw new VigilError('E_SHAPE', `${s.source}: ${s.length} steps is too short to plant an anomaly (16 at least)`, { file: s.source });
  const c = rng.int(s.channels);
  const std = channelStd(s, c);
  const sign = rng.bool() ? 1 : -1;
  const values = new Float32Array(s.values);
  const labels = new Uint8Array(s.length);
  let start: number;
  let end: number;
  let delta: number;
  if (kind === 'spike') {
    const width = 1 + rng.int(3);
    start = Math.floor(s.length * 0.25) + rng.int(Math.max(1, Math.floor(s.length * 0.5)));
    end = Math.min(s.length, start + width);
    delta = sign * rng.uniform(3, 7) * std;
  } else {
    const width = Math.max(2, Math.round(s.length * rng.uniform(1 / 8, 1 / 3)));
    start = Math.floor(s.length * 0.2) + rng.int(Math.max(1, Math.floor(s.length * 0.4)));
    end = Math.min(s.length, start + width);
    delta = sign * rng.uniform(1, 3) * std;
  }
  for (let t = start; t < end; t++) {
    values[t * s.channels + c] = values[t * s.channels + c]! + delta;
    labels[t] = 1;
  }
  return { ...s, source: `${s.source}+${kind}`, values, labels };
}

interface RowStats {
  mean: Float64Array;
  std: Float64Array;
}

function rowStats(rows: TableRow[]): RowStats {
  if (rows.length === 0) throw new VigilError('E_EMPTY', 'no held-out rows to perturb');
  const D = rows[0]!.values.length;
  const mean = new Float64Array(D);
  const sq = new Float64Array(D);
  for (const r of rows) for (let j = 0; j < D; j++) {
    mean[j] += r.values[j]!;
    sq[j] += r.values[j]! ** 2;
  }
  const std = new Float64Array(D);
  for (let j = 0; j < D; j++) {
    mean[j] /= rows.length;
    std[j] = Math.sqrt(Math.max(sq[j]! / rows.length - mean[j]! ** 2, 0)) || 1;
  }
  return { mean, std };
}

/** A fifth of the features (at least one) moved 3-5 standard deviations from the mean: out of range. */
function perturbRow(r: TableRow, stats: RowStats, rng: Rng): TableRow {
  const D = r.values.length;
  const values = new Float32Array(r.values);
  const k = Math.max(1, Math.round(D / 5));
  const features = rng.shuffle(Array.from({ length: D }, (_, j) => j)).slice(0, k);
  for (const j of features) values[j] = stats.mean[j]! + (rng.bool() ? 1 : -1) * rng.uniform(3, 5) * stats.std[j]!;
  return { ...r, source: `${r.source}+perturbed`, values, label: 1 };
}

/**
 * Half of the features (at least one) taken from another row: every value stays in its normal
 * range, but the relations between features break.
 */
function swapFeatures(r: TableRow, rows: TableRow[], rng: Rng): TableRow {
  const D = r.values.length;
  const values = new Float32Array(r.values);
  const donor = rows[rng.int(rows.length)]!;
  const features = rng.shuffle(Array.from({ length: D }, (_, j) => j)).slice(0, Math.max(1, Math.floor(D / 2)));
  for (const j of features) values[j] = donor.values[j]!;
  return { ...r, source: `${r.source}+swapped`, values, label: 1 };
}

/**
 * Pairs scores with labels for ranking metrics: per step when the samples are series with step
 * labels and the results have step maps (1, T); otherwise one score per sample with `labels[i]`.
 */
export function rankedScores(samples: readonly unknown[], results: readonly ScoreResult[], labels: readonly number[], stepLevel = false): Ranked {
  if (stepLevel) {
    const scores: number[] = [];
    const out: number[] = [];
    samples.forEach((s, i) => {
      const steps = (s as Series).labels;
      const map = results[i]!.map;
      if (!steps || !map || map.values.length !== steps.length) {
        throw new VigilError('E_SHAPE', `${(s as Series).source}: step-level selection needs step labels and a step map of the same length`);
      }
      for (let t = 0; t < steps.length; t++) {
        scores.push(map.values[t]!);
        out.push(steps[t]! > 0 ? 1 : 0);
      }
    });
    return { scores, labels: out };
  }
  return { scores: results.map((r) => r.score), labels: [...labels] };
}
