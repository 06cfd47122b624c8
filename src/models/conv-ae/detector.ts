/**
 * 2D convolutional autoencoder ('conv-ae') and variational autoencoder ('conv-vae') detectors.
 *
 * Trained on normal images to reconstruct them; an image's anomaly map is the per-pixel
 * reconstruction error (MSE, L1 or 1 - SSIM), its score an aggregate of the map (mean, max or the
 * mean of the top-k% pixels), plus the KL term for the VAE when asked. With labelled anomalies the
 * loss also pushes their reconstruction error up (see training/semi-supervised.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BaseDetector, registerDetector, schemaFactory, type DetectorArtifacts, type DetectorFactory } from '../../core/detector.js';
import { thresholdSchema } from '../../core/config.js';
import { VigilError } from '../../core/errors.js';
import type { Manifest } from '../../core/model-store.js';
import type { FitOptions, FitReport, ImageSample, ScoreResult } from '../../core/types.js';
import { trainValidationSplit } from '../../data/split.js';
import { initEngine } from '../../engine/backend.js';
import { NetworkEngines } from '../../engine/onnx/index.js';
import { aggregateMap, gaussianBlur, type MapAggregate } from '../../scoring/maps.js';
import { PostProcessor, type ThresholdSpec } from '../../scoring/postprocess.js';
import { pixelErrorMap, RECONSTRUCTION_LOSSES, type ReconstructionLoss } from '../../scoring/reconstruction.js';
import { quantileThreshold } from '../../thresholds/index.js';
import { trainLoop } from '../../training/train-loop.js';
import { meanTopError, topFractionErrors, withAnomalyPush, withMirrorImages } from '../../training/semi-supervised.js';
import { boxesFromMap } from '../../scoring/boxes.js';
import { disposeEncoderDecoder, gaussianHead, restoreEncoderDecoder, saveEncoderDecoder, type EncoderDecoderState } from '../components/encoder-decoder.js';
import { buildAutoencoder, validateNetworkShape, type AutoencoderNetworks, type NetworkShape, type WeightInit } from './network.js';

export interface ConvAeConfig {
  /** Input (height, width); images are resized to it when loaded. */
  height: number;
  width: number;
  channels: 1 | 3;
  depth: number;
  filters: number;
  latent: number;
  /** Weight initialisation: Glorot uniform (Keras), or PyTorch's default (uniform ±1/√fan-in, biases too). */
  init: WeightInit;
  loss: ReconstructionLoss;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  validationSplit: number;
  seed: number;
  aggregate: MapAggregate;
  topk: number;
  /** Gaussian smoothing (pixels) of anomaly maps before aggregation; 0 = none. */
  blurSigma: number;
  /** VAE only: weight of the KL term in the loss (beta). */
  klWeight: number;
  /** VAE only: add klWeight * KL (per pixel) to the image score. */
  scoreKl: boolean;
  /** Semi-supervised: weight of the term that pushes labelled anomalies' error up. */
  anomalyWeight: number;
  /** Semi-supervised: also train on the labelled anomalies' mirror images (see withMirrorImages). */
  mirrorAnomalies: boolean;
  threshold: ThresholdSpec;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    height: { type: 'integer', minimum: 4, maximum: 1024, default: 64 },
    width: { type: 'integer', minimum: 4, maximum: 1024, default: 64 },
    channels: { enum: [1, 3], default: 1 },
    depth: { type: 'integer', minimum: 1, maximum: 6, default: 3 },
    filters: { type: 'integer', minimum: 1, maximum: 512, default: 32 },
    latent: { type: 'integer', minimum: 1, maximum: 4096, default: 64 },
    init: { enum: ['glorot', 'torch'], default: 'glorot' },
    loss: { enum: RECONSTRUCTION_LOSSES, default: 'mse' },
    epochs: { type: 'integer', minimum: 1, maximum: 10000, default: 20 },
    batchSize: { type: 'integer', minimum: 1, maximum: 4096, default: 64 },
    learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.001 },
    patience: { type: 'integer', minimum: 0, default: 5 },
    validationSplit: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.1 },
    seed: { type: 'integer', default: 0 },
    aggregate: { enum: ['mean', 'max', 'topk'], default: 'mean' },
    topk: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.01 },
    blurSigma: { type: 'number', minimum: 0, maximum: 32, default: 0 },
    klWeight: { type: 'number', minimum: 0, default: 1 },
    scoreKl: { type: 'boolean', default: false },
    anomalyWeight: { type: 'number', minimum: 0, default: 1 },
    mirrorAnomalies: { type: 'boolean', default: true },
    threshold: thresholdSchema,
  },
} as const;

