/**
 * PaDiM ('padim', Defard et al., ICPR 2020): a multivariate Gaussian of pretrained CNN features at
 * every position of a feature grid, fitted on normal images; a test patch's anomaly score is its
 * Mahalanobis distance to the Gaussian of its position.
 *
 * Features: the taps (default MobileNet v1 conv_pw_3 56x56x128, conv_pw_5 28x28x256 and conv_pw_11
 * 14x14x512) brought to one grid (default 28x28: 8 input pixels per cell) and concatenated (896
 * channels), of which a seeded random subset of `dims` (default 100) is kept. Covariances get
 * epsilon * I (0.01) before inversion.
 *
 * Model size: positions * (d + d(d+1)/2) float32 = 784 * (100 + 5050) * 4 bytes ≈ 16 MB for the
 * defaults (means plus the packed upper triangle of each inverse covariance); training holds the
 * float64 sums, about twice that. At the 56x56 grid of the largest tap it would be four times as
 * much, which is why the default grid is coarser.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerDetector, schemaFactory, type DetectorArtifacts } from '../../core/detector.js';
import { VigilError } from '../../core/errors.js';
import { bytesToFloat32, float32ToBytes, type Manifest } from '../../core/model-store.js';
import type { FitOptions, FitReport, ImageSample } from '../../core/types.js';
import { PostProcessor } from '../../scoring/postprocess.js';
import { featureConfigProperties, withResolvedBackbone, type FeatureDetectorConfig } from '../backbone/config.js';
import type { ExtractOptions, FeatureExtractor } from '../backbone/extract.js';
import { FeatureDetector, type PatchScoreBatch } from '../backbone/feature-detector.js';
import { embeddingGrid } from '../backbone/grid.js';
import { GaussianAccumulator, mahalanobis, packSymmetric, packedSize, unpackSymmetric, type PositionGaussians } from '../components/gaussian.js';
import { randomSubset } from '../components/projection.js';
import { padimEmbedding } from './embedding.js';

export const PADIM_DEFAULT_TAPS = ['conv_pw_3_relu', 'conv_pw_5_relu', 'conv_pw_11_relu'] as const;

export interface PadimConfig extends FeatureDetectorConfig {
  /** Channels kept of the concatenated taps (random subset). */
  dims: number;
  /** Covariance regularisation: Sigma + epsilon I. */
  epsilon: number;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['backbone'],
  properties: {
    ...featureConfigProperties({ taps: PADIM_DEFAULT_TAPS, gridStride: 8, standardise: false, padding: 16 }),
    dims: { type: 'integer', minimum: 1, maximum: 1024, default: 100 },
    epsilon: { type: 'number', exclusiveMinimum: 0, default: 0.01 },
  },
} as const;

/** Small state in the manifest; the Gaussians go to binary files. */
interface PadimState {
  grid: { height: number; width: number };
  /** Indices of the kept channels in the concatenated taps. */
  channels: number[];
  totalChannels: number;
  pixelThreshold: number | null;
  taps: { name: string; height: number; width: number; channels: number }[];
}

const MEAN_FILE = 'gaussian-mean.f32';
const INVERSE_FILE = 'gaussian-inverse-covariance.f32';

class PadimDetector extends FeatureDetector<PadimConfig> {
  readonly kind = 'padim';
  protected readonly scoreName = 'PaDiM max Mahalanobis distance';
  private gaussians: PositionGaussians | null = null;
  private grid: { height: number; width: number } | null = null;
  private channels: Int32Array | null = null;
  private totalChannels = 0;

  constructor(config: Readonly<PadimConfig>, postprocess?: PostProcessor, report?: FitReport | null) {
    super(config, postprocess, report);
  }

  protected get fitted(): boolean {
    return this.gaussians !== null;
  }

  /** Grid and channel subset for this backbone's taps (seeded; the same for fit and score). */
  private layout(extractor: FeatureExtractor): { grid: { height: number; width: number }; channels: Int32Array; total: number } {
    const taps = extractor.taps;
    const largest = taps.reduce((a, t) => (t.height * t.width > a.height * a.width ? t : a), taps[0]!);
    const grid = embeddingGrid(this.config, largest, this.config.gridStride || null);
    const total = taps.reduce((s, t) => s + t.channels, 0);
    if (this.config.dims > total) {
      throw new VigilError('E_CONFIG', `padim config.dims: ${this.config.dims} exceeds the ${total} channels of taps ${this.config.taps.join(', ')}`, {
        field: 'dims',
        value: this.config.dims,
      });
    }
    return { grid, channels: randomSubset(total, this.config.dims, this.config.seed), total };
  }

  /** Runs the backbone and embedding; `consume` gets (count, P, d) values per batch. */
  private async embed(
    samples: ImageSample[],
    extractor: FeatureExtractor,
    opts: ExtractOptions,
    consume: (values: Float32Array, offset: number, count: number) => void,
  ): Promise<void> {
    const { height, width } = this.grid!;
    const idx = tf.tensor1d(this.channels!, 'int32');
    try {
      await extractor.forEachBatch(samples, (taps) => padimEmbedding(taps, height, width, idx), consume, opts);
    } finally {
      idx.dispose();
    }
  }

