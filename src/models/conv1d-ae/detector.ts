/**
 * 1D convolutional autoencoder ('conv1d-ae') and variational autoencoder ('conv1d-vae') detectors
 * for univariate and multivariate time series.
 *
 * Training: each series (T, C) is standardised per channel (statistics of the training part, saved
 * with the model) and cut into sliding windows (W, C) with the configured stride; the network learns
 * to reconstruct normal windows. The last `validationSplit` of every series (in time, not at random:
 * overlapping windows would leak) is held out for early stopping and for the label-free threshold.
 * Windows that cover a labelled step (`series.labels`) and every window of `opts.anomalies` are
 * labelled anomalies: the semi-supervised loss pushes their error up (training/semi-supervised.ts).
 *
 * Scoring: the squared reconstruction error (standardised units) of every position of every window
 * (N, W, C); a step's error per channel is the mean over the windows covering it (T, C); a step's
 * score is the mean over channels, (1, T) in `map`; the series score is the highest step score,
 * with `reason.top` the channels' shares of that step's error.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BaseDetector, registerDetector, schemaFactory, type DetectorArtifacts } from '../../core/detector.js';
import { thresholdSchema } from '../../core/config.js';
import { VigilError } from '../../core/errors.js';
import type { Manifest } from '../../core/model-store.js';
import type { FitOptions, FitReport, Series } from '../../core/types.js';
import {
  channelContributions,
  checkChannelStats,
  checkSeries,
  checkWindowFits,
  extractWindows,
  fitChannelStats,
  meanOverChannels,
  selectColumns,
  sliceSeries,
  standardiseInPlace,
  stepErrorsFromWindows,
  windowLabels,
  windowStarts,
  type ChannelStats,
  type SeriesScoreResult,
} from '../../data/series.js';
import { initEngine } from '../../engine/backend.js';
import { NetworkEngines } from '../../engine/onnx/index.js';
import { PostProcessor, type ThresholdSpec } from '../../scoring/postprocess.js';
import type { WindowModel } from '../../streaming/window-model.js';
import { withAnomalyPush } from '../../training/semi-supervised.js';
import { disposeEncoderDecoder, gaussianHead, restoreEncoderDecoder, saveEncoderDecoder, type EncoderDecoderState } from '../components/encoder-decoder.js';
import { trainLoop } from '../../training/train-loop.js';
import { buildConv1dAutoencoder, type Conv1dNetworks, type Conv1dShape } from './network.js';

export interface Conv1dAeConfig {
  /** Window length W in steps (divisible by 2^depth). */
  window: number;
  /** Step between window starts, for training and batch scoring (the last window always ends at T). */
  stride: number;
  depth: number;
  filters: number;
  kernelSize: number;
  latent: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  /** Fraction of each training series, at its end, held out for validation and the threshold. */
  validationSplit: number;
  seed: number;
  /** Value columns to use, in order; empty = every value column of the training data. */
  columns: string[];
  /** Timestamp column for CSV input; empty = detected. */
  timestampColumn: string;
  /** Missing values in CSV input: forward-fill (counted) or error. */
  missing: 'ffill' | 'error';
  /**
   * Window centring: 'none' keeps levels (a shifted level is an anomaly for as long as it lasts);
   * 'mean' subtracts each window's per-channel mean after standardisation, so the model learns shapes
   * and a level shift scores at its onset rather than for ever after.
   */
  center: 'none' | 'mean';
  /**
   * Masked tail: the last `maskLast` positions of every input window are replaced by the value just
   * before them, and the network must still reconstruct the true window. The error at those
   * positions is then a forecast error (the network cannot copy the newest values), which is what an
   * online scorer wants from the newest point. 0 = plain autoencoder.
   */
  maskLast: number;
  /** At most this many training windows (evenly subsampled beyond it). */
  maxTrainWindows: number;
  /** VAE only: weight of the KL term (beta). */
  klWeight: number;
  /** VAE only: add klWeight * KL per value to every position's error when scoring. */
  scoreKl: boolean;
  /** Semi-supervised: weight of the term that pushes labelled anomalies' error up. */
  anomalyWeight: number;
  threshold: ThresholdSpec;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    window: { type: 'integer', minimum: 2, maximum: 4096, default: 64 },
    stride: { type: 'integer', minimum: 1, maximum: 4096, default: 1 },
    depth: { type: 'integer', minimum: 1, maximum: 6, default: 2 },
    filters: { type: 'integer', minimum: 1, maximum: 512, default: 16 },
    kernelSize: { type: 'integer', minimum: 1, maximum: 63, default: 5 },
    latent: { type: 'integer', minimum: 1, maximum: 4096, default: 16 },
    epochs: { type: 'integer', minimum: 1, maximum: 10000, default: 30 },
    batchSize: { type: 'integer', minimum: 1, maximum: 4096, default: 64 },
    learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.001 },
    patience: { type: 'integer', minimum: 0, default: 5 },
    validationSplit: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.2 },
    seed: { type: 'integer', default: 0 },
    columns: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [] },
    timestampColumn: { type: 'string', default: '' },
    missing: { enum: ['ffill', 'error'], default: 'ffill' },
    center: { enum: ['none', 'mean'], default: 'none' },
    maskLast: { type: 'integer', minimum: 0, maximum: 1024, default: 0 },
    maxTrainWindows: { type: 'integer', minimum: 1, default: 20000 },
    klWeight: { type: 'number', minimum: 0, default: 1 },
    scoreKl: { type: 'boolean', default: false },
    anomalyWeight: { type: 'number', minimum: 0, default: 1 },
    threshold: thresholdSchema,
  },
} as const;

