/**
 * Pixel-level metrics over a set of anomaly maps and ground-truth masks (MVTec AD style).
 *
 * `maps[i]` holds image i's anomaly scores (row-major H x W, higher = more anomalous) and
 * `masks[i]` its ground truth (same length, 1 = anomalous pixel, 0 = normal; any other value is
 * an E_VALUE error: binarise 0/255 masks first). All pixels of all images are pooled.
 *
 * Two evaluation methods, chosen by `method` (default 'auto'):
 *   - 'exact': sorts the pooled scores (native typed-array sorts, no comparator). Every distinct
 *     score is an operating point, so the result is exact. Extra memory: AUROC 4 bytes per pixel
 *     (Float32 maps; 8 for other arrays); PRO 8 bytes per pixel for Float32 maps (each score is
 *     widened to a Float64 key carrying the pixel's region id in its unused low mantissa bits),
 *     otherwise 4-8 bytes per pixel plus 16 bytes per distinct score (binary search per pixel,
 *     several times slower). Rough cost on one core: 16.8 M Float32 pixels, about 5 s each for
 *     AUROC and PRO.
 *   - 'histogram': pools pixels into `bins` (default 2^16) equal-width bins over [min, max] of the
 *     scores; each bin is one operating point (its pixels are treated as tied). Memory O(bins).
 *     Every histogram operating point is a true operating point of the exact curve (the threshold
 *     is the smallest score in the bin, so `score >= threshold` flags exactly the pixels of that
 *     bin and the bins above), so the only error is the chord between consecutive bins; it is
 *     bounded and reported as `errorBound`:
 *       AUROC: |approx - exact| <= 1/2 sum_b P_b N_b / (P N)   (pairs tied only by binning);
 *       PRO:   |approx - exact| <= sum over bins inside the integration range of
 *              1/2 dFPR_b dPRO_b (full dFPR dPRO for the bin crossing maxFpr), / maxFpr.
 *     With 2^16 bins and continuous scores this is typically below 1e-4.
 *   - 'auto': 'exact' when the total pixel count is <= `exactLimit` (default 2^24 ~ 16.8 M
 *     pixels), else 'histogram'.
 */
import { VigilError } from '../core/errors.js';
import { labelComponents, type Connectivity } from './components.js';
import { checkInteger, checkRange, lowerBound, uniqueSortedInPlace, type ScoreGroups } from './internal.js';
import { aurocFromGroups } from './ranking.js';

export type PixelMethod = 'auto' | 'exact' | 'histogram';

export interface PixelMetricOptions {
  method?: PixelMethod;
  /** 'auto' uses the exact method up to this many pixels in total (default 2^24). */
  exactLimit?: number;
  /** Number of histogram bins (default 2^16). */
  bins?: number;
}

export interface PixelAurocResult {
  auroc: number;
  method: 'exact' | 'histogram';
  /** Upper bound on |auroc - exact AUROC|; 0 for the exact method. */
  errorBound: number;
  pixels: number;
  anomalousPixels: number;
}

export interface ProOptions extends PixelMetricOptions {
  /** Upper end of the FPR integration range, in (0, 1] (default 0.3). */
  maxFpr?: number;
  /** Map width, shared by all images or one per image. */
  width: number | readonly number[];
  /** Map height, shared or per image; default length / width. */
  height?: number | readonly number[];
  /** Connectivity of ground-truth regions (default 8, as in MVTec AD). */
  connectivity?: Connectivity;
}

export interface ProResult {
  /** Area under the PRO curve for FPR in [0, maxFpr], divided by maxFpr (in [0, 1]). */
  pro: number;
  maxFpr: number;
  /**
   * The PRO curve: point k is (fprs[k], pros[k]) at threshold thresholds[k] (flag iff
   * score >= threshold). Starts at (0, 0) with threshold +Infinity; truncated after the first
   * point whose FPR reaches maxFpr.
   */
  fprs: Float64Array;
  pros: Float64Array;
  thresholds: Float64Array;
  /** Number of ground-truth regions over all images. */
  regions: number;
  method: 'exact' | 'histogram';
  /** Upper bound on |pro - exact value|; 0 for the exact method. */
  errorBound: number;
}

interface PixelStats {
  total: number;
  positives: number;
  lo: number;
  hi: number;
  float32: boolean;
}