interface Normalisation {
  mean: number[];
  std: number[];
}

interface ConvAeState extends EncoderDecoderState {
  normalisation: Normalisation;
  /** Pixel-level threshold (99.9th percentile of validation map values) used for boxes. */
  pixelThreshold: number | null;
}

const SCORE_BATCH = 128;

class ConvAutoencoderDetector extends BaseDetector<ImageSample, ConvAeConfig> {
  readonly inputKind = 'image' as const;
  private nets: AutoencoderNetworks | null = null;
  /** The networks' forward passes for scoring: ONNX Runtime where the export loads, TF.js otherwise. */
  private engines: NetworkEngines<'encoder' | 'decoder'> | null = null;
  private norm: Normalisation | null = null;
  private pixelThreshold: number | null = null;

  constructor(
    readonly kind: 'conv-ae' | 'conv-vae',
    config: Readonly<ConvAeConfig>,
    postprocess?: PostProcessor,
    report?: FitReport | null,
  ) {
    super(config, postprocess, report);
    validateNetworkShape(this.shape);
  }

  private get variational(): boolean {
    return this.kind === 'conv-vae';
  }

  private get shape(): NetworkShape {
    const c = this.config;
    return { height: c.height, width: c.width, channels: c.channels, depth: c.depth, filters: c.filters, latent: c.latent, init: c.init, variational: this.variational, seed: c.seed };
  }

  /** Packs samples into one (N, H, W, C) buffer, checking each one's shape and values. */
  private pack(samples: ImageSample[]): Float32Array {
    const { height, width, channels } = this.config;
    const size = height * width * channels;
    const out = new Float32Array(samples.length * size);
    samples.forEach((s, i) => {
      const im = s.image;
      if (im.height !== height || im.width !== width || im.channels !== channels) {
        throw new VigilError('E_SHAPE', `${s.source}: image is ${im.height}x${im.width}x${im.channels}, the model expects ${height}x${width}x${channels}`, {
          file: s.source,
        });
      }
      for (let j = 0; j < size; j++) {
        const v = im.data[j]!;
        if (!Number.isFinite(v)) throw new VigilError('E_VALUE', `${s.source}: pixel value ${j} is ${v}`, { file: s.source });
      }
      out.set(im.data.subarray(0, size), i * size);
    });
    return out;
  }

  private batchTensor(packed: Float32Array, indices: number[]): tf.Tensor4D {
    const { height, width, channels } = this.config;
    const size = height * width * channels;
    const buf = new Float32Array(indices.length * size);
    indices.forEach((idx, i) => buf.set(packed.subarray(idx * size, (idx + 1) * size), i * size));
    return tf.tensor4d(buf, [indices.length, height, width, channels]);
  }

  private standardise(x: tf.Tensor4D): tf.Tensor4D {
    const n = this.norm!;
    return tf.div(tf.sub(x, tf.tensor1d(n.mean)), tf.tensor1d(n.std));
  }