interface Conv1dState extends EncoderDecoderState {
  columns: string[];
  normalisation: ChannelStats;
}

type Kind = 'conv1d-ae' | 'conv1d-vae';

const SCORE_BATCH = 256;
/** Windows per ORT call when scoring in batches. */
const ENGINE_BATCH = 1024;

/**
 * The network input for preprocessed windows x (N, W, C): a copy whose last `k` positions repeat
 * the value at position W - k - 1 (per channel); x itself when k = 0.
 */
function maskTail(x: Float32Array, window: number, channels: number, k: number): Float32Array {
  if (k === 0) return x;
  const out = x.slice();
  const size = window * channels;
  for (let o = 0; o < out.length; o += size) {
    const src = o + (window - k - 1) * channels;
    for (let w = window - k; w < window; w++) for (let c = 0; c < channels; c++) out[o + w * channels + c] = out[src + c]!;
  }
  return out;
}

/** Subtracts each window's per-channel mean, in place; windows (N, W, C). */
function centreWindows(x: Float32Array, window: number, channels: number): void {
  const size = window * channels;
  const mean = new Float64Array(channels);
  for (let o = 0; o < x.length; o += size) {
    mean.fill(0);
    for (let i = 0; i < size; i++) mean[i % channels] += x[o + i]!;
    for (let c = 0; c < channels; c++) mean[c] /= window;
    for (let i = 0; i < size; i++) x[o + i] -= mean[i % channels]!;
  }
}

/** Evenly spaced subset of `items` of at most `max` elements (all of them when fewer). */
function subsample<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]!);
}

class Conv1dAutoencoderDetector extends BaseDetector<Series, Conv1dAeConfig> implements WindowModel {
  readonly inputKind = 'series' as const;
  private nets: Conv1dNetworks | null = null;
  /** The networks on ONNX Runtime (TF.js fallback), for batch scoring; the synchronous path stays on TF.js. */
  private engines: NetworkEngines<'encoder' | 'decoder'> | null = null;
  private stats: ChannelStats | null = null;
  private cols: string[];

  constructor(
    readonly kind: Kind,
    config: Readonly<Conv1dAeConfig>,
    postprocess?: PostProcessor,
    report?: FitReport | null,
  ) {
    super(config, postprocess, report);
    if (config.maskLast >= config.window) {
      throw new VigilError('E_CONFIG', `maskLast: ${config.maskLast} must be smaller than the window (${config.window})`, { field: 'maskLast' });
    }
    if (config.window % 2 ** config.depth !== 0) {
      throw new VigilError('E_CONFIG', `window: ${config.window} must be divisible by 2^depth = ${2 ** config.depth} (depth ${config.depth}); choose another window or depth`, { field: 'window' });
    }
    this.cols = [...config.columns];
  }

