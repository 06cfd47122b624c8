/**
 * PatchCore ('patchcore', Roth et al., CVPR 2022): a memory bank of locally aware patch features of
 * pretrained CNN taps from normal images, subsampled by greedy k-center coreset; a test patch's
 * anomaly score is its distance to the nearest bank vector, the image score the largest patch
 * score reweighted by the paper's Eq. 7.
 *
 * Defaults (MobileNet v1): taps conv_pw_5 (28x28x256) and conv_pw_11 (14x14x512), the stride-8 and
 * stride-16 stages (the analogues of the paper's WideResNet-50 layer2 and layer3), each averaged
 * over 3x3 neighbourhoods, upsampled to the 28x28 grid and concatenated: 784 patches of 768 dims per
 * 224x224 image, i.e. 2.4 MB of features per training image before reduction. The bank is
 * min(maxBank = 16384, 10% of all training patches) vectors chosen by k-center on a 128-dim random
 * projection from a pool of at most 65536 patches (see memory-bank.ts), so the model file is at
 * most 16384 * 768 * 4 bytes ≈ 50 MB whatever the training set size, and scoring one image costs
 * 784 x 16384 x 768 multiply-adds (about 1 s on one wasm thread). On the magnetic tiles a bank of
 * 16384 gave image AUROC 95.6 where 4096 gave 93.0 (bench/results/magnetic-tile.md); `maxBank`
 * trades accuracy for memory and speed linearly. Taps run on the image with a 16-pixel
 * reflected border (config.padding) so that border cells do not see the convolutions' zero padding.
 *
 * Nearest-neighbour search is exact, by matrix multiplication on ONNX Runtime (components/nearest.ts).
 *
 * vigil addition (`normalisePositions`, on by default; off = the paper's scores): patch distances
 * are standardised per grid position with their mean and spread on the held-out normal images
 * (components/position-stats.ts), so that positions where normal images vary most (the borders of
 * stretched images) do not decide the image score; Eq. 7 then applies to these z-scores. The
 * held-out images' own scores use leave-one-out statistics, so the threshold is not biased. With
 * fewer than 8 held-out images the raw distances are kept.
 */
import { registerDetector, schemaFactory, type DetectorArtifacts } from '../../core/detector.js';
import { VigilError } from '../../core/errors.js';
import { bytesToFloat32, float32ToBytes, type Manifest } from '../../core/model-store.js';
import type { FitOptions, FitReport, ImageSample } from '../../core/types.js';
import { PostProcessor } from '../../scoring/postprocess.js';
import { featureConfigProperties, withResolvedBackbone, type FeatureDetectorConfig } from '../backbone/config.js';
import type { ExtractOptions, FeatureExtractor } from '../backbone/extract.js';
import { FeatureDetector, type PatchScoreBatch } from '../backbone/feature-detector.js';
import { embeddingGrid } from '../backbone/grid.js';
import { NearestNeighbourIndex } from '../components/nearest.js';
import { MIN_POSITION_IMAGES, PositionStatsAccumulator, positionStatsFiles, readPositionStats, standardiseGrid, type PositionStats, type SavedPositionStats } from '../components/position-stats.js';
import { locallyAwareEmbedding } from './embedding.js';
import { MemoryBankBuilder } from './memory-bank.js';
import { reweightedImageScore } from './score.js';

export const PATCHCORE_DEFAULT_TAPS = ['conv_pw_5_relu', 'conv_pw_11_relu'] as const;

export interface PatchcoreConfig extends FeatureDetectorConfig {
  /** Neighbourhood p of the local average pooling (1 = none). */
  neighbourhood: number;
  /** Bank size as a fraction of all training patches. */
  coresetRatio: number;
  /** Upper bound on the bank size (vectors). */
  maxBank: number;
  /** Upper bound on the patches pooled before the coreset search. */
  maxPool: number;
  /** Dims of the random projection for the coreset search; 0 = search on the features. */
  projectionDims: number;
  /** b: bank neighbours in the image-score reweighting (1 = plain maximum). */
  neighbours: number;
  /** Standardise patch scores per grid position on held-out normal images (vigil addition). */
  normalisePositions: boolean;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['backbone'],
  properties: {
    ...featureConfigProperties({ taps: PATCHCORE_DEFAULT_TAPS, gridStride: 0, standardise: false, padding: 16 }),
    neighbourhood: { type: 'integer', minimum: 1, maximum: 9, default: 3 },
    coresetRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.1 },
    maxBank: { type: 'integer', minimum: 1, maximum: 1048576, default: 16384 },
    maxPool: { type: 'integer', minimum: 1, maximum: 4194304, default: 65536 },
    projectionDims: { type: 'integer', minimum: 0, maximum: 4096, default: 128 },
    neighbours: { type: 'integer', minimum: 1, maximum: 64, default: 9 },
    normalisePositions: { type: 'boolean', default: true },
  },
} as const;

