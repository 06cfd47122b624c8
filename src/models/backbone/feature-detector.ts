/**
 * The lifecycle shared by detectors on pretrained CNN features (PaDiM, PatchCore): the backbone is
 * opened once and kept; `train` holds out normal images, fits the detector's model on the rest,
 * then scores the held-out ones for the image threshold (the base class) and the pixel threshold
 * for boxes; `score` turns each image's patch-score grid into a smoothed full-size anomaly map with
 * boxes and a one-line reason. A detector supplies how it fits and how it scores patches.
 */
import { BaseDetector, type DetectorSummary } from '../../core/detector.js';
import { VigilError } from '../../core/errors.js';
import type { FitOptions, FitReport, ImageSample, ScoreResult } from '../../core/types.js';
import { trainValidationSplit } from '../../data/split.js';
import { aggregateMap } from '../../scoring/maps.js';
import type { PostProcessor } from '../../scoring/postprocess.js';
import { describeRegions, mapBoxes, patchScoresToMap, pixelThresholdFromMaps } from '../components/localisation.js';
import type { FeatureDetectorConfig } from './config.js';
import { FeatureExtractor, type ExtractOptions } from './extract.js';

/** One image's patch scores: an (h, w) grid, and the image score when the detector has its own. */
export interface PatchScores {
  grid: Float32Array;
  /** Null: the image score is the maximum of the smoothed full-size map. */
  score: number | null;
}

export interface PatchScoreBatch {
  height: number;
  width: number;
  items: PatchScores[];
}

export abstract class FeatureDetector<C extends FeatureDetectorConfig> extends BaseDetector<ImageSample, C> {
  readonly inputKind = 'image' as const;
  protected extractor: FeatureExtractor | null = null;
  protected pixelThreshold: number | null = null;

  protected constructor(config: Readonly<C>, postprocess?: PostProcessor, report?: FitReport | null) {
    super(config, postprocess, report);
  }

  /** True once the model can score. */
  protected abstract get fitted(): boolean;
  /** Fits the model on normal training images. */
  protected abstract fitModel(train: ImageSample[], extractor: FeatureExtractor, opts: FitOptions<ImageSample>): Promise<void>;
  /** Patch scores of each sample, in order. */
  protected abstract scorePatches(samples: ImageSample[], extractor: FeatureExtractor, opts: ExtractOptions): Promise<PatchScoreBatch>;
  /**
   * Patch scores of the held-out normal images the thresholds are fitted on. A detector that learns
   * something from them (e.g. per-position statistics) overrides this and must return scores that
   * are not biased by that learning. `heldOut` is false when there was no validation split and
   * these are the training images.
   */
  protected calibrate(samples: ImageSample[], extractor: FeatureExtractor, opts: ExtractOptions, _heldOut: boolean): Promise<PatchScoreBatch> {
    return this.scorePatches(samples, extractor, opts);
  }
  /** What the score is, for reasons ("PatchCore nearest-neighbour distance"...). */
  protected abstract readonly scoreName: string;
  /** Frees the model's own engine memory (not the backbone). */
  protected abstract disposeModel(): void;

  /** The backbone with its taps, loaded on first use. */
  protected async openExtractor(): Promise<FeatureExtractor> {
    this.extractor ??= await FeatureExtractor.open(this.config);
    return this.extractor;
  }

  /**
   * Opens the backbone of a model being loaded from `dir`; a missing or broken backbone becomes an
   * E_BACKBONE error that names the model, the config key and the backbone's path.
   */
  protected async attachBackbone(dir: string): Promise<void> {
    try {
      await this.openExtractor();
    } catch (e) {
      if (e instanceof VigilError && (e.code === 'E_BACKBONE' || e.code === 'E_SHAPE')) {
        throw new VigilError(e.code, `${dir}: the model's backbone (config.backbone = ${this.config.backbone}) cannot be used: ${e.message}`, { ...e.details, model: dir, field: 'backbone' }, { cause: e });
      }
      throw e;
    }
  }

  protected async train(samples: ImageSample[], opts: FitOptions<ImageSample>): Promise<FitReport> {
    const c = this.config;
    const seed = opts.seed ?? c.seed;
    const split = trainValidationSplit(samples, opts.validationSplit ?? c.validationSplit, seed);
    const t0 = performance.now();
    const extractor = await this.openExtractor();
    this.pixelThreshold = null;
    await this.fitModel(split.train, extractor, opts);
    // Threshold material: held-out normal images, or the training images when there are none.
    const heldOut = split.validation.length > 0;
    const calibration = heldOut ? split.validation : split.train;
    const extractOpts = { progress: opts.progress, label: 'scoring held-out normal images', signal: opts.signal };
    const scored = this.toResults(await this.calibrate(calibration, extractor, extractOpts, heldOut), false);
    const trainSeconds = (performance.now() - t0) / 1000;
    this.pixelThreshold = pixelThresholdFromMaps(
      scored.map((s) => s.map!),
      c.pixelQuantile,
    );
    return {
      epochs: 1,
      bestEpoch: 1,
      stoppedEarly: false,
      history: [],
      trainSeconds,
      trainSamples: split.train.length,
      validationSamples: split.validation.length,
      validationScores: scored.map((s) => s.score),
    };
  }

  async score(batch: ImageSample[]): Promise<ScoreResult[]> {
    return this.scoreInternal(batch, true, {});
  }

  private async scoreInternal(batch: ImageSample[], withBoxes: boolean, opts: ExtractOptions): Promise<ScoreResult[]> {
    if (!this.fitted) throw new VigilError('E_NOT_FITTED', `${this.kind}: the model is not trained`);
    if (batch.length === 0) return [];
    const extractor = await this.openExtractor();
    return this.toResults(await this.scorePatches(batch, extractor, opts), withBoxes);
  }

  /** Patch grids → full-size smoothed maps, image scores, boxes and reasons. */
  private toResults(patches: PatchScoreBatch, withBoxes: boolean): ScoreResult[] {
    const { height: H, width: W, blurSigma } = this.config;
    return patches.items.map((p) => {
      const map = patchScoresToMap(p.grid, patches.height, patches.width, H, W, blurSigma);
      const score = p.score ?? aggregateMap(map.values, 'max');
      const boxes = withBoxes ? mapBoxes(map, this.pixelThreshold) : [];
      return { score, map, reason: { summary: describeRegions(this.scoreName, score, boxes), boxes } };
    });
  }

  override summary(): DetectorSummary {
    const c = this.config;
    return { ...super.summary(), input: { height: c.height, width: c.width, channels: c.channels } };
  }

  dispose(): void {
    this.disposeModel();
    this.extractor?.dispose();
    this.extractor = null;
  }
}
