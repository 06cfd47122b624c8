/**
 * Feature-reconstruction autoencoder ('feature-ae'), the "deep feature reconstruction" family (DFR,
 * Shi et al. 2021): the taps of a pretrained backbone (the same backbones and taps as PaDiM /
 * PatchCore) brought to one grid, concatenated, optionally cut to a seeded channel subset and
 * standardised per channel; a small convolutional autoencoder with a channel bottleneck
 * (network.ts) learns to reconstruct them on normal images. A position's anomaly score is its
 * feature reconstruction error (mean squared error over channels, in standardised units); the grid
 * becomes a full-size smoothed map as for PaDiM / PatchCore, and the image score aggregates the map
 * (max, mean or top-k mean). With `normalisePositions` (as PatchCore's vigil addition) each
 * position's error is first standardised by its mean and spread on the held-out normal images, so
 * that positions where normal images are hard to reconstruct (the borders of stretched images) do
 * not decide the image score; the held-out images' own scores use leave-one-out statistics.
 *
 * Training uses vigil's loop (Adam, seeded shuffling, early stopping on a validation loss with the
 * best weights restored). The normal images the base class holds out for the threshold are never
 * trained on; early stopping uses its own seeded `validationSplit` of the rest.
 *
 * Semi-supervised: with labelled anomalies, the loss adds `anomalyWeight` times the push-away term
 * of training/semi-supervised.ts on each anomaly's worst-reconstructed positions (the top
 * `anomalyTopk` fraction): a defect covers a small part of an image, and pushing its mean error up
 * would push its normal surroundings too. The unit of the term is the same top-k error of the
 * normal batch, its scale the normal loss (see anomalyPushLoss).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { registerDetector, schemaFactory, type DetectorArtifacts } from '../../core/detector.js';
import { VigilError } from '../../core/errors.js';
import { bytesToFloat32, float32ToBytes, type Manifest } from '../../core/model-store.js';
import type { FitOptions, FitReport, ImageSample } from '../../core/types.js';
import { trainValidationSplit } from '../../data/split.js';
import { initEngine } from '../../engine/backend.js';
import { NetworkEngines, type OnnxNetworksState } from '../../engine/onnx/index.js';
import { deserializeNetwork, serializeNetwork } from '../../engine/serialize.js';
import { aggregateMap, type MapAggregate } from '../../scoring/maps.js';
import { PostProcessor } from '../../scoring/postprocess.js';
import { anomalyPushLoss, meanTopError, topFractionErrors, withMirrorImages } from '../../training/semi-supervised.js';
import { trainLoop, type TrainLoopResult } from '../../training/train-loop.js';
import { featureConfigProperties, withResolvedBackbone, type FeatureDetectorConfig } from '../backbone/config.js';
import type { ExtractOptions, FeatureExtractor } from '../backbone/extract.js';
import { FeatureDetector, type PatchScoreBatch } from '../backbone/feature-detector.js';
import { embeddingGrid } from '../backbone/grid.js';
import { randomSubset } from '../components/projection.js';
import { patchScoresToMap } from '../components/localisation.js';
import { MIN_POSITION_IMAGES, PositionStatsAccumulator, positionStatsFiles, readPositionStats, standardiseGrid, type PositionStats, type SavedPositionStats } from '../components/position-stats.js';
import { channelStats, featureEmbedding, standardiseInPlace, type ChannelStats } from './features.js';
import { buildFeatureAe, validateFeatureAeShape, type FeatureAeShape } from './network.js';

/** MobileNet v1's stride-8 and stride-16 stages, as PatchCore (28x28 and 14x14 at 224x224). */
export const FEATURE_AE_DEFAULT_TAPS = ['conv_pw_5_relu', 'conv_pw_11_relu'] as const;

