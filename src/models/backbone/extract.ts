/**
 * Batched feature extraction: a loaded backbone with its taps, run over image samples a batch at a
 * time, each batch's tap activations turned into one embedding tensor by the caller and handed back
 * as plain values. Tensors never outlive their batch; progress goes to a ProgressSink.
 */
import * as tf from '@tensorflow/tfjs-core';
import { VigilError } from '../../core/errors.js';
import type { ImageSample, ProgressSink } from '../../core/types.js';
import { backboneBatch, type BackboneScaling } from './input.js';
import { loadBackbone, type LoadedBackbone } from './loader.js';
import { createTapModel, type TapModel, type TapShape } from './taps.js';

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

export class FeatureExtractor {
  private constructor(
    readonly settings: Readonly<BackboneSettings>,
    private readonly backbone: LoadedBackbone,
    private readonly tapModel: TapModel,
  ) {}

  /** Loads the backbone and builds its taps (E_BACKBONE / E_SHAPE on any problem). */
  static async open(settings: BackboneSettings): Promise<FeatureExtractor> {
    const backbone = await loadBackbone(settings.backbone, { height: settings.height, width: settings.width });
    try {
      if (backbone.input.channels !== 3) {
        throw new VigilError('E_BACKBONE', `backbone ${backbone.source}: takes ${backbone.input.channels}-channel input; vigil feeds RGB (3 channels)`, {
          path: backbone.source,
        });
      }
      return new FeatureExtractor(settings, backbone, createTapModel(backbone, settings.taps));
    } catch (e) {
      backbone.model.dispose();
      throw e;
    }
  }

  /** The taps' activation grids, in config order. */
  get taps(): readonly TapShape[] {
    return this.tapModel.taps;
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
    const { height, width, scaling } = this.settings;
    const batchSize = Math.max(1, this.settings.batchSize);
    const { progress, signal } = opts;
    progress?.start(samples.length, opts.label ?? 'extracting features');
    try {
      for (let start = 0; start < samples.length; start += batchSize) {
        signal?.throwIfAborted();
        const part = samples.slice(start, start + batchSize);
        const out = tf.tidy(() => {
          const x = backboneBatch(part, height, width, scaling);
          const raw = this.tapModel.model.predict(x);
          return embed((Array.isArray(raw) ? raw : [raw]) as tf.Tensor4D[]);
        });
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

  /** Frees the backbone's weights (the tap model shares the backbone's layers and owns none). */
  dispose(): void {
    this.backbone.model.dispose();
  }
}
