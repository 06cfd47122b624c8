/**
 * Anomaly-map post-processing on plain arrays: aggregation to one score, Gaussian smoothing and
 * bilinear resizing (anomalib's anomaly_map step).
 */
import { VigilError } from '../core/errors.js';

export type MapAggregate = 'mean' | 'max' | 'topk';

/**
 * One score from a map: the mean, the maximum, or the mean of the top `fraction` of values
 * (at least one value).
 */
export function aggregateMap(values: Float32Array, how: MapAggregate, fraction = 0.01): number {
  const n = values.length;
  if (n === 0) throw new VigilError('E_SHAPE', 'cannot score an empty anomaly map');
  if (how === 'max') {
    let m = -Infinity;
    for (let i = 0; i < n; i++) if (values[i]! > m) m = values[i]!;
    return m;
  }
  if (how === 'mean') {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[i]!;
    return s / n;
  }
  const k = Math.max(1, Math.round(n * fraction));
  const sorted = Float32Array.from(values).sort();
  let s = 0;
  for (let i = n - k; i < n; i++) s += sorted[i]!;
  return s / k;
}

function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(4 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Separable Gaussian blur of an (H, W) map with reflected borders. Returns a new array. */
export function gaussianBlur(map: Float32Array, height: number, width: number, sigma: number): Float32Array {
  if (sigma <= 0) return Float32Array.from(map);
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const reflect = (i: number, n: number) => {
    if (n === 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
  };
  const tmp = new Float32Array(map.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let j = -r; j <= r; j++) s += k[j + r]! * map[row + reflect(x + j, width)]!;
      tmp[row + x] = s;
    }
  }
  const out = new Float32Array(map.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let j = -r; j <= r; j++) s += k[j + r]! * tmp[reflect(y + j, height) * width + x]!;
      out[y * width + x] = s;
    }
  }
  return out;
}

/** Bilinear resize of an (h, w) map to (H, W), pixel centres aligned (align_corners = false). */
export function resizeBilinear(map: Float32Array, h: number, w: number, H: number, W: number): Float32Array {
  if (h === H && w === W) return Float32Array.from(map);
  const out = new Float32Array(H * W);
  const sy = h / H;
  const sx = w / W;
  for (let Y = 0; Y < H; Y++) {
    const fy = Math.min(Math.max((Y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let X = 0; X < W; X++) {
      const fx = Math.min(Math.max((X + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      const top = map[y0 * w + x0]! * (1 - dx) + map[y0 * w + x1]! * dx;
      const bottom = map[y1 * w + x0]! * (1 - dx) + map[y1 * w + x1]! * dx;
      out[Y * W + X] = top * (1 - dy) + bottom * dy;
    }
  }
  return out;
}
