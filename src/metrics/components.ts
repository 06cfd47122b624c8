/**
 * Connected-component labelling of binary masks (row-major, H x W; any nonzero value is
 * foreground). Used for the ground-truth regions of the PRO metric and for bounding boxes of
 * thresholded anomaly maps.
 *
 * Connectivity 8 (default) joins pixels that touch by an edge or a corner, as
 * `scipy.ndimage.label(mask, structure=np.ones((3, 3)))` does in the MVTec AD evaluation code;
 * connectivity 4 joins only edge neighbours. Labels are 1..count, numbered in raster order of each
 * component's first pixel; background is 0. Linear time (iterative flood fill, no recursion).
 */
import { VigilError } from '../core/errors.js';

export type Connectivity = 4 | 8;

export interface ComponentLabels {
  /** H*W labels: 0 background, 1..count components. */
  labels: Int32Array;
  count: number;
}

export interface ComponentInfo {
  /** The component's label in `labels`. */
  label: number;
  /** Number of pixels. */
  area: number;
  /** Inclusive bounding box in pixel coordinates (x = column, y = row). */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Largest value of `map` inside the component (only when a map was given). */
  peak?: number;
}

export interface LabelledComponents extends ComponentLabels {
  /** components[k] describes label k + 1. */
  components: ComponentInfo[];
}

function checkMask(mask: ArrayLike<number>, height: number, width: number, connectivity: number): void {
  if (!Number.isInteger(height) || height < 1) {
    throw new VigilError('E_CONFIG', `height: is ${String(height)}, expected a positive integer`, { field: 'height' });
  }
  if (!Number.isInteger(width) || width < 1) {
    throw new VigilError('E_CONFIG', `width: is ${String(width)}, expected a positive integer`, { field: 'width' });
  }
  if (connectivity !== 4 && connectivity !== 8) {
    throw new VigilError('E_CONFIG', `connectivity: is ${String(connectivity)}, expected 4 or 8`, { field: 'connectivity' });
  }
  if (!mask || mask.length !== height * width) {
    throw new VigilError('E_SHAPE', `mask: has ${mask?.length} values, ${height}x${width} needs ${height * width}`, {
      field: 'mask',
      expected: height * width,
      actual: mask?.length,
    });
  }
}

/**
 * Core flood fill. Calls `visit(label, index)` for every foreground pixel, grouped by component.
 * Returns the labels and the count.
 */
function flood(
  mask: ArrayLike<number>,
  height: number,
  width: number,
  connectivity: Connectivity,
  onNew: (label: number) => void,
  visit: (label: number, index: number, x: number, y: number) => void,
): ComponentLabels {
  const n = height * width;
  const labels = new Int32Array(n);
  const stack = new Int32Array(n);
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (!mask[start] || labels[start] !== 0) continue;
    const label = ++count;
    onNew(label);
    labels[start] = label;
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const p = stack[--top]!;
      const y = (p / width) | 0;
      const x = p - y * width;
      visit(label, p, x, y);
      const yLo = y > 0 ? y - 1 : y;
      const yHi = y < height - 1 ? y + 1 : y;
      const xLo = x > 0 ? x - 1 : x;
      const xHi = x < width - 1 ? x + 1 : x;
      for (let yy = yLo; yy <= yHi; yy++) {
        for (let xx = xLo; xx <= xHi; xx++) {
          if (connectivity === 4 && yy !== y && xx !== x) continue;
          const q = yy * width + xx;
          if (mask[q] && labels[q] === 0) {
            labels[q] = label;
            stack[top++] = q;
          }
        }
      }
    }
  }
  return { labels, count };
}

/** Connected components of a binary mask (nonzero = foreground), 8-connectivity by default. */
export function connectedComponents(mask: ArrayLike<number>, height: number, width: number, connectivity: Connectivity = 8): ComponentLabels {
  checkMask(mask, height, width, connectivity);
  return flood(mask, height, width, connectivity, () => {}, () => {});
}

/**
 * Connected components with area and inclusive bounding box of each; with `map` (H*W values, e.g.
 * the anomaly map the mask was thresholded from) also the peak value inside each component.
 */
export function labelComponents(
  mask: ArrayLike<number>,
  height: number,
  width: number,
  options: { connectivity?: Connectivity; map?: ArrayLike<number> } = {},
): LabelledComponents {
  const connectivity = options.connectivity ?? 8;
  checkMask(mask, height, width, connectivity);
  const map = options.map;
  if (map && map.length !== height * width) {
    throw new VigilError('E_SHAPE', `map: has ${map.length} values, ${height}x${width} needs ${height * width}`, { field: 'map' });
  }
  const components: ComponentInfo[] = [];
  const res = flood(
    mask,
    height,
    width,
    connectivity,
    (label) => {
      const c: ComponentInfo = { label, area: 0, x0: width, y0: height, x1: -1, y1: -1 };
      if (map) c.peak = -Infinity;
      components.push(c);
    },
    (label, p, x, y) => {
      const c = components[label - 1]!;
      c.area++;
      if (x < c.x0) c.x0 = x;
      if (x > c.x1) c.x1 = x;
      if (y < c.y0) c.y0 = y;
      if (y > c.y1) c.y1 = y;
      if (map) {
        const v = map[p]!;
        if (v > c.peak!) c.peak = v;
      }
    },
  );
  return { ...res, components };
}