export interface FeatureAeConfig extends FeatureDetectorConfig {
  /** Channels kept of the concatenated taps (seeded random subset); 0 = all. */
  dims: number;
  hidden: number;
  bottleneck: number;
  kernelSize: 1 | 3;
  epochs: number;
  /** Images per training step. */
  trainBatchSize: number;
  learningRate: number;
  patience: number;
  aggregate: MapAggregate;
  topk: number;
  anomalyWeight: number;
  /** Fraction of a labelled anomaly's positions (its largest errors) that the push term acts on. */
  anomalyTopk: number;
  /** Also train on the labelled anomalies' mirror images (see withMirrorImages). */
  mirrorAnomalies: boolean;
  /** Standardise errors per grid position on the held-out normal images. */
  normalisePositions: boolean;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['backbone'],
  properties: {
    ...featureConfigProperties({ taps: FEATURE_AE_DEFAULT_TAPS, gridStride: 8, standardise: false, padding: 16 }),
    dims: { type: 'integer', minimum: 0, maximum: 8192, default: 160 },
    hidden: { type: 'integer', minimum: 1, maximum: 4096, default: 128 },
    bottleneck: { type: 'integer', minimum: 1, maximum: 4096, default: 32 },
    kernelSize: { enum: [1, 3], default: 3 },
    epochs: { type: 'integer', minimum: 1, maximum: 10000, default: 20 },
    trainBatchSize: { type: 'integer', minimum: 1, maximum: 1024, default: 16 },
    learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.001 },
    patience: { type: 'integer', minimum: 0, default: 4 },
    aggregate: { enum: ['mean', 'max', 'topk'], default: 'max' },
    topk: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.01 },
    anomalyWeight: { type: 'number', minimum: 0, default: 1 },
    anomalyTopk: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.05 },
    mirrorAnomalies: { type: 'boolean', default: true },
    normalisePositions: { type: 'boolean', default: true },
  },
} as const;

type Grid = { height: number; width: number };

/** Small state in the manifest; the network weights and statistics go to binary files. */
interface FeatureAeState {
  grid: Grid;
  /** Indices of the kept channels in the concatenated taps; null = all of them. */
  channels: number[] | null;
  totalChannels: number;
  pixelThreshold: number | null;
  taps: { name: string; height: number; width: number; channels: number }[];
  topology: unknown;
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** The network exported to ONNX (net.onnx); absent when it scores on TF.js. */
  onnx?: OnnxNetworksState;
  /** Held-out images the per-position statistics rest on; 0 when errors are not standardised. */
  positionImages: number;
}

const WEIGHTS_FILE = 'feature-ae.bin';
const MEAN_FILE = 'feature-mean.f32';
const STD_FILE = 'feature-std.f32';

/** Training features: `count` images of (P, d) standardised values. */
interface FeatureSet {
  values: Float32Array;
  count: number;
}

class FeatureAeDetector extends FeatureDetector<FeatureAeConfig> {
  readonly kind = 'feature-ae';
  protected get scoreName(): string {
    const c = this.config;
    const how = c.aggregate === 'topk' ? `mean of the top ${(c.topk * 100).toFixed(1)}% of the` : c.aggregate;
    return `feature-ae ${how} feature reconstruction error${this.positions ? ' (standardised per position)' : ''}`;
  }
  private net: tfl.LayersModel | null = null;
  private engines: NetworkEngines<'net'> | null = null;
  private grid: Grid | null = null;
  private channels: Int32Array | null = null;
  private totalChannels = 0;
  private stats: ChannelStats | null = null;
  private loop: TrainLoopResult | null = null;
  private positions: SavedPositionStats | null = null;

  constructor(config: Readonly<FeatureAeConfig>, postprocess?: PostProcessor, report?: FitReport | null) {
    super(config, postprocess, report);
  }

  protected get fitted(): boolean {
    return this.net !== null && this.stats !== null;
  }

  private get dims(): number {
    return this.channels?.length ?? this.totalChannels;
  }

  private shape(seed: number): FeatureAeShape {
    const c = this.config;
    return { gridHeight: this.grid!.height, gridWidth: this.grid!.width, dims: this.dims, hidden: c.hidden, bottleneck: c.bottleneck, kernelSize: c.kernelSize, seed };
  }

  /** Grid and channel subset for this backbone's taps (seeded: the same at fit and score). */
  private layout(extractor: FeatureExtractor): void {
    const c = this.config;
    const taps = extractor.taps;
    this.grid = embeddingGrid(c, taps[0]!, c.gridStride || null);
    this.totalChannels = taps.reduce((s, t) => s + t.channels, 0);
    if (c.dims > this.totalChannels) {
      throw new VigilError('E_CONFIG', `feature-ae config.dims: ${c.dims} exceeds the ${this.totalChannels} channels of taps ${c.taps.join(', ')} (use at most ${this.totalChannels}, or 0 for all)`, {
        field: 'dims',
        value: c.dims,
      });
    }
    this.channels = c.dims === 0 || c.dims === this.totalChannels ? null : randomSubset(this.totalChannels, c.dims, c.seed);
  }

