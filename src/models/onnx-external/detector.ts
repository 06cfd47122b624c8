/**
 * The 'onnx' detector: serves an image model trained elsewhere (e.g. exported from PyTorch) on
 * ONNX Runtime, described by its input layout/size/scaling and what its output means (see
 * engine/onnx/external.ts). Its model folder holds `model.onnx` beside the manifest, whose config is
 * that description.
 *
 *   const d = getDetectorFactory('onnx').create({ model: 'ae.onnx', input: { layout: 'NCHW', height: 28,
 *     width: 28, channels: 1 }, output: { kind: 'reconstruction', loss: 'mse' } });
 *   await d.fit(normalImages);   // no training: scores them and fits the label-free threshold
 *   await d.save('models/ae');   // or give config.fixedThreshold and save without fit
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { BaseDetector, registerDetector, type DetectorArtifacts, type DetectorFactory } from '../../core/detector.js';
import { thresholdSchema, validateConfig } from '../../core/config.js';
import { VigilError } from '../../core/errors.js';
import type { Manifest } from '../../core/model-store.js';
import type { FitOptions, FitReport, ImageSample, ScoreResult } from '../../core/types.js';
import { initEngine } from '../../engine/backend.js';
import {
  checkAgainstModel,
  EXECUTION_PROVIDERS,
  externalInputSchema,
  externalOutputSchema,
  mapsFromOutput,
  OrtSession,
  prepareInput,
  scoresFromOutput,
  toNhwc,
  type ExecutionProvider,
  type ExternalInputSpec,
  type ExternalOutputSpec,
  type FloatTensor,
} from '../../engine/onnx/index.js';
import { aggregateMap, gaussianBlur, type MapAggregate } from '../../scoring/maps.js';
import { PostProcessor, type ThresholdSpec } from '../../scoring/postprocess.js';
import { pixelErrorMap } from '../../scoring/reconstruction.js';

export const MODEL_FILE = 'model.onnx';

export interface OnnxExternalConfig {
  /** Path of the .onnx file to serve (needed until the detector is saved; a loaded folder uses its own model.onnx). */
  model?: string;
  input: ExternalInputSpec;
  output: ExternalOutputSpec;
  aggregate: MapAggregate;
  topk: number;
  blurSigma: number;
  /** Images per run when the model's batch is open. */
  batchSize: number;
  /** Threshold in raw score units from the model's author; otherwise fitted on normal images. */
  fixedThreshold?: number;
  threshold: ThresholdSpec;
  intraOpThreads?: number;
  executionProviders?: ExecutionProvider[];
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['input', 'output'],
  properties: {
    model: { type: 'string', minLength: 1 },
    input: externalInputSchema,
    output: externalOutputSchema,
    aggregate: { enum: ['mean', 'max', 'topk'], default: 'mean' },
    topk: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.01 },
    blurSigma: { type: 'number', minimum: 0, maximum: 32, default: 0 },
    batchSize: { type: 'integer', minimum: 1, maximum: 4096, default: 32 },
    fixedThreshold: { type: 'number' },
    threshold: thresholdSchema,
    intraOpThreads: { type: 'integer', minimum: 1, maximum: 256 },
    executionProviders: { type: 'array', minItems: 1, items: { enum: EXECUTION_PROVIDERS } },
  },
} as const;

interface Loaded {
  session: OrtSession;
  bytes: Uint8Array;
  inputName: string;
  outputName: string;
}

class OnnxExternalDetector extends BaseDetector<ImageSample, OnnxExternalConfig> {
  readonly kind = 'onnx';
  readonly inputKind = 'image' as const;
  private loaded: Loaded | null = null;
  private opening: Promise<Loaded> | null = null;

  constructor(config: Readonly<OnnxExternalConfig>, postprocess?: PostProcessor, report?: FitReport | null) {
    super(config, postprocess, report);
    if (config.fixedThreshold !== undefined && !this.postprocess.fitted) this.postprocess.setThreshold(config.fixedThreshold, 'manual');
  }

