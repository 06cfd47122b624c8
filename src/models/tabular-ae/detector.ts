/**
 * Dense autoencoder detector for tables ('tabular-ae'): each row (D features) is standardised per
 * feature (statistics of the training rows, saved with the model) and reconstructed; the row's score
 * is its mean squared reconstruction error in standardised units, and `reason.top` lists the
 * features' shares of that error (which column made the row anomalous). Rows are independent: the
 * validation rows for early stopping and the threshold are a seeded random split. Labelled anomalous
 * rows (`opts.anomalies`) are pushed away by the semi-supervised loss (training/semi-supervised.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BaseDetector, registerDetector, schemaFactory, type DetectorArtifacts } from '../../core/detector.js';
import { thresholdSchema } from '../../core/config.js';
import { VigilError } from '../../core/errors.js';
import type { Manifest } from '../../core/model-store.js';
import type { FitOptions, FitReport, ScoreResult } from '../../core/types.js';
import { checkChannelStats, standardiseInPlace, type ChannelStats } from '../../data/series.js';
import { trainValidationSplit } from '../../data/split.js';
import { fitFeatureStats, type TableRow } from '../../data/tables.js';
import { initEngine } from '../../engine/backend.js';
import { NetworkEngines } from '../../engine/onnx/index.js';
import { PostProcessor, type ThresholdSpec } from '../../scoring/postprocess.js';
import { withAnomalyPush } from '../../training/semi-supervised.js';
import { disposeEncoderDecoder, restoreEncoderDecoder, saveEncoderDecoder, type EncoderDecoderState } from '../components/encoder-decoder.js';
import { trainLoop } from '../../training/train-loop.js';
import { buildDenseAutoencoder, type DenseNetworks } from './network.js';

export interface TabularAeConfig {
  /** Hidden layer widths of the encoder (the decoder mirrors them). */
  hidden: number[];
  latent: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  validationSplit: number;
  seed: number;
  /** Feature columns to use, in order; empty = every column but the label. */
  columns: string[];
  /** Label column of CSV input; empty = detected by name (label, is_anomaly, outlier…). */
  labelColumn: string;
  /** Semi-supervised: weight of the term that pushes labelled anomalies' error up. */
  anomalyWeight: number;
  /**
   * Robust training for contaminated data (the unsupervised protocol): in every batch the rows with
   * the highest reconstruction error, this fraction of them, are left out of the loss, so that the
   * outliers hidden in the training data are not learnt (0 = plain mean loss).
   */
  trim: number;
  /** Features listed in `reason.top`. */
  topFeatures: number;
  threshold: ThresholdSpec;
}

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    hidden: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 8192 }, maxItems: 8, default: [64, 32] },
    latent: { type: 'integer', minimum: 1, maximum: 4096, default: 8 },
    epochs: { type: 'integer', minimum: 1, maximum: 10000, default: 50 },
    batchSize: { type: 'integer', minimum: 1, maximum: 8192, default: 128 },
    learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.001 },
    patience: { type: 'integer', minimum: 0, default: 5 },
    validationSplit: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.1 },
    seed: { type: 'integer', default: 0 },
    columns: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [] },
    labelColumn: { type: 'string', default: '' },
    anomalyWeight: { type: 'number', minimum: 0, default: 1 },
    trim: { type: 'number', minimum: 0, maximum: 0.5, default: 0 },
    topFeatures: { type: 'integer', minimum: 1, maximum: 100, default: 5 },
    threshold: thresholdSchema,
  },
} as const;

interface TabularState extends EncoderDecoderState {
  columns: string[];
  features: number;
  normalisation: ChannelStats;
}

const SCORE_BATCH = 1024;

/**
 * Mean of the per-row losses (N) without the `trim` fraction of highest ones. The rows to keep are
 * chosen on the current values (a constant mask), so gradients flow through the kept rows only.
 */
