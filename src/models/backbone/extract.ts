/**
 * Batched feature extraction: a loaded backbone with its taps, run over image samples a batch at a
 * time, each batch's tap activations turned into one embedding tensor by the caller and handed back
 * as plain values. Tensors never outlive their batch; progress goes to a ProgressSink.
 *
 * The tap network runs on ONNX Runtime by default: it is exported once when the extractor opens
 * (src/engine/onnx, checked against TF.js on a random batch) and TF.js stays the fallback when the
 * export, the check or ORT fails, or when TF.js is asked for (`inference.backend` / VIGIL_INFERENCE).
 * ORT runs MobileNet v1 about 6x faster than the wasm backend on these machines (bench/speed.ts).
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { VigilError } from '../../core/errors.js';
import type { ImageSample, ProgressSink } from '../../core/types.js';
import { NetworkEngines, type EngineReport, type InferenceEngine, type InferenceOptions } from '../../engine/onnx/index.js';
import { backboneInput, reflectPad, type BackboneScaling } from './input.js';
import { loadBackbone, type LoadedBackbone } from './loader.js';
import { createTapModel, type TapShape } from './taps.js';

/** What a detector's config says about its backbone. */
export interface BackboneSettings {
  /** Folder, model.json path or http(s) URL. */
  backbone: string;
  /** Layer names whose activations are used, in order. */
  taps: readonly string[];
  /** Size the backbone runs at (the images' size). */
  height: number;
  width: number;
  scaling: BackboneScaling;
  /** Per-image contrast standardisation before scaling (see input.ts). */
  standardise: boolean;
  /**
   * Pixels of reflected border added on each side before the backbone runs, and cropped from the
   * taps afterwards: border cells then see image content instead of the convolutions' zero padding.
   * Must be a multiple of every tap's stride.
   */
  padding: number;
  /** Images per forward pass. */
  batchSize: number;
}

export interface ExtractOptions {
  progress?: ProgressSink;
  /** Progress label. */
  label?: string;
  signal?: AbortSignal;
}

/**
 * Maps one batch's tap activations, taps[i] = (B, h_i, w_i, c_i), to an embedding tensor whose
 * first axis is the batch. Runs inside tf.tidy.
 */
export type EmbedFn = (taps: tf.Tensor4D[]) => tf.Tensor;

/** Receives one batch's embedding values (row-major, batch first) and the batch's place in the input. */
export type ConsumeFn = (values: Float32Array, offset: number, count: number) => void | Promise<void>;

/** Cells cropped from each side of a tap computed on a padded input: (top/bottom, left/right). */
interface TapCrop {
  y: number;
  x: number;
}

/** The crop that removes `padding` input pixels from a tap of a padded input, or E_CONFIG. */
function tapCrop(tap: TapShape, padding: number, paddedHeight: number, paddedWidth: number): TapCrop {
  const y = (padding * tap.height) / paddedHeight;
  const x = (padding * tap.width) / paddedWidth;
  if (!Number.isInteger(y) || !Number.isInteger(x)) {
    const stride = Math.round(paddedHeight / tap.height);
    throw new VigilError('E_CONFIG', `config.padding: ${padding} px is not a whole number of cells of tap "${tap.name}" (stride ${stride} px); use a multiple of ${stride}, or 0`, {
      field: 'padding',
      value: padding,
    });
  }
  return { y, x };
}

export class FeatureExtractor {
  private constructor(
    readonly settings: Readonly<BackboneSettings>,
    private readonly backbone: LoadedBackbone,
    private readonly crops: readonly TapCrop[],
    /** The taps' grids for the unpadded image. */
    readonly taps: readonly TapShape[],
    private readonly engines: NetworkEngines<'taps'>,
  ) {}