  /**
   * Forward pass. Returns the reconstruction and, for the VAE, the per-sample KL divergence.
   * `sampleSeed` draws z = mu + sigma * eps (training); without it the VAE decodes its mean.
   */
  private forward(x: tf.Tensor4D, training: boolean, sampleSeed?: number): { recon: tf.Tensor4D; kl: tf.Tensor1D | null } {
    const { encoder, decoder } = this.nets!;
    const h = encoder.apply(this.standardise(x), { training }) as tf.Tensor2D;
    if (!this.variational) return { recon: decoder.apply(h, { training }) as tf.Tensor4D, kl: null };
    const L = this.config.latent;
    const mu = tf.slice(h, [0, 0], [-1, L]);
    const logVar = tf.clipByValue(tf.slice(h, [0, L], [-1, L]), -10, 10);
    let z: tf.Tensor2D = mu;
    if (sampleSeed !== undefined) {
      const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', sampleSeed);
      z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps));
    }
    // KL(q(z|x) || N(0, I)) = -1/2 Σ (1 + log σ² - μ² - σ²)
    const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(logVar, 1), tf.square(mu)), tf.exp(logVar)), 1), -0.5) as tf.Tensor1D;
    return { recon: decoder.apply(z, { training }) as tf.Tensor4D, kl };
  }

  /**
   * Per-sample errors in training mode: `loss` (N) is the training loss (mean pixel error, plus
   * beta * KL per pixel for the VAE); `maps` (N, H*W) the pixel errors it averages.
   */
  private sampleErrors(x: tf.Tensor4D, training: boolean, sampleSeed?: number): { loss: tf.Tensor1D; maps: tf.Tensor2D; klPerPixel: tf.Tensor1D | null } {
    const { recon, kl } = this.forward(x, training, sampleSeed);
    const maps = tf.reshape(pixelErrorMap(x, recon, this.config.loss), [x.shape[0], -1]) as tf.Tensor2D;
    const err = tf.mean(maps, 1) as tf.Tensor1D;
    if (!kl) return { loss: err, maps, klPerPixel: null };
    const klPerPixel = tf.mul(kl, this.config.klWeight / (this.config.height * this.config.width * this.config.channels)) as tf.Tensor1D;
    return { loss: tf.add(err, klPerPixel), maps, klPerPixel };
  }

  /**
   * One training step's loss. With labelled anomalies, the push term acts on the statistic the
   * score reads: the mean pixel error, or (top-k and max scores) the mean of the top `topk` pixels,
   * in units of the normal batch's own value of that statistic, scaled to the normal loss. Pushing
   * the mean instead lets a defect covering 1% of an image count for 1% of its error.
   */
  private stepLoss(normal: tf.Tensor4D, step: number, seed: number, anomalyCount: number, anomalyBatch: (indices: number[]) => tf.Tensor4D): tf.Scalar {
    const c = this.config;
    const n = this.sampleErrors(normal, true, seed * 7919 + step);
    const normalLoss = tf.mean(n.loss) as tf.Scalar;
    if (anomalyCount === 0 || c.anomalyWeight === 0) return normalLoss;
    const topk = c.aggregate !== 'mean';
    return withAnomalyPush(normalLoss, step, normal.shape[0], {
      count: anomalyCount,
      weight: c.anomalyWeight,
      ...(topk ? { tau: meanTopError(n.maps.dataSync() as Float32Array, n.maps.shape[1], c.topk), scale: 'normal-loss' as const } : { tau: 'normal-loss' as const }),
      errors: (indices) => {
        const a = this.sampleErrors(anomalyBatch(indices), true, seed * 7919 + step + 1);
        if (!topk) return a.loss;
        const top = topFractionErrors(a.maps, c.topk);
        return a.klPerPixel ? tf.add(top, a.klPerPixel) : top;
      },
    });
  }

  protected async train(samples: ImageSample[], opts: FitOptions<ImageSample>): Promise<FitReport> {
    await initEngine();
    const c = this.config;
    const seed = opts.seed ?? c.seed;
    const split = trainValidationSplit(samples, opts.validationSplit ?? c.validationSplit, seed);
    const trainData = this.pack(split.train);
    const valData = this.pack(split.validation);
    const anomalies = c.mirrorAnomalies ? withMirrorImages(opts.anomalies ?? []) : (opts.anomalies ?? []);
    const anomalyData = this.pack(anomalies);
    this.norm = channelStats(trainData, c.channels);
    this.disposeNets();
    this.nets = buildAutoencoder({ ...this.shape, seed });
    const variables = [...this.nets.encoder.trainableWeights, ...this.nets.decoder.trainableWeights].map((w) => w.read() as tf.Variable);
    const t0 = performance.now();
    const result = await trainLoop({
      epochs: c.epochs,
      batchSize: c.batchSize,
      learningRate: c.learningRate,
      patience: split.validation.length > 0 ? c.patience : 0,
      seed,
      trainCount: split.train.length,
      valCount: split.validation.length,
      variables,
      progress: opts.progress,
      signal: opts.signal,
      trainLoss: (idx, step) => this.stepLoss(this.batchTensor(trainData, idx), step, seed, anomalies.length, (aIdx) => this.batchTensor(anomalyData, aIdx)),
      valLoss: (idx) => tf.mean(this.sampleErrors(this.batchTensor(valData, idx), false).loss) as tf.Scalar,
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    // Score on the exported networks from now on, so the threshold is fitted on the scores a reload gives.
    this.engines = await NetworkEngines.export(this.nets);
    // Threshold material: held-out normal images, or the training images when there are none.
    const calibration = split.validation.length > 0 ? split.validation : split.train;
    const scored = await this.scoreInternal(calibration, true);
    const allPixels = concatMaps(scored.map((s) => s.map!.values));
    this.pixelThreshold = allPixels.length > 0 ? quantileThreshold(allPixels, 0.999) : null;
    return {
      epochs: result.epochs,
      bestEpoch: result.bestEpoch,
      stoppedEarly: result.stoppedEarly,
      history: result.history,
      trainSeconds,
      trainSamples: split.train.length,
      validationSamples: split.validation.length,
      validationScores: scored.map((s) => s.score),
    };
  }

  async score(batch: ImageSample[]): Promise<ScoreResult[]> {
    return this.scoreInternal(batch, false);
  }

  private async scoreInternal(batch: ImageSample[], calibrating: boolean): Promise<ScoreResult[]> {
    if (!this.nets || !this.norm) throw new VigilError('E_NOT_FITTED', `${this.kind}: the model is not trained`);
    await initEngine();
    const c = this.config;
    const results: ScoreResult[] = [];
    const pixels = c.height * c.width;
    for (let start = 0; start < batch.length; start += SCORE_BATCH) {
      const part = batch.slice(start, start + SCORE_BATCH);
      const packed = this.pack(part);
      const shape: [number, number, number, number] = [part.length, c.height, c.width, c.channels];
      const onEngines = this.engines?.allOnnxRuntime ? await this.forwardEngines(packed, part.length) : null;
      const out = tf.tidy(() => {
        const x = tf.tensor4d(packed, shape);
        if (onEngines) {
          const maps = pixelErrorMap(x, tf.tensor4d(onEngines.recon, shape), c.loss);
          return onEngines.kl ? { maps, kl: tf.tensor1d(onEngines.kl) } : { maps };
        }
        const { recon, kl } = this.forward(x, false);
        const maps = pixelErrorMap(x, recon, c.loss);
        return kl ? { maps, kl } : { maps };
      });
      const maps = out.maps;
      const kls = 'kl' in out ? out.kl : null;
      const mapData = (await maps.data()) as Float32Array;
      const klData = kls ? ((await kls.data()) as Float32Array) : null;
      maps.dispose();
      kls?.dispose();
      part.forEach((s, i) => {
        let map = mapData.subarray(i * pixels, (i + 1) * pixels);
        if (c.blurSigma > 0) map = gaussianBlur(map, c.height, c.width, c.blurSigma);
        else map = map.slice();
        let score = aggregateMap(map, c.aggregate, c.topk);
        const klPerPixel = klData ? klData[i]! / (pixels * c.channels) : 0;
        if (c.scoreKl) score += c.klWeight * klPerPixel;
        const boxes = !calibrating && this.pixelThreshold !== null ? boxesFromMap(map, c.height, c.width, this.pixelThreshold) : [];
        const what = c.aggregate === 'topk' ? `mean of the top ${(c.topk * 100).toFixed(1)}% pixel errors` : `${c.aggregate} pixel error`;
        results.push({
          score,
          map: { height: c.height, width: c.width, values: map },
          reason: {
            summary: `reconstruction ${c.loss} ${what} ${score.toPrecision(4)}${klData ? `, KL ${klPerPixel.toPrecision(3)}/pixel` : ''}${boxes.length ? `, ${boxes.length} region(s)` : ''}`,
            boxes,
          },
        });
      });
    }
    return results;
  }

  /**
   * The scoring forward pass on the inference engines: packed (N, H, W, C) → reconstruction
   * (N, H, W, C) and, for the VAE, KL (N) of q(z|x) decoded at its mean (as `forward` without a seed).
   */
  private async forwardEngines(packed: Float32Array, n: number): Promise<{ recon: Float32Array; kl: Float32Array | null }> {
    const c = this.config;
    const { mean, std } = this.norm!;
    const x = new Float32Array(packed.length);
    for (let i = 0; i < packed.length; i++) x[i] = (packed[i]! - mean[i % c.channels]!) / std[i % c.channels]!;
    const h = await this.engines!.engine('encoder').run(x, [n, c.height, c.width, c.channels]); // (N, L), VAE (N, 2L)
    const decoder = this.engines!.engine('decoder');
    if (!this.variational) return { recon: await decoder.run(h, [n, c.latent]), kl: null };
    const { mu, kl } = gaussianHead(h, n, c.latent);
    return { recon: await decoder.run(mu, [n, c.latent]), kl };
  }

  protected async artifacts(): Promise<DetectorArtifacts> {
    if (!this.nets || !this.norm) throw new VigilError('E_NOT_FITTED', `${this.kind}: cannot save an untrained model`);
    const saved = await saveEncoderDecoder(this.nets, this.engines);
    const state: ConvAeState = { ...saved.state, normalisation: this.norm, pixelThreshold: this.pixelThreshold };
    return {
      input: { height: this.config.height, width: this.config.width, channels: this.config.channels },
      preprocess: { normalisation: this.norm },
      state: state as unknown as Record<string, unknown>,
      files: saved.files,
    };
  }

  /** Restores trained networks and state from a verified model folder. */
  async restore(manifest: Manifest, files: Record<string, Buffer>, dir: string): Promise<void> {
    await initEngine();
    const state = manifest.state as unknown as Partial<ConvAeState>;
    if (!state.normalisation) throw new VigilError('E_MODEL_CORRUPT', `${dir}: manifest state lacks the normalisation`, { path: dir });
    this.nets = await restoreEncoderDecoder(state, files, dir);
    this.engines = await NetworkEngines.restore(state.onnx, files, this.nets, dir);
    this.norm = state.normalisation;
    this.pixelThreshold = state.pixelThreshold ?? null;
  }

  override summary() {
    return { ...super.summary(), input: { height: this.config.height, width: this.config.width, channels: this.config.channels } };
  }

  private disposeNets(): void {
    this.engines?.dispose();
    this.engines = null;
    disposeEncoderDecoder(this.nets);
    this.nets = null;
  }

  dispose(): void {
    this.disposeNets();
  }
}

function channelStats(packed: Float32Array, channels: number): Normalisation {
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  for (let i = 0; i < packed.length; i++) {
    const v = packed[i]!;
    sum[i % channels] += v;
    sq[i % channels] += v * v;
  }
  const n = packed.length / channels;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, c) => Math.sqrt(Math.max(s / n - mean[c]! ** 2, 0)) || 1);
  return { mean, std };
}

function concatMaps(maps: Float32Array[]): Float32Array {
  const out = new Float32Array(maps.reduce((s, m) => s + m.length, 0));
  let o = 0;
  for (const m of maps) {
    out.set(m, o);
    o += m.length;
  }
  return out;
}

const factory = (kind: 'conv-ae' | 'conv-vae', description: string): DetectorFactory<ImageSample> =>
  schemaFactory<ImageSample, ConvAeConfig>({
    kind,
    inputKind: 'image',
    description,
    schema,
    build: (config, postprocess, report) => new ConvAutoencoderDetector(kind, config, postprocess, report),
  });

export const convAeFactory = factory('conv-ae', '2D convolutional autoencoder: per-pixel reconstruction error');
export const convVaeFactory = factory('conv-vae', '2D convolutional variational autoencoder: reconstruction error (+ KL)');
registerDetector(convAeFactory);
registerDetector(convVaeFactory);

