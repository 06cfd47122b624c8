/**
 * PatchCore's memory bank, built as images stream in and bounded throughout:
 *
 * 1. Each image's P patch features (P, D) are projected to `projectionDims` dims by a seeded
 *    Gaussian random projection (the paper runs the coreset search on such a projection).
 * 2. When all training patches would not fit in `maxPool` vectors, each image is first reduced to
 *    its own quota of floor(maxPool / images) patches by greedy k-center on its projected features
 *    (keeping the patches that differ most from the rest of that image, which a random subsample
 *    would lose). Otherwise every patch is kept.
 * 3. `finish` runs greedy k-center over the pooled projections to pick
 *    min(maxBank, round(coresetRatio * all training patches)) vectors; the bank holds their full
 *    D-dimensional features.
 *
 * Memory: the pool holds at most maxPool * (D + projectionDims) float32 (e.g. 65536 * (768 + 128)
 * * 4 bytes ≈ 235 MB); each image contributes at most its quota of patches, P * D * 4 bytes only
 * while its batch is processed.
 */
import { VigilError } from '../../core/errors.js';
import type { ProgressSink } from '../../core/types.js';
import { createRng, type Rng } from '../../data/random.js';
import { kCenterGreedy } from '../components/coreset.js';
import { RandomProjection } from '../components/projection.js';

export interface MemoryBankOptions {
  /** Feature dims D. */
  dim: number;
  /** Patches per image P. */
  patchesPerImage: number;
  /** Training images that will be added. */
  images: number;
  /** Bank size as a fraction of all training patches. */
  coresetRatio: number;
  /** Upper bound on the bank size. */
  maxBank: number;
  /** Upper bound on the patches pooled before the final coreset search. */
  maxPool: number;
  /** Dims of the random projection the coreset search runs on; 0 = the features themselves. */
  projectionDims: number;
  seed: number;
}

export interface MemoryBank {
  /** (size, D) row-major. */
  features: Float32Array;
  size: number;
  dim: number;
  /** All training patches seen, the pool they were reduced to, and each image's quota. */
  trainPatches: number;
  pooled: number;
  perImage: number;
}

export class MemoryBankBuilder {
  private readonly pool: Float32Array;
  /** Projected pool, (capacity, r); the pool itself when there is no projection. */
  private readonly poolProjected: Float32Array;
  private readonly projection: RandomProjection | null;
  private readonly rng: Rng;
  private readonly quota: number;
  private readonly r: number;
  private pooled = 0;
  private imagesAdded = 0;

  constructor(private readonly o: MemoryBankOptions) {
    const { dim, patchesPerImage: P, images } = o;
    if (images < 1 || P < 1 || dim < 1) throw new VigilError('E_EMPTY', `PatchCore memory bank: ${images} images of ${P} patches x ${dim} dims`, { images, P, dim });
    this.quota = Math.min(P, Math.max(1, Math.floor(o.maxPool / images)));
    const capacity = this.quota * images;
    this.projection = o.projectionDims > 0 && o.projectionDims < dim ? new RandomProjection(dim, o.projectionDims, o.seed) : null;
    this.r = this.projection ? o.projectionDims : dim;
    this.pool = new Float32Array(capacity * dim);
    this.poolProjected = this.projection ? new Float32Array(capacity * this.r) : this.pool;
    this.rng = createRng(`patchcore-coreset-${o.seed}`);
  }

  /** Patches kept per image (all P unless the pool bound requires fewer). */
  get perImage(): number {
    return this.quota;
  }

  /** Adds `count` images' patch features, (count, P, D) row-major. */
  add(values: Float32Array, count: number): void {
    const { dim: D, patchesPerImage: P, images } = this.o;
    if (values.length !== count * P * D) {
      throw new VigilError('E_SHAPE', `PatchCore memory bank: ${values.length} values are not ${count} images of ${P}x${D}`, { P, D });
    }
    if (this.imagesAdded + count > images) {
      throw new VigilError('E_VALUE', `PatchCore memory bank: built for ${images} images, ${this.imagesAdded + count} were added`, { images });
    }
    const r = this.r;
    const projected = this.projection ? this.projection.apply(values, count * P) : values;
    for (let i = 0; i < count; i++) {
      const feats = values.subarray(i * P * D, (i + 1) * P * D);
      const proj = projected.subarray(i * P * r, (i + 1) * P * r);
      if (this.quota >= P) {
        this.pool.set(feats, this.pooled * D);
        if (this.projection) this.poolProjected.set(proj, this.pooled * r);
        this.pooled += P;
      } else {
        const keep = kCenterGreedy(proj, P, r, this.quota, { start: this.rng.int(P) });
        for (const j of keep) {
          this.pool.set(feats.subarray(j * D, (j + 1) * D), this.pooled * D);
          if (this.projection) this.poolProjected.set(proj.subarray(j * r, (j + 1) * r), this.pooled * r);
          this.pooled++;
        }
      }
    }
    this.imagesAdded += count;
  }

  /** Runs the final coreset search and returns the bank. */
  finish(progress?: ProgressSink): MemoryBank {
    const { dim: D, patchesPerImage: P } = this.o;
    if (this.pooled === 0) throw new VigilError('E_EMPTY', 'PatchCore memory bank: no training patches were added');
    const trainPatches = this.imagesAdded * P;
    const target = Math.max(1, Math.min(this.o.maxBank, Math.round(this.o.coresetRatio * trainPatches)));
    let features: Float32Array;
    if (target >= this.pooled) {
      features = this.pool.slice(0, this.pooled * D);
    } else {
      progress?.start(target, 'PatchCore: coreset');
      let idx: Int32Array;
      try {
        idx = kCenterGreedy(this.poolProjected, this.pooled, this.r, target, {
          start: this.rng.int(this.pooled),
          onProgress: (n) => progress?.update(n),
        });
      } finally {
        progress?.stop();
      }
      features = new Float32Array(idx.length * D);
      idx.forEach((j, i) => features.set(this.pool.subarray(j * D, (j + 1) * D), i * D));
    }
    return { features, size: features.length / D, dim: D, trainPatches, pooled: this.pooled, perImage: this.quota };
  }

  dispose(): void {
    this.projection?.dispose();
  }
}
