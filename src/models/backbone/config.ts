/**
 * Config keys shared by the pretrained-feature detectors (PaDiM, PatchCore): which backbone and
 * taps, the input size and scaling, batching, the validation split for thresholds, and map
 * smoothing. Each detector's JSON schema spreads these properties and adds its own.
 */
import { thresholdSchema } from '../../core/config.js';
import type { ThresholdSpec } from '../../scoring/postprocess.js';
import { BACKBONE_SCALINGS, type BackboneScaling } from './input.js';
import { resolveBackboneSource } from './source.js';

export interface FeatureDetectorConfig {
  /** Backbone folder (absolute) or http(s) URL; the shared MobileNet v1 unless given. */
  backbone: string;
  /** Layer names tapped for features, in order. */
  taps: string[];
  /** Input (H, W) the backbone runs at; images are decoded at this size. */
  height: number;
  width: number;
  /** Channels images are decoded with (grey images are repeated to RGB for the backbone). */
  channels: 1 | 3;
  scaling: BackboneScaling;
  /** Per-image contrast standardisation before the backbone. */
  standardise: boolean;
  /** Reflected border (pixels per side) added before the backbone and cropped from the taps. */
  padding: number;
  /** Images per backbone forward pass. */
  batchSize: number;
  /** Input pixels per feature-grid cell; 0 = the grid of the reference tap. */
  gridStride: number;
  /** Fraction of the normal images held out to fit the thresholds. */
  validationSplit: number;
  seed: number;
  /** Gaussian smoothing (pixels, at input size) of anomaly maps. */
  blurSigma: number;
  /** Quantile of held-out normal map values used as the pixel threshold for boxes. */
  pixelQuantile: number;
  threshold: ThresholdSpec;
}

/** JSON-schema properties of {@link FeatureDetectorConfig}, with a detector's own defaults. */
export function featureConfigProperties(defaults: { taps: readonly string[]; gridStride: number; standardise: boolean; padding: number }) {
  return {
    backbone: { type: 'string', minLength: 1 },
    taps: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: 8, default: [...defaults.taps] },
    height: { type: 'integer', minimum: 8, maximum: 2048, default: 224 },
    width: { type: 'integer', minimum: 8, maximum: 2048, default: 224 },
    channels: { enum: [1, 3], default: 3 },
    scaling: { enum: BACKBONE_SCALINGS, default: 'tf' },
    standardise: { type: 'boolean', default: defaults.standardise },
    padding: { type: 'integer', minimum: 0, maximum: 512, default: defaults.padding },
    batchSize: { type: 'integer', minimum: 1, maximum: 256, default: 8 },
    gridStride: { type: 'integer', minimum: 0, maximum: 256, default: defaults.gridStride },
    validationSplit: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.1 },
    seed: { type: 'integer', default: 0 },
    blurSigma: { type: 'number', minimum: 0, maximum: 64, default: 4 },
    pixelQuantile: { type: 'number', minimum: 0.5, maximum: 1, default: 0.999 },
    threshold: thresholdSchema,
  } as const;
}

/** The raw config with `backbone` resolved (default backbone, absolute path), ready to validate. */
export function withResolvedBackbone(raw: Record<string, unknown> | undefined): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...(raw ?? {}) };
  const b = copy.backbone;
  if (b === undefined || b === null || typeof b === 'string') copy.backbone = resolveBackboneSource(b as string | null | undefined);
  return copy;
}