  /** Runs the backbone and the embedding; `consume` gets (count, P, d) raw features per batch. */
  private async embed(samples: readonly ImageSample[], extractor: FeatureExtractor, opts: ExtractOptions, consume: (values: Float32Array, offset: number, count: number) => void | Promise<void>, post?: (x: tf.Tensor4D) => tf.Tensor): Promise<void> {
    const { height, width } = this.grid!;
    const idx = this.channels ? tf.tensor1d(this.channels, 'int32') : null;
    try {
      await extractor.forEachBatch(
        samples,
        (taps) => {
          const x = featureEmbedding(taps, height, width, idx);
          return post ? post(x) : x;
        },
        consume,
        opts,
      );
    } finally {
      idx?.dispose();
    }
  }

  /** Raw features of `samples`, one (P, d) block per image. */
  private async features(samples: readonly ImageSample[], extractor: FeatureExtractor, opts: ExtractOptions): Promise<FeatureSet> {
    const size = this.grid!.height * this.grid!.width * this.dims;
    const values = new Float32Array(samples.length * size);
    await this.embed(samples, extractor, opts, (v, offset) => values.set(v, offset * size));
    return { values, count: samples.length };
  }

  private batch(set: FeatureSet, indices: number[]): tf.Tensor4D {
    const { height, width } = this.grid!;
    const size = height * width * this.dims;
    const buf = new Float32Array(indices.length * size);
    indices.forEach((k, i) => buf.set(set.values.subarray(k * size, (k + 1) * size), i * size));
    return tf.tensor4d(buf, [indices.length, height, width, this.dims]);
  }

  /** (B, h, w, d) standardised features → (B, h, w) squared reconstruction error, mean over channels. */
  private errorGrid(x: tf.Tensor4D, training: boolean): tf.Tensor3D {
    const recon = this.net!.apply(x, { training }) as tf.Tensor4D;
    return tf.mean(tf.squaredDifference(x, recon), 3) as tf.Tensor3D;
  }

  protected async fitModel(train: ImageSample[], extractor: FeatureExtractor, opts: FitOptions<ImageSample>): Promise<void> {
    await initEngine();
    const c = this.config;
    const seed = opts.seed ?? c.seed;
    this.disposeModel();
    this.layout(extractor);
    validateFeatureAeShape(this.shape(seed));
    // Early stopping gets its own held-out images; the base class's threshold images stay unseen.
    const inner = trainValidationSplit(train, c.patience > 0 && train.length > 1 ? c.validationSplit : 0, `${seed}:feature-ae`);
    const label = (what: string): ExtractOptions => ({ progress: opts.progress, label: `feature-ae: ${what}`, signal: opts.signal });
    const normal = await this.features(inner.train, extractor, label('training features'));
    const val = await this.features(inner.validation, extractor, label('validation features'));
    const anomalies = c.mirrorAnomalies ? withMirrorImages(opts.anomalies ?? []) : (opts.anomalies ?? []);
    const anom = c.anomalyWeight > 0 && anomalies.length > 0 ? await this.features(anomalies, extractor, label('labelled anomaly features')) : { values: new Float32Array(0), count: 0 };
    const stats = channelStats(normal.values, this.dims);
    for (const set of [normal, val, anom]) standardiseInPlace(set.values, stats);

    const net = buildFeatureAe(this.shape(seed));
    const variables = net.trainableWeights.map((w) => w.read() as tf.Variable);
    this.net = net;
    const P = this.grid!.height * this.grid!.width;
    try {
      this.loop = await trainLoop({
        epochs: c.epochs,
        batchSize: c.trainBatchSize,
        learningRate: c.learningRate,
        patience: val.count > 0 ? c.patience : 0,
        seed,
        trainCount: normal.count,
        valCount: val.count,
        variables,
        progress: opts.progress,
        signal: opts.signal,
        trainLoss: (idx, step) => {
          const errors = this.errorGrid(this.batch(normal, idx), true);
          const normalLoss = tf.mean(errors) as tf.Scalar;
          if (anom.count === 0) return normalLoss;
          // A few labelled anomalies per step, cycling through them.
          const k = Math.min(anom.count, Math.max(1, Math.round(idx.length / 4)));
          const aIdx = Array.from({ length: k }, (_, i) => (step * k + i) % anom.count);
          const aErr = tf.reshape(this.errorGrid(this.batch(anom, aIdx), true), [k, P]) as tf.Tensor2D;
          const worst = topFractionErrors(aErr, c.anomalyTopk);
          const tau = meanTopError(errors.dataSync() as Float32Array, P, c.anomalyTopk);
          return tf.add(normalLoss, tf.mul(anomalyPushLoss(worst, tau, normalLoss.dataSync()[0]!), c.anomalyWeight)) as tf.Scalar;
        },
        valLoss: (idx) => tf.mean(this.errorGrid(this.batch(val, idx), false)) as tf.Scalar,
      });
    } catch (e) {
      this.disposeModel();
      throw e;
    }
    this.stats = stats;
    // Score on the exported network from now on (ONNX Runtime, TF.js fallback), as the reload will.
    this.engines = await NetworkEngines.export({ net });
  }