interface PatchcoreState {
  grid: { height: number; width: number };
  dim: number;
  bankSize: number;
  /** Training patches seen, patches pooled before the coreset, patches kept per image. */
  trainPatches: number;
  pooled: number;
  perImage: number;
  pixelThreshold: number | null;
  taps: { name: string; height: number; width: number; channels: number }[];
  /** Held-out images the per-position statistics rest on; 0 when patch scores are raw distances. */
  positionImages: number;
}

const BANK_FILE = 'memory-bank.f32';

class PatchcoreDetector extends FeatureDetector<PatchcoreConfig> {
  readonly kind = 'patchcore';
  protected get scoreName(): string {
    return this.positions ? 'PatchCore reweighted patch z-score (distance standardised per position)' : 'PatchCore reweighted nearest-neighbour distance';
  }
  private index: NearestNeighbourIndex | null = null;
  private grid: { height: number; width: number } | null = null;
  private bankInfo: Omit<PatchcoreState, 'grid' | 'pixelThreshold' | 'taps' | 'positionImages'> | null = null;
  private positions: SavedPositionStats | null = null;

  constructor(config: Readonly<PatchcoreConfig>, postprocess?: PostProcessor, report?: FitReport | null) {
    super(config, postprocess, report);
  }

  protected get fitted(): boolean {
    return this.index !== null;
  }

  private embed(
    samples: ImageSample[],
    extractor: FeatureExtractor,
    opts: ExtractOptions,
    consume: (values: Float32Array, offset: number, count: number) => void | Promise<void>,
  ): Promise<void> {
    const { height, width } = this.grid!;
    const p = this.config.neighbourhood;
    return extractor.forEachBatch(samples, (taps) => locallyAwareEmbedding(taps, height, width, p), consume, opts);
  }

  protected async fitModel(train: ImageSample[], extractor: FeatureExtractor, opts: FitOptions<ImageSample>): Promise<void> {
    const c = this.config;
    this.disposeModel();
    this.grid = embeddingGrid(c, extractor.taps[0]!, c.gridStride || null);
    const dim = extractor.taps.reduce((s, t) => s + t.channels, 0);
    const P = this.grid.height * this.grid.width;
    const builder = new MemoryBankBuilder({
      dim,
      patchesPerImage: P,
      images: train.length,
      coresetRatio: c.coresetRatio,
      maxBank: c.maxBank,
      maxPool: c.maxPool,
      projectionDims: c.projectionDims,
      seed: opts.seed ?? c.seed,
    });
    try {
      await this.embed(train, extractor, { progress: opts.progress, label: 'PatchCore: patch features', signal: opts.signal }, (values, _o, count) =>
        builder.add(values, count),
      );
      const bank = builder.finish(opts.progress);
      this.index = new NearestNeighbourIndex(bank.features, dim);
      this.bankInfo = { dim, bankSize: bank.size, trainPatches: bank.trainPatches, pooled: bank.pooled, perImage: bank.perImage };
    } finally {
      builder.dispose();
    }
  }

  protected scorePatches(samples: ImageSample[], extractor: FeatureExtractor, opts: ExtractOptions): Promise<PatchScoreBatch> {
    const stats = this.positions?.stats ?? null;
    return this.patchScores(samples, extractor, opts, () => stats);
  }

  /**
   * Nearest-neighbour distance of every patch, standardised with `statsFor(i)` when it gives
   * statistics, and the Eq. 7 image score. Grids are (h * w).
   */
  private async patchScores(
    samples: ImageSample[],
    extractor: FeatureExtractor,
    opts: ExtractOptions,
    statsFor: (i: number) => PositionStats | null,
  ): Promise<PatchScoreBatch> {
    const index = this.index!;
    const { height, width } = this.grid!;
    const P = height * width;
    const D = index.dim;
    const items: PatchScoreBatch['items'] = [];
    await this.embed(samples, extractor, opts, async (values, offset, count) => {
      const nn = await index.searchAsync(values, count * P);
      for (let i = 0; i < count; i++) {
        const distances = nn.distances.slice(i * P, (i + 1) * P);
        const stats = statsFor(offset + i);
        const grid = stats ? standardiseGrid(distances, stats) : distances;
        const nearest = nn.indices.subarray(i * P, (i + 1) * P);
        const score = reweightedImageScore(grid, nearest, values.subarray(i * P * D, (i + 1) * P * D), index, this.config.neighbours);
        items.push({ grid, score });
      }
    });
    return { height, width, items };
  }

