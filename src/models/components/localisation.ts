/**
 * From patch scores to pixel maps and regions: the anomaly map of an image is its patch-score grid
 * upsampled bilinearly to the input size and smoothed with a Gaussian (sigma 4 in PatchCore and
 * anomalib), and the pixel threshold for boxes is a high quantile of held-out normal map values.
 */
import type { AnomalyMap, Box } from '../../core/types.js';
import { gaussianBlur, resizeBilinear } from '../../scoring/maps.js';
import { boxesFromMap } from '../../scoring/boxes.js';
import { quantile } from '../../thresholds/index.js';

/** (h, w) patch scores → (H, W) anomaly map: bilinear upsampling, then Gaussian blur (sigma 0 = none). */
export function patchScoresToMap(patch: Float32Array, h: number, w: number, H: number, W: number, sigma: number): AnomalyMap {
  const up = resizeBilinear(patch, h, w, H, W);
  return { height: H, width: W, values: sigma > 0 ? gaussianBlur(up, H, W, sigma) : up };
}

/**
 * The pixel threshold for boxes: the q-quantile of all values of held-out normal maps, so that about
 * a fraction 1 - q of normal pixels reach it. Null when there are no maps.
 */
export function pixelThresholdFromMaps(maps: readonly AnomalyMap[], q: number): number | null {
  const total = maps.reduce((s, m) => s + m.values.length, 0);
  if (total === 0) return null;
  const all = new Float32Array(total);
  let o = 0;
  for (const m of maps) {
    all.set(m.values, o);
    o += m.values.length;
  }
  return quantile(all, q);
}

/** Regions of `map` at or above `threshold`; none when there is no threshold yet. */
export function mapBoxes(map: AnomalyMap, threshold: number | null): Box[] {
  return threshold === null ? [] : boxesFromMap(map.values, map.height, map.width, threshold);
}

/** One line for `reason.summary`. */
export function describeRegions(what: string, score: number, boxes: readonly Box[]): string {
  if (boxes.length === 0) return `${what} ${score.toPrecision(4)}, no region above the pixel threshold`;
  const top = boxes[0]!;
  return (
    `${what} ${score.toPrecision(4)}, ${boxes.length} region(s) above the pixel threshold; ` +
    `strongest at x ${top.x0}-${top.x1}, y ${top.y0}-${top.y1} (peak ${top.peak.toPrecision(4)}, ${top.area} px)`
  );
}