  protected override async train(samples: ImageSample[], opts: FitOptions<ImageSample>): Promise<FitReport> {
    const report = await super.train(samples, opts);
    const loop = this.loop!;
    return { ...report, epochs: loop.epochs, bestEpoch: loop.bestEpoch, stoppedEarly: loop.stoppedEarly, history: loop.history };
  }

  protected scorePatches(samples: ImageSample[], extractor: FeatureExtractor, opts: ExtractOptions): Promise<PatchScoreBatch> {
    const stats = this.positions?.stats ?? null;
    return this.errorGrids(samples, extractor, opts, () => stats);
  }

  /**
   * Learns the per-position statistics from the held-out normal images (first pass: raw errors),
   * then scores each of them with statistics that leave it out.
   */
  protected override async calibrate(samples: ImageSample[], extractor: FeatureExtractor, opts: ExtractOptions, heldOut: boolean): Promise<PatchScoreBatch> {
    this.positions = null;
    if (!this.config.normalisePositions || !heldOut || samples.length < MIN_POSITION_IMAGES) return this.scorePatches(samples, extractor, opts);
    const raw = await this.errorGrids(samples, extractor, { ...opts, label: 'feature-ae: position statistics' }, () => null);
    const acc = new PositionStatsAccumulator(raw.height * raw.width);
    for (const item of raw.items) acc.add(item.grid);
    this.positions = { stats: acc.stats(), images: samples.length };
    return this.rescore(raw, (i) => acc.stats(raw.items[i]!.grid));
  }

  /** Patch grids standardised with `statsFor(i)`, with their image scores. */
  private rescore(raw: PatchScoreBatch, statsFor: (i: number) => PositionStats | null): PatchScoreBatch {
    const c = this.config;
    const { height, width } = raw;
    const items = raw.items.map((item, i) => {
      const stats = statsFor(i);
      const grid = stats ? standardiseGrid(item.grid, stats) : item.grid;
      // The base class scores by the map's maximum; other aggregates need the same map here.
      const score = c.aggregate === 'max' ? null : aggregateMap(patchScoresToMap(grid, height, width, c.height, c.width, c.blurSigma).values, c.aggregate, c.topk);
      return { grid, score };
    });
    return { height, width, items };
  }

  /** Reconstruction-error grids of `samples`, standardised per position with `statsFor(i)` when it gives statistics. */
  private async errorGrids(samples: ImageSample[], extractor: FeatureExtractor, opts: ExtractOptions, statsFor: (i: number) => PositionStats | null): Promise<PatchScoreBatch> {
    const { height, width } = this.grid!;
    const P = height * width;
    if (this.engines?.allOnnxRuntime) {
      // Per backbone batch: raw features → standardised → the network on ORT → mean squared error over channels.
      const d = this.dims;
      const engine = this.engines.engine('net');
      const items: PatchScoreBatch['items'] = [];
      await this.embed(samples, extractor, opts, async (values, _o, count) => {
        const x = values.slice();
        standardiseInPlace(x, this.stats!);
        const recon = await engine.run(x, [count, height, width, d]);
        for (let i = 0; i < count; i++) {
          const grid = new Float32Array(P);
          for (let p = 0; p < P; p++) {
            let sum = 0;
            for (let k = (i * P + p) * d, end = k + d; k < end; k++) sum += (x[k]! - recon[k]!) ** 2;
            grid[p] = sum / d;
          }
          items.push({ grid, score: null });
        }
      });
      return this.rescore({ height, width, items }, statsFor);
    }
    const mean = tf.tensor1d(this.stats!.mean);
    const std = tf.tensor1d(this.stats!.std);
    const items: PatchScoreBatch['items'] = [];
    try {
      await this.embed(
        samples,
        extractor,
        opts,
        (values, _o, count) => {
          for (let i = 0; i < count; i++) items.push({ grid: values.slice(i * P, (i + 1) * P), score: null });
        },
        (x) => this.errorGrid(tf.div(tf.sub(x, mean), std) as tf.Tensor4D, false),
      );
    } finally {
      mean.dispose();
      std.dispose();
    }
    return this.rescore({ height, width, items }, statsFor);
  }