  /**
   * Learns the per-position statistics from the held-out normal images (first pass: raw
   * distances), then scores each of them with statistics that leave it out (second pass).
   */
  protected override async calibrate(samples: ImageSample[], extractor: FeatureExtractor, opts: ExtractOptions, heldOut: boolean): Promise<PatchScoreBatch> {
    this.positions = null;
    if (!this.config.normalisePositions || !heldOut || samples.length < MIN_POSITION_IMAGES) return this.scorePatches(samples, extractor, opts);
    const raw = await this.patchScores(samples, extractor, { ...opts, label: 'PatchCore: position statistics' }, () => null);
    const acc = new PositionStatsAccumulator(raw.height * raw.width);
    for (const item of raw.items) acc.add(item.grid);
    this.positions = { stats: acc.stats(), images: samples.length };
    return this.patchScores(samples, extractor, opts, (i) => acc.stats(raw.items[i]!.grid));
  }

  protected async artifacts(): Promise<DetectorArtifacts> {
    if (!this.index || !this.grid || !this.bankInfo || !this.extractor) throw new VigilError('E_NOT_FITTED', 'patchcore: cannot save an untrained model');
    const state: PatchcoreState = {
      grid: this.grid,
      ...this.bankInfo,
      pixelThreshold: this.pixelThreshold,
      taps: this.extractor.taps.map((t) => ({ ...t })),
      positionImages: this.positions?.images ?? 0,
    };
    const c = this.config;
    const files = { [BANK_FILE]: float32ToBytes(this.index.vectors), ...positionStatsFiles(this.positions) };
    return {
      input: { height: c.height, width: c.width, channels: c.channels },
      preprocess: { backbone: c.backbone, taps: c.taps, scaling: c.scaling, standardise: c.standardise, padding: c.padding },
      state: state as unknown as Record<string, unknown>,
      files,
    };
  }

  /** Restores the memory bank from a verified model folder and opens the backbone. */
  async restore(manifest: Manifest, files: Record<string, Buffer>, dir: string): Promise<void> {
    const s = manifest.state as unknown as Partial<PatchcoreState>;
    if (!s.grid || typeof s.dim !== 'number' || typeof s.bankSize !== 'number') {
      throw new VigilError('E_MODEL_CORRUPT', `${dir}: manifest state lacks the PatchCore grid or bank size`, { path: dir });
    }
    const raw = files[BANK_FILE];
    if (!raw) throw new VigilError('E_MODEL_CORRUPT', `${dir}: ${BANK_FILE} is not listed in the manifest`, { path: dir, file: BANK_FILE });
    const bank = bytesToFloat32(raw, `${dir}/${BANK_FILE}`);
    if (bank.length !== s.bankSize * s.dim || s.bankSize < 1) {
      throw new VigilError('E_MODEL_CORRUPT', `${dir}/${BANK_FILE}: ${bank.length} values, a bank of ${s.bankSize} x ${s.dim} needs ${s.bankSize * s.dim}`, { path: dir });
    }
    await this.attachBackbone(dir);
    const dim = this.extractor!.taps.reduce((sum, t) => sum + t.channels, 0);
    if (dim !== s.dim) {
      throw new VigilError('E_MODEL_INCOMPATIBLE', `${dir}: the backbone's taps now give ${dim} channels, the memory bank has ${s.dim}`, { path: dir });
    }
    this.grid = s.grid;
    this.bankInfo = { dim: s.dim, bankSize: s.bankSize, trainPatches: s.trainPatches ?? 0, pooled: s.pooled ?? 0, perImage: s.perImage ?? 0 };
    this.pixelThreshold = s.pixelThreshold ?? null;
    this.positions = readPositionStats(files, s.grid, s.positionImages ?? 0, dir);
    this.index = new NearestNeighbourIndex(bank, s.dim);
  }

  protected disposeModel(): void {
    this.index?.dispose();
    this.index = null;
    this.positions = null;
  }
}

export const patchcoreFactory = schemaFactory<ImageSample, PatchcoreConfig>({
  kind: 'patchcore',
  inputKind: 'image',
  description: 'PatchCore: coreset memory bank of pretrained CNN patch features, nearest-neighbour distance map',
  schema,
  prepare: withResolvedBackbone,
  build: (config, postprocess, report) => new PatchcoreDetector(config, postprocess, report),
});

registerDetector(patchcoreFactory);
