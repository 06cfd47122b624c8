/** Layer converters by TF.js class name. */
import { CONV_CONVERTERS } from './conv.js';
import { CORE_CONVERTERS } from './core.js';
import { MERGE_CONVERTERS } from './merge.js';
import { SPATIAL_CONVERTERS } from './spatial.js';
import type { LayerConverter } from './types.js';

export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = Object.freeze({
  ...CONV_CONVERTERS,
  ...CORE_CONVERTERS,
  ...SPATIAL_CONVERTERS,
  ...MERGE_CONVERTERS,
});

/** TF.js layer class names the exporter converts. */
export function exportableLayerClasses(): string[] {
  return Object.keys(LAYER_CONVERTERS).sort();
}

export { SUPPORTED_ACTIVATIONS } from './activations.js';
export type { LayerContext, LayerConverter, LayerWeight } from './types.js';