function trimmedMean(losses: tf.Tensor1D, trim: number): tf.Scalar {
  const n = losses.shape[0];
  const drop = Math.floor(n * trim);
  if (drop === 0) return tf.mean(losses) as tf.Scalar;
  const values = losses.dataSync();
  const cut = Float32Array.from(values).sort()[n - drop - 1]!;
  const keep = new Float32Array(n);
  let kept = 0;
  for (let i = 0; i < n && kept < n - drop; i++) {
    if (values[i]! <= cut) {
      keep[i] = 1;
      kept++;
    }
  }
  return tf.div(tf.sum(tf.mul(losses, tf.tensor1d(keep))), kept) as tf.Scalar;
}

class TabularAutoencoderDetector extends BaseDetector<TableRow, TabularAeConfig> {
  readonly kind = 'tabular-ae';
  readonly inputKind = 'table' as const;
  private nets: DenseNetworks | null = null;
  /** The networks on ONNX Runtime (TF.js fallback), for scoring. */
  private engines: NetworkEngines<'encoder' | 'decoder'> | null = null;
  private stats: ChannelStats | null = null;
  private cols: string[];
  private features = 0;

  constructor(config: Readonly<TabularAeConfig>, postprocess?: PostProcessor, report?: FitReport | null) {
    super(config, postprocess, report);
    this.cols = [...config.columns];
  }

  /** Standardised rows (N, D), checking each row's length and values. */
  private pack(rows: readonly TableRow[]): Float32Array {
    const D = this.features;
    const out = new Float32Array(rows.length * D);
    rows.forEach((r, i) => {
      if (r.values.length !== D) throw new VigilError('E_SHAPE', `${r.source}: ${r.values.length} feature(s), the model takes ${D}`, { file: r.source });
      for (let j = 0; j < D; j++) {
        const v = r.values[j]!;
        if (!Number.isFinite(v)) {
          throw new VigilError('E_VALUE', `${r.source}: feature "${this.cols[j] ?? j}" is ${v}, expected a finite number`, { file: r.source, column: this.cols[j], value: String(v) });
        }
      }
      out.set(r.values, i * D);
    });
    return standardiseInPlace(out, this.stats!);
  }

  private gather(packed: Float32Array, idx: readonly number[]): tf.Tensor2D {
    const D = this.features;
    const buf = new Float32Array(idx.length * D);
    idx.forEach((k, i) => buf.set(packed.subarray(k * D, (k + 1) * D), i * D));
    return tf.tensor2d(buf, [idx.length, D]);
  }

  /** Squared error (N, D) of standardised rows x. */
  private errors(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const { encoder, decoder } = this.nets!;
    return tf.squaredDifference(x, decoder.apply(encoder.apply(x, { training }), { training }) as tf.Tensor2D);
  }

  private rowLoss(x: tf.Tensor2D, training: boolean): tf.Tensor1D {
    return tf.mean(this.errors(x, training), 1) as tf.Tensor1D;
  }

