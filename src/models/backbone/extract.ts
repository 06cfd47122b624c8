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
    private readonly tapModel: TapModel,
    private readonly crops: readonly TapCrop[],
    /** The taps' grids for the unpadded image. */
    readonly taps: readonly TapShape[],
  ) {}

  /** Loads the backbone and builds its taps (E_BACKBONE / E_SHAPE / E_CONFIG on any problem). */
  static async open(settings: BackboneSettings): Promise<FeatureExtractor> {
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
      return new FeatureExtractor(settings, backbone, tapModel, crops, taps);
    } catch (e) {
      backbone.model.dispose();
      throw e;
    }
  }

  /**
   * (N, H, W, 3) batch → the taps' activations for the unpadded image, taps[i] (N, h_i, w_i, c_i).
   * Call inside tf.tidy.
   */
  private activations(x: tf.Tensor4D): tf.Tensor4D[] {
    const p = this.settings.padding;
    const input = p > 0 ? tf.mirrorPad(x, [[0, 0], [p, p], [p, p], [0, 0]], 'reflect') : x;
    const raw = this.tapModel.model.predict(input);
    const outs = (Array.isArray(raw) ? raw : [raw]) as tf.Tensor4D[];
    return outs.map((t, i) => {
      const c = this.crops[i]!;
      return c.y === 0 && c.x === 0 ? t : tf.slice(t, [0, c.y, c.x, 0], [-1, this.taps[i]!.height, this.taps[i]!.width, -1]);
    });
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
    const { height, width, scaling, standardise } = this.settings;
    const batchSize = Math.max(1, this.settings.batchSize);
    const { progress, signal } = opts;
    progress?.start(samples.length, opts.label ?? 'extracting features');
    try {
      for (let start = 0; start < samples.length; start += batchSize) {
        signal?.throwIfAborted();
        const part = samples.slice(start, start + batchSize);
        const out = tf.tidy(() => embed(this.activations(backboneBatch(part, height, width, scaling, standardise))));
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
