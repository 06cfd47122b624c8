/**
 * Per-position statistics of patch scores on held-out normal images, to put every position of the
 * feature grid on the same scale: z = (score - mean[p]) / std[p].
 *
 * Why: on images whose borders vary much more than their interiors (tiles of different shapes
 * stretched to one size, edges of parts), raw nearest-neighbour distances are largest at the border
 * for normal images too, so the border decides most image scores. Dividing by each position's own
 * spread on normal images removes that bias (PaDiM's per-position Gaussians do the same by design).
 *
 * Layout: grids are (h * w) row-major; statistics likewise.
 */
import { VigilError } from '../../core/errors.js';
import { bytesToFloat32, float32ToBytes } from '../../core/model-store.js';

export interface PositionStats {
  mean: Float32Array;
  std: Float32Array;
}

/** Fraction of the median standard deviation below which a position's std is raised (no blow-ups). */
export const STD_FLOOR_FRACTION = 0.1;

export class PositionStatsAccumulator {
  private readonly s1: Float64Array;
  private readonly s2: Float64Array;
  private n = 0;

  constructor(readonly positions: number) {
    this.s1 = new Float64Array(positions);
    this.s2 = new Float64Array(positions);
  }

  get count(): number {
    return this.n;
  }

  add(grid: Float32Array): void {
    if (grid.length !== this.positions) throw new VigilError('E_SHAPE', `position statistics: grid of ${grid.length}, expected ${this.positions}`, { positions: this.positions });
    for (let p = 0; p < grid.length; p++) {
      const v = grid[p]!;
      this.s1[p]! += v;
      this.s2[p]! += v * v;
    }
    this.n++;
  }

  /** Mean and (sample) standard deviation per position; `exclude` leaves one added grid out. */
  stats(exclude?: Float32Array): PositionStats {
    const m = exclude ? this.n - 1 : this.n;
    if (m < 2) throw new VigilError('E_EMPTY', `position statistics need at least 2 images, have ${m}`, { images: m });
    const P = this.positions;
    const mean = new Float32Array(P);
    const std = new Float32Array(P);
    for (let p = 0; p < P; p++) {
      const x = exclude ? exclude[p]! : 0;
      const s1 = this.s1[p]! - x;
      const s2 = this.s2[p]! - x * x;
      const mu = s1 / m;
      mean[p] = mu;
      std[p] = Math.sqrt(Math.max(s2 - m * mu * mu, 0) / (m - 1));
    }
    floorStd(std);
    return { mean, std };
  }
}

/** Raises every std to at least STD_FLOOR_FRACTION of the median (and 1e-6), in place. */
function floorStd(std: Float32Array): void {
  const sorted = Float32Array.from(std).sort();
  const floor = Math.max(1e-6, STD_FLOOR_FRACTION * sorted[sorted.length >> 1]!);
  for (let p = 0; p < std.length; p++) if (!(std[p]! >= floor)) std[p] = floor;
}

/** z-scores of a grid: (grid[p] - mean[p]) / std[p]. */
export function standardiseGrid(grid: Float32Array, stats: PositionStats): Float32Array {
  if (grid.length !== stats.mean.length) throw new VigilError('E_SHAPE', `standardiseGrid: grid of ${grid.length}, statistics of ${stats.mean.length}`);
  return Float32Array.from(grid, (v, p) => (v - stats.mean[p]!) / stats.std[p]!);
}

/** Held-out normal images needed before per-position statistics are used (PatchCore, feature-ae). */
export const MIN_POSITION_IMAGES = 8;

/** Position statistics as saved with a model: the stats and the held-out images they rest on. */
export interface SavedPositionStats {
  stats: PositionStats;
  images: number;
}

const POSITION_MEAN_FILE = 'position-mean.f32';
const POSITION_STD_FILE = 'position-std.f32';

/** The model-folder files of `positions` (none when there are no statistics). */
export function positionStatsFiles(positions: SavedPositionStats | null): Record<string, Uint8Array> {
  if (!positions) return {};
  return { [POSITION_MEAN_FILE]: float32ToBytes(positions.stats.mean), [POSITION_STD_FILE]: float32ToBytes(positions.stats.std) };
}

/**
 * Reads the statistics saved for a `grid` from a verified model folder's files; null when the model
 * has none (`images` 0). A missing file or a wrong length is E_MODEL_CORRUPT naming it.
 */
export function readPositionStats(files: Record<string, Uint8Array>, grid: { height: number; width: number }, images: number, dir: string): SavedPositionStats | null {
  if (!images) return null;
  const P = grid.height * grid.width;
  const read = (name: string): Float32Array => {
    const f = files[name];
    if (!f) throw new VigilError('E_MODEL_CORRUPT', `${dir}: ${name} is not listed in the manifest`, { path: dir, file: name });
    const v = bytesToFloat32(f, `${dir}/${name}`);
    if (v.length !== P) throw new VigilError('E_MODEL_CORRUPT', `${dir}/${name}: ${v.length} values, the ${grid.height}x${grid.width} grid needs ${P}`, { path: dir, file: name });
    return v;
  };
  return { stats: { mean: read(POSITION_MEAN_FILE), std: read(POSITION_STD_FILE) }, images };
}