  protected async fitModel(train: ImageSample[], extractor: FeatureExtractor, opts: FitOptions<ImageSample>): Promise<void> {
    const { grid, channels, total } = this.layout(extractor);
    this.grid = grid;
    this.channels = channels;
    this.totalChannels = total;
    this.gaussians = null;
    const acc = new GaussianAccumulator(grid.height * grid.width, channels.length);
    await this.embed(train, extractor, { progress: opts.progress, label: 'PaDiM: fitting Gaussians', signal: opts.signal }, (values, _o, count) => acc.add(values, count));
    this.gaussians = acc.finish(this.config.epsilon);
  }

  protected async scorePatches(samples: ImageSample[], extractor: FeatureExtractor, opts: ExtractOptions): Promise<PatchScoreBatch> {
    const g = this.gaussians!;
    const { height, width } = this.grid!;
    const size = g.positions * g.dims;
    const items: PatchScoreBatch['items'] = [];
    await this.embed(samples, extractor, opts, (values, _o, count) => {
      for (let i = 0; i < count; i++) items.push({ grid: mahalanobis(values.subarray(i * size, (i + 1) * size), g), score: null });
    });
    return { height, width, items };
  }

  protected async artifacts(): Promise<DetectorArtifacts> {
    const g = this.gaussians;
    if (!g || !this.grid || !this.channels || !this.extractor) throw new VigilError('E_NOT_FITTED', 'padim: cannot save an untrained model');
    const state: PadimState = {
      grid: this.grid,
      channels: Array.from(this.channels),
      totalChannels: this.totalChannels,
      pixelThreshold: this.pixelThreshold,
      taps: this.extractor.taps.map((t) => ({ ...t })),
    };
    const c = this.config;
    return {
      input: { height: c.height, width: c.width, channels: c.channels },
      preprocess: { backbone: c.backbone, taps: c.taps, scaling: c.scaling, standardise: c.standardise, padding: c.padding },
      state: state as unknown as Record<string, unknown>,
      files: {
        [MEAN_FILE]: float32ToBytes(g.mean),
        [INVERSE_FILE]: float32ToBytes(packSymmetric(g.inverse, g.dims, g.positions)),
      },
    };
  }

  /** Restores the Gaussians from a verified model folder and opens the backbone. */
  async restore(manifest: Manifest, files: Record<string, Buffer>, dir: string): Promise<void> {
    const s = manifest.state as unknown as Partial<PadimState>;
    if (!s.grid || !Array.isArray(s.channels) || typeof s.totalChannels !== 'number') {
      throw new VigilError('E_MODEL_CORRUPT', `${dir}: manifest state lacks the PaDiM grid or channel subset`, { path: dir });
    }
    const P = s.grid.height * s.grid.width;
    const d = s.channels.length;
    const file = (name: string): Buffer => {
      const f = files[name];
      if (!f) throw new VigilError('E_MODEL_CORRUPT', `${dir}: ${name} is not listed in the manifest`, { path: dir, file: name });
      return f;
    };
    const mean = bytesToFloat32(file(MEAN_FILE), `${dir}/${MEAN_FILE}`);
    const packed = bytesToFloat32(file(INVERSE_FILE), `${dir}/${INVERSE_FILE}`);
    if (mean.length !== P * d || packed.length !== P * packedSize(d)) {
      throw new VigilError('E_MODEL_CORRUPT', `${dir}: Gaussian files hold ${mean.length} / ${packed.length} values, a ${s.grid.height}x${s.grid.width} grid of ${d} dims needs ${P * d} / ${P * packedSize(d)}`, {
        path: dir,
      });
    }
    this.grid = s.grid;
    this.channels = Int32Array.from(s.channels);
    this.totalChannels = s.totalChannels;
    this.pixelThreshold = s.pixelThreshold ?? null;
    this.gaussians = { positions: P, dims: d, mean, inverse: unpackSymmetric(packed, d, P) };
    await this.attachBackbone(dir);
    const total = this.extractor!.taps.reduce((sum, t) => sum + t.channels, 0);
    if (total !== this.totalChannels) {
      throw new VigilError('E_MODEL_INCOMPATIBLE', `${dir}: the backbone's taps now give ${total} channels, the model was fitted on ${this.totalChannels}`, { path: dir });
    }
  }

  protected disposeModel(): void {
    this.gaussians = null;
  }
}

export const padimFactory = schemaFactory<ImageSample, PadimConfig>({
  kind: 'padim',
  inputKind: 'image',
  description: 'PaDiM: Gaussian per feature-grid position on pretrained CNN features, Mahalanobis distance map',
  schema,
  prepare: withResolvedBackbone,
  build: (config, postprocess, report) => new PadimDetector(config, postprocess, report),
});

registerDetector(padimFactory);
