/**
 * Regions of an anomaly map: the connected components (8-connectivity) of the pixels at or above a
 * threshold, each as its inclusive bounding box with its peak score and pixel area. This is what
 * `reason.boxes` carries to alarms, reports and heat-map overlays.
 */
import { VigilError } from '../core/errors.js';
import type { Box } from '../core/types.js';
import { labelComponents } from '../metrics/components.js';

/**
 * Boxes around the connected regions of `map` (H*W values, row-major) where `map >= threshold`,
 * largest peak first (ties: larger area first, then raster order). An empty array when no pixel
 * reaches the threshold. Throws E_SHAPE when `map` does not hold height*width values and E_VALUE
 * for a threshold that is not a finite number.
 */
export function boxesFromMap(map: Float32Array, height: number, width: number, threshold: number): Box[] {
  if (!Number.isInteger(height) || height < 1 || !Number.isInteger(width) || width < 1) {
    throw new VigilError('E_SHAPE', `boxesFromMap: map size ${height}x${width} is not a positive integer size`, { height, width });
  }
  if (map.length !== height * width) {
    throw new VigilError('E_SHAPE', `boxesFromMap: map has ${map.length} values, ${height}x${width} needs ${height * width}`, {
      field: 'map',
      expected: height * width,
      actual: map.length,
    });
  }
  if (!Number.isFinite(threshold)) {
    throw new VigilError('E_VALUE', `boxesFromMap: threshold is ${threshold}, expected a finite number`, { field: 'threshold', value: String(threshold) });
  }
  const mask = new Uint8Array(map.length);
  let any = false;
  for (let i = 0; i < map.length; i++) {
    if (map[i]! >= threshold) {
      mask[i] = 1;
      any = true;
    }
  }
  if (!any) return [];
  const { components } = labelComponents(mask, height, width, { connectivity: 8, map });
  const boxes: Box[] = components.map((c) => ({ x0: c.x0, y0: c.y0, x1: c.x1, y1: c.y1, peak: c.peak!, area: c.area }));
  // Array.prototype.sort is stable, so equal keys keep raster order.
  return boxes.sort((a, b) => b.peak - a.peak || b.area - a.area);
}