  get window(): number {
    return this.config.window;
  }

  get columns(): readonly string[] {
    return this.cols;
  }

  get trained(): boolean {
    return this.nets !== null && this.stats !== null;
  }

  private get variational(): boolean {
    return this.kind === 'conv1d-vae';
  }

  private shape(channels: number, seed: number): Conv1dShape {
    const c = this.config;
    return { window: c.window, channels, depth: c.depth, filters: c.filters, kernelSize: c.kernelSize, latent: c.latent, variational: this.variational, seed };
  }

  /** Checks a series and lays it out in the model's columns. */
  private prepare(s: Series): Series {
    checkSeries(s);
    const out = this.cols.length > 0 ? selectColumns(s, this.cols) : s;
    checkWindowFits(out, this.config.window);
    return out;
  }

  /** Standardised windows (N, W, C) of `s` at `starts`. */
  private windowsOf(s: Series, starts: readonly number[]): Float32Array {
    return this.preprocess(extractWindows(s.values, s.channels, starts, this.config.window));
  }

  /** Standardises (and centres, see `center`) raw windows (N, W, C) in place. */
  private preprocess(windows: Float32Array): Float32Array {
    standardiseInPlace(windows, this.stats!);
    if (this.config.center === 'mean') centreWindows(windows, this.config.window, this.cols.length);
    return windows;
  }

  private gather(packed: Float32Array, indices: readonly number[], size: number): Float32Array {
    const buf = new Float32Array(indices.length * size);
    indices.forEach((idx, i) => buf.set(packed.subarray(idx * size, (idx + 1) * size), i * size));
    return buf;
  }