  /**
   * Loads the backbone and builds its taps (E_BACKBONE / E_SHAPE / E_CONFIG on any problem), then
   * opens the tap network on ONNX Runtime (see the module comment; `inference` overrides the
   * engine defaults, e.g. `{ backend: 'tfjs' }` or `{ intraOpThreads: 1 }`).
   */
  static async open(settings: BackboneSettings, inference: InferenceOptions = {}): Promise<FeatureExtractor> {
    const p = settings.padding;
    if (p >= settings.height || p >= settings.width) {
      throw new VigilError('E_CONFIG', `config.padding: ${p} px must be smaller than the image (${settings.height}x${settings.width})`, { field: 'padding', value: p });
    }
    const backbone = await loadBackbone(settings.backbone, { height: settings.height + 2 * p, width: settings.width + 2 * p });
    try {
      if (backbone.input.channels !== 3) {
        throw new VigilError('E_BACKBONE', `backbone ${backbone.source}: takes ${backbone.input.channels}-channel input; vigil feeds RGB (3 channels)`, {
          path: backbone.source,
        });
      }
      const tapModel = createTapModel(backbone, settings.taps);
      const crops = tapModel.taps.map((t) => tapCrop(t, p, backbone.input.height, backbone.input.width));
      const taps = tapModel.taps.map((t, i) => ({ ...t, height: t.height - 2 * crops[i]!.y, width: t.width - 2 * crops[i]!.x }));
      // A backbone's convolutions are large enough to gain from a second ORT thread (vigil's small
      // autoencoders are not, hence the global default of 1); VIGIL_ORT_THREADS or `inference` override it.
      const threads = process.env.VIGIL_ORT_THREADS ? {} : { intraOpThreads: Math.min(2, os.availableParallelism()) };
      const engines = await NetworkEngines.export({ taps: tapModel.model }, { ...threads, ...inference });
      return new FeatureExtractor(settings, backbone, crops, taps, engines);
    } catch (e) {
      backbone.model.dispose();
      throw e;
    }
  }

  /**
   * Samples → the taps' activations for the unpadded image, taps[i] (N, h_i, w_i, c_i), as host
   * buffers from whichever engine runs the taps.
   */
  private async activations(samples: readonly ImageSample[]): Promise<{ data: Float32Array; shape: number[] }[]> {
    const { height, width, scaling, standardise, padding: p } = this.settings;
    const n = samples.length;
    const input = reflectPad(backboneInput(samples, height, width, scaling, standardise), n, height, width, 3, p);
    const outs = await this.engine.runAll(input, [n, height + 2 * p, width + 2 * p, 3]);
    if (outs.length !== this.taps.length) {
      throw new VigilError('E_BACKBONE', `backbone ${this.source}: the tap network gave ${outs.length} outputs for ${this.taps.length} taps`, { path: this.source });
    }
    return outs;
  }

  /** Cropped tap tensors of one batch (call inside tf.tidy). */
  private tapTensors(outs: readonly { data: Float32Array; shape: number[] }[]): tf.Tensor4D[] {
    return outs.map((o, i) => {
      const t = tf.tensor4d(o.data, o.shape as [number, number, number, number]);
      const c = this.crops[i]!;
      return c.y === 0 && c.x === 0 ? t : tf.slice(t, [0, c.y, c.x, 0], [-1, this.taps[i]!.height, this.taps[i]!.width, -1]);
    });
  }

  private get engine(): InferenceEngine {
    return this.engines.engine('taps');
  }

  /** Where the taps run ("onnxruntime [cpu], 1 thread(s)" or "tfjs (wasm)") and, for TF.js, why. */
  get engineReport(): EngineReport {
    return this.engines.report().taps;
  }

  /** Where the backbone was loaded from (absolute folder or URL). */
  get source(): string {
    return this.backbone.source;
  }

  /**
   * Runs the backbone over `samples`, `settings.batchSize` at a time: for each batch, `embed` turns
   * the tap activations into one tensor (inside tf.tidy) and `consume` receives its values.
   */
  async forEachBatch(samples: readonly ImageSample[], embed: EmbedFn, consume: ConsumeFn, opts: ExtractOptions = {}): Promise<void> {
    const batchSize = Math.max(1, this.settings.batchSize);
    const { progress, signal } = opts;
    progress?.start(samples.length, opts.label ?? 'extracting features');
    try {
      for (let start = 0; start < samples.length; start += batchSize) {
        signal?.throwIfAborted();
        const part = samples.slice(start, start + batchSize);
        const acts = await this.activations(part);
        const out = tf.tidy(() => embed(this.tapTensors(acts)));
        let values: Float32Array;
        try {
          values = (await out.data()) as Float32Array;
        } finally {
          out.dispose();
        }
        await consume(values, start, part.length);
        progress?.update(start + part.length);
      }
    } finally {
      progress?.stop();
    }
  }

  /** Frees the ORT session and the backbone's weights (the tap model shares the backbone's layers and owns none). */
  dispose(): void {
    this.engines.dispose();
    this.backbone.model.dispose();
  }
}