  protected async artifacts(): Promise<DetectorArtifacts> {
    if (!this.net || !this.stats || !this.grid || !this.extractor) throw new VigilError('E_NOT_FITTED', 'feature-ae: cannot save an untrained model');
    const net = await serializeNetwork(this.net);
    const state: FeatureAeState = {
      grid: this.grid,
      channels: this.channels ? Array.from(this.channels) : null,
      totalChannels: this.totalChannels,
      pixelThreshold: this.pixelThreshold,
      taps: this.extractor.taps.map((t) => ({ ...t })),
      topology: net.topology,
      weightSpecs: net.weightSpecs,
      positionImages: this.positions?.images ?? 0,
    };
    const onnx = this.engines?.artifacts();
    if (onnx) state.onnx = onnx.state;
    const c = this.config;
    const files = { [WEIGHTS_FILE]: net.weights, [MEAN_FILE]: float32ToBytes(this.stats.mean), [STD_FILE]: float32ToBytes(this.stats.std), ...positionStatsFiles(this.positions), ...onnx?.files };
    return {
      input: { height: c.height, width: c.width, channels: c.channels },
      preprocess: { backbone: c.backbone, taps: c.taps, scaling: c.scaling, standardise: c.standardise, padding: c.padding },
      state: state as unknown as Record<string, unknown>,
      files,
    };
  }

  /** Restores the network and statistics from a verified model folder and opens the backbone. */
  async restore(manifest: Manifest, files: Record<string, Buffer>, dir: string): Promise<void> {
    await initEngine();
    const s = manifest.state as unknown as Partial<FeatureAeState>;
    if (!s.grid || typeof s.totalChannels !== 'number' || !s.topology || !Array.isArray(s.weightSpecs) || (s.channels !== null && !Array.isArray(s.channels))) {
      throw new VigilError('E_MODEL_CORRUPT', `${dir}: manifest state lacks the feature-ae grid, channels or network topology`, { path: dir });
    }
    const file = (name: string): Buffer => {
      const f = files[name];
      if (!f) throw new VigilError('E_MODEL_CORRUPT', `${dir}: ${name} is not listed in the manifest`, { path: dir, file: name });
      return f;
    };
    const d = s.channels ? s.channels.length : s.totalChannels;
    const mean = bytesToFloat32(file(MEAN_FILE), `${dir}/${MEAN_FILE}`);
    const std = bytesToFloat32(file(STD_FILE), `${dir}/${STD_FILE}`);
    if (mean.length !== d || std.length !== d) {
      throw new VigilError('E_MODEL_CORRUPT', `${dir}: feature statistics hold ${mean.length} / ${std.length} values, ${d} channels need ${d}`, { path: dir });
    }
    this.net = await deserializeNetwork({ topology: s.topology, weightSpecs: s.weightSpecs, weights: file(WEIGHTS_FILE) }, `${dir}/${WEIGHTS_FILE}`);
    this.engines = await NetworkEngines.restore(s.onnx, files, { net: this.net }, dir);
    this.grid = s.grid;
    this.channels = s.channels ? Int32Array.from(s.channels) : null;
    this.totalChannels = s.totalChannels;
    this.stats = { mean, std };
    this.pixelThreshold = s.pixelThreshold ?? null;
    this.positions = readPositionStats(files, s.grid, s.positionImages ?? 0, dir);
    await this.attachBackbone(dir);
    const total = this.extractor!.taps.reduce((sum, t) => sum + t.channels, 0);
    if (total !== this.totalChannels) {
      throw new VigilError('E_MODEL_INCOMPATIBLE', `${dir}: the backbone's taps now give ${total} channels, the model was trained on ${this.totalChannels}`, { path: dir });
    }
  }

  protected disposeModel(): void {
    this.engines?.dispose();
    this.engines = null;
    this.net?.dispose();
    this.net = null;
    this.stats = null;
    this.positions = null;
  }
}

export const featureAeFactory = schemaFactory<ImageSample, FeatureAeConfig>({
  kind: 'feature-ae',
  inputKind: 'image',
  description: 'feature-ae: convolutional autoencoder reconstructing pretrained CNN features, feature reconstruction error map',
  schema,
  prepare: withResolvedBackbone,
  build: (config, postprocess, report) => {
    // With dims = 0 the channel count is known only once the backbone is open (checked in fit).
    if (config.dims > 0) validateFeatureAeShape({ gridHeight: 1, gridWidth: 1, dims: config.dims, hidden: config.hidden, bottleneck: config.bottleneck, kernelSize: config.kernelSize, seed: 0 });
    return new FeatureAeDetector(config, postprocess, report);
  },
});

registerDetector(featureAeFactory);