  /**
   * Forward pass of standardised windows x (N, W, C): the reconstruction (N, W, C) and, for the VAE,
   * the per-window KL divergence (N). `sampleSeed` samples z (training); otherwise the VAE decodes
   * its mean.
   */
  private forward(x: tf.Tensor3D, training: boolean, sampleSeed?: number): { recon: tf.Tensor3D; kl: tf.Tensor1D | null } {
    const { encoder, decoder } = this.nets!;
    // x is the network input: with maskLast its tail is masked; callers compare with the unmasked target.
    const h = encoder.apply(x, { training }) as tf.Tensor2D;
    if (!this.variational) return { recon: decoder.apply(h, { training }) as tf.Tensor3D, kl: null };
    const L = this.config.latent;
    const mu = tf.slice(h, [0, 0], [-1, L]);
    const logVar = tf.clipByValue(tf.slice(h, [0, L], [-1, L]), -10, 10);
    let z: tf.Tensor2D = mu;
    if (sampleSeed !== undefined) z = tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), tf.randomNormal(mu.shape, 0, 1, 'float32', sampleSeed)));
    // KL(q(z|x) || N(0, I)) = -1/2 Σ (1 + log σ² - μ² - σ²)
    const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(logVar, 1), tf.square(mu)), tf.exp(logVar)), 1), -0.5) as tf.Tensor1D;
    return { recon: decoder.apply(z, { training }) as tf.Tensor3D, kl };
  }

  /** Per-window loss (N) of target windows given their inputs: MSE, plus beta * KL per value for the VAE. */
  private windowLoss(target: tf.Tensor3D, input: tf.Tensor3D, training: boolean, sampleSeed?: number): tf.Tensor1D {
    const { recon, kl } = this.forward(input, training, sampleSeed);
    const err = tf.mean(tf.squaredDifference(target, recon), [1, 2]) as tf.Tensor1D;
    if (!kl) return err;
    return tf.add(err, tf.mul(kl, this.config.klWeight / (target.shape[1] * target.shape[2])));
  }

  protected async train(input: Series[], opts: FitOptions<Series>): Promise<FitReport> {
    await initEngine();
    const c = this.config;
    const seed = opts.seed ?? c.seed;
    const W = c.window;
    if (this.cols.length === 0) this.cols = [...input[0]!.columns];
    const series = input.map((s) => this.prepare(s));
    const anomalySeries = (opts.anomalies ?? []).map((s) => this.prepare(s));
    const C = this.cols.length;
    const size = W * C;

    // Chronological hold-out: the tail of each series, when both parts still hold a window.
    const vFrac = opts.validationSplit ?? c.validationSplit;
    const trainParts: Series[] = [];
    const valParts: Series[] = [];
    for (const s of series) {
      const v = Math.round(s.length * vFrac);
      if (v >= W && s.length - v >= W) {
        trainParts.push(sliceSeries(s, 0, s.length - v));
        valParts.push(sliceSeries(s, s.length - v, s.length, `${s.source} (validation)`));
      } else trainParts.push(s);
    }
    this.stats = fitChannelStats(trainParts);

    // Windows: normal ones, and those covering a labelled step (semi-supervised anomalies).
    const normal: Float32Array[] = [];
    const anomalous: Float32Array[] = [];
    const collect = (s: Series, allAnomalous: boolean, intoNormal: Float32Array[], intoAnomalous: Float32Array[]) => {
      const starts = windowStarts(s.length, W, c.stride);
      const lab = windowLabels(s.labels, starts, W);
      const packed = this.windowsOf(s, starts);
      starts.forEach((_, i) => (allAnomalous || lab[i] ? intoAnomalous : intoNormal).push(packed.subarray(i * size, (i + 1) * size)));
    };
    for (const s of trainParts) collect(s, false, normal, anomalous);
    for (const s of anomalySeries) collect(s, true, normal, anomalous);
    const valWindows: Float32Array[] = [];
    const ignored: Float32Array[] = [];
    for (const s of valParts) collect(s, false, valWindows, ignored);
    const trainWindows = subsample(normal, c.maxTrainWindows);
    if (trainWindows.length === 0) throw new VigilError('E_EMPTY', `${this.kind}: no normal training window of ${W} steps (every window covers a labelled anomaly)`);
    const pack = (list: Float32Array[]) => {
      const out = new Float32Array(list.length * size);
      list.forEach((w, i) => out.set(w, i * size));
      return out;
    };
    const trainData = pack(trainWindows);
    const valData = pack(valWindows);
    const anomalyData = pack(anomalous);

    this.disposeNets();
    this.nets = buildConv1dAutoencoder(this.shape(C, seed));
    const variables = [...this.nets.encoder.trainableWeights, ...this.nets.decoder.trainableWeights].map((w) => w.read() as tf.Variable);
    const k = c.maskLast;
    /** Target and network input of the windows `idx` of `data`. */
    const batch = (data: Float32Array, idx: readonly number[]): [tf.Tensor3D, tf.Tensor3D] => {
      const target = this.gather(data, idx, size);
      return [tf.tensor3d(target, [idx.length, W, C]), tf.tensor3d(maskTail(target, W, C, k), [idx.length, W, C])];
    };
    const t0 = performance.now();
    const result = await trainLoop({
      epochs: c.epochs,
      batchSize: c.batchSize,
      learningRate: c.learningRate,
      patience: valWindows.length > 0 ? c.patience : 0,
      seed,
      trainCount: trainWindows.length,
      valCount: valWindows.length,
      variables,
      progress: opts.progress,
      signal: opts.signal,
      trainLoss: (idx, step) =>
        withAnomalyPush(tf.mean(this.windowLoss(...batch(trainData, idx), true, seed * 7919 + step)) as tf.Scalar, step, idx.length, {
          count: anomalous.length,
          weight: c.anomalyWeight,
          tau: 1,
          errors: (aIdx) => this.windowLoss(...batch(anomalyData, aIdx), true, seed * 7919 + step + 1),
        }),
      valLoss: (idx) => tf.mean(this.windowLoss(...batch(valData, idx), false)) as tf.Scalar,
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    // Score batches on the exported networks from now on, so the threshold is fitted on the scores a reload gives.
    this.engines = await NetworkEngines.export(this.nets);

    // Threshold material: step scores of the held-out tails (their normal steps), else of the training parts.
    const calibration = valParts.length > 0 ? valParts : trainParts;
    const validationScores: number[] = [];
    for (const s of calibration) {
      const r = await this.scoreOne(s);
      for (let t = 0; t < s.length; t++) if (!s.labels || !s.labels[t]) validationScores.push(r.map.values[t]!);
    }
    return {
      epochs: result.epochs,
      bestEpoch: result.bestEpoch,
      stoppedEarly: result.stoppedEarly,
      history: result.history,
      trainSeconds,
      trainSamples: trainWindows.length,
      validationSamples: valWindows.length,
      validationScores,
    };
  }

  /** Squared errors (n, W, C) of standardised windows, in batches, synchronously on TF.js. */
  private standardisedErrorsSync(x: Float32Array, n: number): Float32Array {
    if (!this.nets || !this.stats) throw new VigilError('E_NOT_FITTED', `${this.kind}: the model is not trained`);
    const W = this.config.window;
    const C = this.cols.length;
    const size = W * C;
    const out = new Float32Array(n * size);
    const klPerValue = this.variational && this.config.scoreKl ? this.config.klWeight / size : 0;
    for (let start = 0; start < n; start += SCORE_BATCH) {
      const m = Math.min(SCORE_BATCH, n - start);
      const part = x.subarray(start * size, (start + m) * size);
      const input = maskTail(part, W, C, this.config.maskLast);
      const err = tf.tidy(() => {
        const xt = tf.tensor3d(part, [m, W, C]);
        const { recon, kl } = this.forward(input === part ? xt : tf.tensor3d(input, [m, W, C]), false);
        const e = tf.squaredDifference(xt, recon);
        return kl && klPerValue > 0 ? tf.add(e, tf.reshape(tf.mul(kl, klPerValue), [m, 1, 1])) : e;
      });
      out.set(err.dataSync() as Float32Array, start * size);
      err.dispose();
    }
    return out;
  }

  /**
   * {@link standardisedErrorsSync} on the inference engines (ORT) when both networks run there: the
   * same arithmetic, the VAE decoding its mean.
   */
  private async standardisedErrors(x: Float32Array, n: number): Promise<Float32Array> {
    if (!this.engines?.allOnnxRuntime) return this.standardisedErrorsSync(x, n);
    const W = this.config.window;
    const C = this.cols.length;
    const size = W * C;
    const L = this.config.latent;
    const klPerValue = this.variational && this.config.scoreKl ? this.config.klWeight / size : 0;
    const out = new Float32Array(n * size);
    for (let start = 0; start < n; start += ENGINE_BATCH) {
      const m = Math.min(ENGINE_BATCH, n - start);
      const part = x.subarray(start * size, (start + m) * size);
      const h = await this.engines.engine('encoder').run(maskTail(part, W, C, this.config.maskLast), [m, W, C]);
      const head = this.variational ? gaussianHead(h, m, L) : null;
      const recon = await this.engines.engine('decoder').run(head ? head.mu : h, [m, L]);
      for (let i = 0; i < m * size; i++) {
        const d = Math.fround(part[i]! - recon[i]!);
        out[start * size + i] = d * d + (head && klPerValue > 0 ? Math.fround(head.kl[Math.floor(i / size)]! * klPerValue) : 0);
      }
    }
    return out;
  }

  /** Raw windows (n, W, C) in the model's columns, checked, standardised and centred (a copy). */
  private checkedWindows(windows: Float32Array, n: number): Float32Array {
    if (!this.stats) throw new VigilError('E_NOT_FITTED', `${this.kind}: the model is not trained`);
    const size = this.config.window * this.cols.length;
    if (windows.length !== n * size) throw new VigilError('E_SHAPE', `windows: ${windows.length} values, expected ${n} x ${this.config.window} x ${this.cols.length}`);
    for (let i = 0; i < windows.length; i++) {
      if (!Number.isFinite(windows[i]!)) throw new VigilError('E_VALUE', `windows: value ${i} is ${windows[i]}, expected a finite number`, { index: i });
    }
    return this.preprocess(windows.slice());
  }

  /**
   * Per-position, per-channel squared errors (n, W, C) of raw windows (n, W, C) in the model's
   * columns, synchronously on TF.js: the streaming scorer's point-by-point entry point.
   */
  windowErrors(windows: Float32Array, n: number): Float32Array {
    return this.standardisedErrorsSync(this.checkedWindows(windows, n), n);
  }

  /** {@link windowErrors} for a batch of windows on the inference engine (ORT when exported). */
  async windowErrorsBatch(windows: Float32Array, n: number): Promise<Float32Array> {
    return this.standardisedErrors(this.checkedWindows(windows, n), n);
  }

  /** Where batch scoring runs, e.g. "onnxruntime [cpu], 1 thread(s)", or TF.js and why. */
  get engineDescription(): string {
    if (!this.engines) return 'tfjs';
    const r = this.engines.report();
    return r.encoder.fallback ? `tfjs (${r.encoder.fallback})` : r.encoder.engine;
  }

  /** Step scores of one prepared series. */
  private async scoreOne(s: Series): Promise<SeriesScoreResult> {
    const W = this.config.window;
    const C = this.cols.length;
    const starts = windowStarts(s.length, W, this.config.stride);
    const errors = await this.standardisedErrors(this.windowsOf(s, starts), starts.length);
    const stepChannels = stepErrorsFromWindows(errors, starts, W, C, s.length);
    const steps = meanOverChannels(stepChannels, C);
    let peak = 0;
    for (let t = 1; t < steps.length; t++) if (steps[t]! > steps[peak]!) peak = t;
    const top = channelContributions(stepChannels, peak, this.cols, Math.min(C, 5));
    const score = steps[peak]!;
    return {
      score,
      map: { height: 1, width: s.length, values: steps },
      stepChannels,
      columns: [...this.cols],
      peakStep: peak,
      reason: {
        summary: `highest step reconstruction error ${score.toPrecision(4)} at step ${peak}${C > 1 ? `, mostly ${top[0]!.name} (${(100 * top[0]!.contribution).toFixed(0)}%)` : ''}`,
        top,
      },
    };
  }

  async score(batch: Series[]): Promise<SeriesScoreResult[]> {
    if (!this.trained) throw new VigilError('E_NOT_FITTED', `${this.kind}: the model is not trained`);
    await initEngine();
    const out: SeriesScoreResult[] = [];
    for (const s of batch) out.push(await this.scoreOne(this.prepare(s)));
    return out;
  }

  protected async artifacts(): Promise<DetectorArtifacts> {
    if (!this.nets || !this.stats) throw new VigilError('E_NOT_FITTED', `${this.kind}: cannot save an untrained model`);
    const saved = await saveEncoderDecoder(this.nets, this.engines);
    const state: Conv1dState = { ...saved.state, columns: this.cols, normalisation: this.stats };
    return {
      input: this.inputDescription(),
      preprocess: { normalisation: this.stats },
      state: state as unknown as Record<string, unknown>,
      files: saved.files,
    };
  }

  /** Restores trained networks and state from a verified model folder. */
  async restore(manifest: Manifest, files: Record<string, Buffer>, dir: string): Promise<void> {
    await initEngine();
    const state = manifest.state as unknown as Partial<Conv1dState>;
    if (!Array.isArray(state.columns) || state.columns.length === 0) {
      throw new VigilError('E_MODEL_CORRUPT', `${dir}: manifest state lacks the columns`, { path: dir });
    }
    const stats = checkChannelStats(state.normalisation, state.columns.length, `${dir}: state.normalisation`);
    this.nets = await restoreEncoderDecoder(state, files, dir);
    this.engines = await NetworkEngines.restore(state.onnx, files, this.nets, dir);
    this.stats = stats;
    this.cols = [...state.columns];
  }

  private inputDescription(): Record<string, unknown> {
    const c = this.config;
    return {
      window: c.window,
      stride: c.stride,
      channels: this.cols.length || null,
      columns: [...this.cols],
      timestampColumn: c.timestampColumn || null,
      missing: c.missing,
    };
  }

  override summary() {
    return { ...super.summary(), input: this.inputDescription() };
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

function factory(kind: Kind, description: string) {
  return schemaFactory<Series, Conv1dAeConfig>({
    kind,
    inputKind: 'series',
    description,
    schema,
    build: (config, postprocess, report) => new Conv1dAutoencoderDetector(kind, config, postprocess, report),
  });
}

export const conv1dAeFactory = factory('conv1d-ae', '1D convolutional autoencoder over sliding windows of a time series: per-step, per-channel reconstruction error');
export const conv1dVaeFactory = factory('conv1d-vae', '1D convolutional variational autoencoder over sliding windows of a time series: reconstruction error (+ KL)');
registerDetector(conv1dAeFactory);
registerDetector(conv1dVaeFactory);