function checkPixels(maps: readonly ArrayLike<number>[], masks: readonly ArrayLike<number>[]): PixelStats {
  if (!Array.isArray(maps)) throw new VigilError('E_VALUE', 'maps: expected an array of anomaly maps', { field: 'maps' });
  if (!Array.isArray(masks)) throw new VigilError('E_VALUE', 'masks: expected an array of masks', { field: 'masks' });
  if (maps.length === 0) throw new VigilError('E_EMPTY', 'maps: is empty, expected at least one anomaly map', { field: 'maps' });
  if (masks.length !== maps.length) {
    throw new VigilError('E_SHAPE', `masks: has ${masks.length} masks but maps has ${maps.length}; they must pair up one to one`, { field: 'masks' });
  }
  let total = 0;
  let positives = 0;
  let lo = Infinity;
  let hi = -Infinity;
  let float32 = true;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    const k = masks[i]!;
    if (!m || typeof m.length !== 'number') throw new VigilError('E_VALUE', `maps[${i}]: expected an array of scores`, { field: `maps[${i}]` });
    if (!k || typeof k.length !== 'number') throw new VigilError('E_VALUE', `masks[${i}]: expected an array of 0/1 values`, { field: `masks[${i}]` });
    if (m.length === 0) throw new VigilError('E_EMPTY', `maps[${i}]: is empty`, { field: `maps[${i}]` });
    if (k.length !== m.length) {
      throw new VigilError('E_SHAPE', `masks[${i}]: has ${k.length} pixels but maps[${i}] has ${m.length}`, { field: `masks[${i}]` });
    }
    if (!(m instanceof Float32Array)) float32 = false;
    for (let p = 0; p < m.length; p++) {
      const v = m[p]!;
      if (!Number.isFinite(v)) {
        throw new VigilError('E_VALUE', `maps[${i}]: pixel ${p} is ${String(v)}, expected a finite number`, { field: `maps[${i}]`, index: p });
      }
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      const b = k[p];
      if (b === 1) positives++;
      else if (b !== 0) {
        throw new VigilError('E_VALUE', `masks[${i}]: pixel ${p} is ${String(b)}, expected 0 (normal) or 1 (anomalous); binarise 0/255 masks first`, {
          field: `masks[${i}]`,
          index: p,
        });
      }
    }
    total += m.length;
  }
  return { total, positives, lo, hi, float32 };
}

/** Region ids packed into the 29 low mantissa bits of a widened Float32 score. */
const PAYLOAD_MASK = 0x1fffffff;
const PAYLOAD_LIMIT = 2 ** 29;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function resolveMethod(options: PixelMetricOptions, total: number): 'exact' | 'histogram' {
  const method = options.method ?? 'auto';
  if (method !== 'auto' && method !== 'exact' && method !== 'histogram') {
    throw new VigilError('E_CONFIG', `method: is ${String(method)}, expected 'auto', 'exact' or 'histogram'`, { field: 'method' });
  }
  const exactLimit = options.exactLimit ?? 2 ** 24;
  checkInteger(exactLimit, 'exactLimit', 0);
  if (method === 'auto') return total <= exactLimit ? 'exact' : 'histogram';
  return method;
}

function binCount(options: PixelMetricOptions): number {
  const bins = options.bins ?? 2 ** 16;
  checkInteger(bins, 'bins', 2);
  if (bins > 2 ** 26) throw new VigilError('E_CONFIG', `bins: is ${bins}, expected at most 2^26`, { field: 'bins' });
  return bins;
}

/** Maps a score to its bin; monotone non-decreasing in the score (IEEE rounding is monotone). */
function binner(lo: number, hi: number, bins: number): (v: number) => number {
  if (!(hi > lo)) return () => 0;
  const span = hi - lo;
  return (v) => {
    const b = Math.floor(((v - lo) / span) * bins);
    return b >= bins ? bins - 1 : b;
  };
}