  /** Opens `bytes` on ORT and checks them against the description. */
  async open(bytes: Uint8Array, where: string): Promise<Loaded> {
    const c = this.config;
    const session = await OrtSession.create(bytes, where, {
      ...(c.intraOpThreads !== undefined ? { intraOpThreads: c.intraOpThreads } : {}),
      ...(c.executionProviders !== undefined ? { executionProviders: c.executionProviders } : {}),
    });
    try {
      const names = checkAgainstModel({ input: c.input, output: c.output }, session.info, where);
      this.loaded = { session, bytes, inputName: names.input, outputName: names.output };
      return this.loaded;
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  private async ensureLoaded(): Promise<Loaded> {
    if (this.loaded) return this.loaded;
    const file = this.config.model;
    if (!file) throw new VigilError('E_CONFIG', "onnx detector: config.model (the .onnx file to serve) is missing", { field: 'model' });
    this.opening ??= readFile(file)
      .catch((e: NodeJS.ErrnoException) => {
        throw new VigilError(e.code === 'ENOENT' ? 'E_NOT_FOUND' : 'E_IO', `${file}: cannot read the ONNX model (${e.code ?? e.message})`, { path: file, field: 'model' });
      })
      .then((bytes) => this.open(new Uint8Array(bytes), file))
      .finally(() => {
        this.opening = null;
      });
    return this.opening;
  }

  override async fit(train: ImageSample[], opts: FitOptions<ImageSample> = {}): Promise<FitReport> {
    const report = await super.fit(train, opts);
    if (this.config.fixedThreshold !== undefined) this.postprocess.setThreshold(this.config.fixedThreshold, 'manual');
    return report;
  }

  /** Nothing to train: the normal images are scored for the label-free threshold. */
  protected async train(samples: ImageSample[]): Promise<FitReport> {
    const t0 = performance.now();
    const scores = (await this.score(samples)).map((r) => r.score);
    return {
      epochs: 0,
      bestEpoch: 0,
      stoppedEarly: false,
      history: [],
      trainSeconds: (performance.now() - t0) / 1000,
      trainSamples: 0,
      validationSamples: samples.length,
      validationScores: scores,
    };
  }

  async score(batch: ImageSample[]): Promise<ScoreResult[]> {
    const m = await this.ensureLoaded();
    const c = this.config;
    const where = m.session.what;
    const step = c.input.batch ?? c.batchSize;
    const results: ScoreResult[] = [];
    if (c.output.kind === 'reconstruction') await initEngine();
    for (let start = 0; start < batch.length; start += step) {
      const part = batch.slice(start, start + step);
      const x = prepareInput(part, c.input, c.input.batch ?? part.length, where);
      const out = (await m.session.run({ [m.inputName]: x }))[m.outputName]!;
      results.push(...(await this.results(part, x, out, where)));
    }
    return results;
  }

  private async results(part: ImageSample[], x: FloatTensor, out: FloatTensor, where: string): Promise<ScoreResult[]> {
    const c = this.config;
    if (c.output.kind === 'score') {
      return scoresFromOutput(out, part.length, where).map((score) => ({ score, reason: { summary: `model score ${score.toPrecision(4)}` } }));
    }
    const layout = c.output.layout ?? c.input.layout;
    let maps: { height: number; width: number; maps: Float32Array[] };
    if (c.output.kind === 'map') {
      maps = mapsFromOutput(out, layout, part.length, where);
    } else {
      if (out.data.length !== x.data.length) {
        throw new VigilError('E_SHAPE', `${where}: the reconstruction has shape [${out.shape.join(', ')}], the input [${x.shape.join(', ')}]`, { field: 'output.kind' });
      }
      const xs = toNhwc(x, c.input.layout);
      const rs = toNhwc({ data: out.data, shape: x.shape }, layout);
      const values = tf.tidy(() => pixelErrorMap(tf.tensor4d(xs.data, xs.shape as [number, number, number, number]), tf.tensor4d(rs.data, rs.shape as [number, number, number, number]), c.output.loss ?? 'mse'));
      const data = (await values.data()) as Float32Array;
      values.dispose();
      const [, h, w] = xs.shape as [number, number, number, number];
      maps = { height: h, width: w, maps: part.map((_, i) => data.slice(i * h * w, (i + 1) * h * w)) };
    }
    return maps.maps.map((raw) => {
      const map = c.blurSigma > 0 ? gaussianBlur(raw, maps.height, maps.width, c.blurSigma) : raw;
      const score = aggregateMap(map, c.aggregate, c.topk);
      const what = c.output.kind === 'reconstruction' ? `reconstruction ${c.output.loss ?? 'mse'}` : 'model map';
      return { score, map: { height: maps.height, width: maps.width, values: map }, reason: { summary: `${what} ${c.aggregate} ${score.toPrecision(4)}` } };
    });
  }

  protected async artifacts(): Promise<DetectorArtifacts> {
    const m = await this.ensureLoaded();
    const { height, width, channels } = this.config.input;
    return {
      input: { height, width, channels },
      preprocess: { layout: this.config.input.layout, scaling: this.config.input.scaling },
      state: { inputName: m.inputName, outputName: m.outputName },
      files: { [MODEL_FILE]: m.bytes },
    };
  }

  override summary() {
    const { height, width, channels } = this.config.input;
    return { ...super.summary(), input: { height, width, channels } };
  }

  dispose(): void {
    const m = this.loaded;
    this.loaded = null;
    if (m) void m.session.release().catch(() => undefined);
  }
}

export const onnxExternalFactory: DetectorFactory<ImageSample> = {
  kind: 'onnx',
  inputKind: 'image',
  description: 'an ONNX image model trained elsewhere, served on ONNX Runtime (reconstruction error, map or score)',
  create: (raw) => new OnnxExternalDetector(validateConfig<OnnxExternalConfig>(schema, raw, 'onnx config')),
  load: async (manifest: Manifest, files, dir) => {
    const config = validateConfig<OnnxExternalConfig>(schema, manifest.config, `${dir}: config`);
    const bytes = files[MODEL_FILE];
    if (!bytes) throw new VigilError('E_MODEL_CORRUPT', `${dir}: ${MODEL_FILE} is not listed in the manifest`, { path: dir });
    const d = new OnnxExternalDetector(config, PostProcessor.fromJSON(manifest.postprocess, dir), manifest.training as unknown as FitReport | null);
    await d.open(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), `${dir}/${MODEL_FILE}`);
    return d;
  },
};
registerDetector(onnxExternalFactory);