  protected async train(rows: TableRow[], opts: FitOptions<TableRow>): Promise<FitReport> {
    await initEngine();
    const c = this.config;
    const seed = opts.seed ?? c.seed;
    this.features = rows[0]!.values.length;
    if (this.cols.length === 0) this.cols = rows[0]!.columns ? [...rows[0]!.columns] : Array.from({ length: this.features }, (_, j) => `x${j}`);
    if (this.cols.length !== this.features) {
      throw new VigilError('E_SHAPE', `${rows[0]!.source}: ${this.features} feature(s) but ${this.cols.length} configured column(s)`, { file: rows[0]!.source });
    }
    const split = trainValidationSplit(rows, opts.validationSplit ?? c.validationSplit, seed);
    this.stats = fitFeatureStats(split.train, this.features);
    const trainData = this.pack(split.train);
    const valData = this.pack(split.validation);
    const anomalies = opts.anomalies ?? [];
    const anomalyData = this.pack(anomalies);
    this.disposeNets();
    this.nets = buildDenseAutoencoder({ features: this.features, hidden: c.hidden, latent: c.latent, seed });
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
      trainLoss: (idx, step) =>
        withAnomalyPush(trimmedMean(this.rowLoss(this.gather(trainData, idx), true), c.trim), step, idx.length, {
          count: anomalies.length,
          weight: c.anomalyWeight,
          tau: 1,
          errors: (aIdx) => this.rowLoss(this.gather(anomalyData, aIdx), true),
        }),
      valLoss: (idx) => tf.mean(this.rowLoss(this.gather(valData, idx), false)) as tf.Scalar,
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    // Score on the exported networks from now on, so the threshold is fitted on the scores a reload gives.
    this.engines = await NetworkEngines.export(this.nets);
    const calibration = split.validation.length > 0 ? split.validation : split.train;
    const scored = await this.score(calibration);
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

  async score(rows: TableRow[]): Promise<ScoreResult[]> {
    if (!this.nets || !this.stats) throw new VigilError('E_NOT_FITTED', `${this.kind}: the model is not trained`);
    await initEngine();
    const D = this.features;
    const results: ScoreResult[] = [];
    for (let start = 0; start < rows.length; start += SCORE_BATCH) {
      const part = rows.slice(start, start + SCORE_BATCH);
      const data = await this.rowErrors(this.pack(part), part.length);
      part.forEach((_, i) => {
        const row = data.subarray(i * D, (i + 1) * D);
        let total = 0;
        for (let j = 0; j < D; j++) total += row[j]!;
        const score = total / D;
        const top = this.cols
          .map((name, j) => ({ name, contribution: total > 0 ? row[j]! / total : 0 }))
          .sort((a, b) => b.contribution - a.contribution)
          .slice(0, this.config.topFeatures);
        results.push({
          score,
          reason: { summary: `reconstruction error ${score.toPrecision(4)}, mostly ${top[0]!.name} (${(100 * top[0]!.contribution).toFixed(0)}%)`, top },
        });
      });
    }
    return results;
  }

  /** Squared errors (n, D) of standardised rows, on the inference engines (ORT, else TF.js). */
  private async rowErrors(x: Float32Array, n: number): Promise<Float32Array> {
    if (!this.engines) {
      const err = tf.tidy(() => this.errors(tf.tensor2d(x, [n, this.features]), false));
      const data = (await err.data()) as Float32Array;
      err.dispose();
      return data;
    }
    const z = await this.engines.engine('encoder').run(x, [n, this.features]);
    const recon = await this.engines.engine('decoder').run(z, [n, z.length / n]);
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const d = Math.fround(x[i]! - recon[i]!);
      out[i] = d * d;
    }
    return out;
  }

  protected async artifacts(): Promise<DetectorArtifacts> {
    if (!this.nets || !this.stats) throw new VigilError('E_NOT_FITTED', `${this.kind}: cannot save an untrained model`);
    const saved = await saveEncoderDecoder(this.nets, this.engines);
    const state: TabularState = { ...saved.state, columns: this.cols, features: this.features, normalisation: this.stats };
    return {
      input: this.inputDescription(),
      preprocess: { normalisation: this.stats },
      state: state as unknown as Record<string, unknown>,
      files: saved.files,
    };
  }

  async restore(manifest: Manifest, files: Record<string, Buffer>, dir: string): Promise<void> {
    await initEngine();
    const state = manifest.state as unknown as Partial<TabularState>;
    if (!Array.isArray(state.columns) || typeof state.features !== 'number' || state.columns.length !== state.features) {
      throw new VigilError('E_MODEL_CORRUPT', `${dir}: manifest state lacks the columns or the feature count`, { path: dir });
    }
    const stats = checkChannelStats(state.normalisation, state.features, `${dir}: state.normalisation`);
    this.nets = await restoreEncoderDecoder(state, files, dir);
    this.engines = await NetworkEngines.restore(state.onnx, files, this.nets, dir);
    this.stats = stats;
    this.cols = [...state.columns];
    this.features = state.features;
  }

  private inputDescription(): Record<string, unknown> {
    return { features: this.features || null, columns: [...this.cols], labelColumn: this.config.labelColumn || null };
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

export const tabularAeFactory = schemaFactory<TableRow, TabularAeConfig>({
  kind: 'tabular-ae',
  inputKind: 'table',
  description: 'dense autoencoder over table rows: reconstruction error with per-feature contributions',
  schema,
  build: (config, postprocess, report) => new TabularAutoencoderDetector(config, postprocess, report),
});
registerDetector(tabularAeFactory);