/** Histogram groups (highest bin first), skipping empty bins; values[g] = smallest score in the bin. */
function histogramGroups(
  maps: readonly ArrayLike<number>[],
  masks: readonly ArrayLike<number>[],
  stats: PixelStats,
  bins: number,
): { groups: ScoreGroups; errorBound: number } {
  const pos = new Float64Array(bins);
  const neg = new Float64Array(bins);
  const minv = new Float64Array(bins).fill(Infinity);
  const bin = binner(stats.lo, stats.hi, bins);
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    const k = masks[i]!;
    for (let p = 0; p < m.length; p++) {
      const v = m[p]!;
      const b = bin(v);
      if (k[p] === 1) pos[b]++;
      else neg[b]++;
      if (v < minv[b]!) minv[b] = v;
    }
  }
  const P = stats.positives;
  const N = stats.total - P;
  const values = new Float64Array(bins);
  const gp = new Float64Array(bins);
  const gn = new Float64Array(bins);
  let g = 0;
  let tied = 0;
  for (let b = bins - 1; b >= 0; b--) {
    if (pos[b]! + neg[b]! === 0) continue;
    values[g] = minv[b]!;
    gp[g] = pos[b]!;
    gn[g] = neg[b]!;
    tied += pos[b]! * neg[b]!;
    g++;
  }
  return { groups: { values, pos: gp, neg: gn, count: g, totalPos: P, totalNeg: N }, errorBound: tied / 2 / (P * N) };
}

/**
 * Pixel-level AUROC over all pixels of all images, with the method used and its error bound.
 * Ties get half credit (Mann-Whitney), as in {@link auroc}.
 */
export function pixelAurocDetailed(
  maps: readonly ArrayLike<number>[],
  masks: readonly ArrayLike<number>[],
  options: PixelMetricOptions = {},
): PixelAurocResult {
  const stats = checkPixels(maps, masks);
  const P = stats.positives;
  const N = stats.total - P;
  if (P === 0 || N === 0) {
    throw new VigilError(
      'E_VALUE',
      `masks: all ${stats.total} pixels are ${P === 0 ? '0 (normal)' : '1 (anomalous)'}; pixel AUROC needs both normal and anomalous pixels`,
      { field: 'masks' },
    );
  }
  const method = resolveMethod(options, stats.total);
  if (method === 'histogram') {
    const { groups, errorBound } = histogramGroups(maps, masks, stats, binCount(options));
    return { auroc: aurocFromGroups(groups), method, errorBound, pixels: stats.total, anomalousPixels: P };
  }
  const Arr = stats.float32 ? Float32Array : Float64Array;
  const p = new Arr(P);
  const q = new Arr(N);
  let ip = 0;
  let iq = 0;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    const k = masks[i]!;
    for (let j = 0; j < m.length; j++) {
      if (k[j] === 1) p[ip++] = m[j]!;
      else q[iq++] = m[j]!;
    }
  }
  p.sort();
  q.sort();
  // Mann-Whitney over the two sorted arrays without materialising groups.
  let i = P - 1;
  let j = N - 1;
  let tpAbove = 0;
  let acc = 0;
  while (i >= 0 || j >= 0) {
    const a = i >= 0 ? p[i]! : -Infinity;
    const b = j >= 0 ? q[j]! : -Infinity;
    const v = i < 0 ? b : j < 0 ? a : a > b ? a : b;
    let dp = 0;
    let dn = 0;
    while (i >= 0 && p[i] === v) {
      dp++;
      i--;
    }
    while (j >= 0 && q[j] === v) {
      dn++;
      j--;
    }
    acc += dn * (tpAbove + dp / 2);
    tpAbove += dp;
  }
  return { auroc: acc / (P * N), method, errorBound: 0, pixels: stats.total, anomalousPixels: P };
}

/** Pixel-level AUROC (see {@link pixelAurocDetailed} for the method and its error bound). */
export function pixelAuroc(maps: readonly ArrayLike<number>[], masks: readonly ArrayLike<number>[], options: PixelMetricOptions = {}): number {
  return pixelAurocDetailed(maps, masks, options).auroc;
}

function dimOf(spec: number | readonly number[] | undefined, i: number, field: string): number | undefined {
  if (spec === undefined) return undefined;
  if (typeof spec === 'number') return spec;
  if (!Array.isArray(spec)) throw new VigilError('E_CONFIG', `${field}: expected a number or one number per image`, { field });
  if (i >= spec.length) throw new VigilError('E_CONFIG', `${field}: has ${spec.length} entries, expected one per image`, { field });
  return spec[i];
}

/**
 * Per-Region Overlap (PRO) integrated up to `maxFpr`, as in MVTec AD (Bergmann et al., "The MVTec
 * Anomaly Detection Dataset", IJCV 2021; official evaluation code `compute_pro` + `trapezoid`):
 *   - regions are the connected components (8-connectivity) of each image's ground-truth mask;
 *   - for a threshold t, PRO(t) = mean over all regions r of |{p in r : score(p) >= t}| / |r|, and
 *     FPR(t) = |{normal p : score(p) >= t}| / |normal pixels| (normal pixels of all images,
 *     including anomaly-free ones);
 *   - every distinct score is a threshold (tied pixels switch together), the curve starts at
 *     (0, 0), and its trapezoidal area over FPR in [0, maxFpr] (linear interpolation at maxFpr)
 *     divided by maxFpr is the result.
 */
export function proDetailed(maps: readonly ArrayLike<number>[], masks: readonly ArrayLike<number>[], options: ProOptions): ProResult {
  if (!options || typeof options !== 'object') throw new VigilError('E_CONFIG', 'options: expected { width, height?, maxFpr? }', { field: 'options' });
  const stats = checkPixels(maps, masks);
  const maxFpr = options.maxFpr ?? 0.3;
  checkRange(maxFpr, 'maxFpr', 0, 1, { loOpen: true });
  const connectivity = options.connectivity ?? 8;
  const dims: { h: number; w: number }[] = [];
  for (let i = 0; i < maps.length; i++) {
    const len = maps[i]!.length;
    const w = dimOf(options.width, i, 'width');
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 1) {
      throw new VigilError('E_CONFIG', `width: is ${String(w)} for image ${i}, expected a positive integer`, { field: 'width' });
    }
    const hGiven = dimOf(options.height, i, 'height');
    const h = hGiven ?? len / w;
    if (!Number.isInteger(h) || h < 1 || h * w !== len) {
      throw new VigilError('E_SHAPE', `maps[${i}]: has ${len} pixels, which is not ${hGiven ?? '(an integer height)'} x ${w}`, { field: `maps[${i}]` });
    }
    dims.push({ h, w });
  }
  const method = resolveMethod(options, stats.total);

  // Ground-truth regions, labelled one image at a time: region ids are global (1..regions),
  // regionWeight[id] = 1 / area, id 0 = normal pixel.
  const regionWeight: number[] = [0];
  let normals = 0;
  const eachImage = (fn: (i: number, labels: Int32Array, base: number) => void): void => {
    for (let i = 0; i < maps.length; i++) {
      const { h, w } = dims[i]!;
      const { labels, components } = labelComponents(masks[i]!, h, w, { connectivity });
      const base = regionWeight.length - 1;
      let area = 0;
      for (const c of components) {
        regionWeight.push(1 / c.area);
        area += c.area;
      }
      normals += maps[i]!.length - area;
      fn(i, labels, base);
    }
  };
  const checkRegions = (): void => {
    if (regionWeight.length === 1) throw new VigilError('E_VALUE', 'masks: no anomalous region in any mask; PRO needs at least one', { field: 'masks' });
    if (normals === 0) throw new VigilError('E_VALUE', 'masks: every pixel is anomalous; PRO needs normal pixels for its FPR', { field: 'masks' });
  };

  // The curve, from the highest threshold down, until FPR reaches maxFpr. `emit` adds one
  // operating point (threshold, normal pixels and summed region weights newly flagged) and says
  // whether the integration range is covered.
  const fprList: number[] = [0];
  const proList: number[] = [0];
  const thrList: number[] = [Infinity];
  let fp = 0;
  let ov = 0;
  const emit = (threshold: number, dfp: number, dov: number): boolean => {
    fp += dfp;
    ov += dov;
    fprList.push(Math.min(1, fp / normals));
    proList.push(Math.min(1, ov / (regionWeight.length - 1)));
    thrList.push(threshold);
    return fp / normals >= maxFpr;
  };
  // Region ids (at most one per pixel) must fit the 29-bit payload.
  if (method === 'exact' && stats.float32 && stats.total < PAYLOAD_LIMIT && LITTLE_ENDIAN) {
    // A Float32 score widened to Float64 has its 29 low mantissa bits zero: store the pixel's
    // region id there (0 = normal pixel) and sort the keys natively (no comparator). Keys order
    // by score first, so equal scores are adjacent (-0 and +0 too) and form one group once the
    // payload is masked off. Only the part of the sorted keys up to maxFpr is walked.
    const keys = new Float64Array(stats.total);
    const words = new Uint32Array(keys.buffer);
    let o = 0;
    eachImage((i, labels, base) => {
      const m = maps[i]!;
      for (let p = 0; p < m.length; p++, o++) {
        keys[o] = m[p]!;
        const lab = labels[p]!;
        if (lab !== 0) words[2 * o] = (words[2 * o]! | (base + lab)) >>> 0;
      }
    });
    checkRegions();
    keys.sort();
    let k = keys.length - 1;
    while (k >= 0) {
      const first = words[2 * k]!;
      words[2 * k] = (first & ~PAYLOAD_MASK) >>> 0;
      const v = keys[k]!;
      words[2 * k] = first;
      let dfp = 0;
      let dov = 0;
      while (k >= 0) {
        const word = words[2 * k]!;
        words[2 * k] = (word & ~PAYLOAD_MASK) >>> 0;
        if (keys[k] !== v) {
          words[2 * k] = word;
          break;
        }
        const id = word & PAYLOAD_MASK;
        if (id === 0) dfp++;
        else dov += regionWeight[id]!;
        k--;
      }
      if (emit(v, dfp, dov)) break;
    }
  } else {
    // Distinct scores located by binary search (exact), or histogram bins; indexed ascending.
    let G: number;
    let indexOf: (v: number) => number;
    let thresholdOf: (g: number) => number;
    let binMin: Float64Array | null = null;
    if (method === 'exact') {
      const all = stats.float32 ? new Float32Array(stats.total) : new Float64Array(stats.total);
      let o = 0;
      for (const m of maps) for (let p = 0; p < m.length; p++) all[o++] = m[p]!;
      all.sort();
      const uniq = uniqueSortedInPlace(all).slice();
      G = uniq.length;
      indexOf = (v) => lowerBound(uniq, v);
      thresholdOf = (g) => uniq[g]!;
    } else {
      const bins = binCount(options);
      const bin = binner(stats.lo, stats.hi, bins);
      G = bins;
      indexOf = bin;
      binMin = new Float64Array(bins).fill(Infinity);
      const mins = binMin;
      thresholdOf = (g) => mins[g]!;
    }
    const fpCount = new Float64Array(G);
    const overlap = new Float64Array(G);
    eachImage((i, labels, base) => {
      const m = maps[i]!;
      for (let p = 0; p < m.length; p++) {
        const v = m[p]!;
        const g = indexOf(v);
        if (binMin && v < binMin[g]!) binMin[g] = v;
        const lab = labels[p]!;
        if (lab === 0) fpCount[g]++;
        else overlap[g] += regionWeight[base + lab]!;
      }
    });
    checkRegions();
    for (let g = G - 1; g >= 0; g--) {
      if (fpCount[g] === 0 && overlap[g] === 0) continue;
      if (emit(thresholdOf(g), fpCount[g]!, overlap[g]!)) break;
    }
  }

  let area = 0;
  let bound = 0;
  for (let s = 1; s < fprList.length; s++) {
    const x0 = fprList[s - 1]!;
    const x1 = fprList[s]!;
    const y0 = proList[s - 1]!;
    const y1 = proList[s]!;
    if (x0 >= maxFpr) break;
    if (x1 <= maxFpr) {
      area += ((x1 - x0) * (y0 + y1)) / 2;
      bound += ((x1 - x0) * (y1 - y0)) / 2;
    } else {
      const y = y0 + ((y1 - y0) * (maxFpr - x0)) / (x1 - x0);
      area += ((maxFpr - x0) * (y0 + y)) / 2;
      bound += (maxFpr - x0) * (y1 - y0);
      break;
    }
  }
  return {
    pro: area / maxFpr,
    maxFpr,
    fprs: Float64Array.from(fprList),
    pros: Float64Array.from(proList),
    thresholds: Float64Array.from(thrList),
    regions: regionWeight.length - 1,
    method,
    errorBound: method === 'exact' ? 0 : bound / maxFpr,
  };
}

/** Normalised area under the PRO curve up to `maxFpr` (default 0.3); see {@link proDetailed}. */
export function pro(maps: readonly ArrayLike<number>[], masks: readonly ArrayLike<number>[], options: ProOptions): number {
  return proDetailed(maps, masks, options).pro;
}
