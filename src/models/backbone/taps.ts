/**
 * Feature taps: a multi-output view of a backbone that returns the activations of named layers,
 * `tfl.model({inputs, outputs: taps.map(name => model.getLayer(name).output)})`.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { VigilError } from '../../core/errors.js';
import type { LoadedBackbone } from './loader.js';

/** One tap's activation grid: (N, height, width, channels). */
export interface TapShape {
  name: string;
  height: number;
  width: number;
  channels: number;
}

/** The multi-output network and its taps' shapes, in the order asked for. */
export interface TapModel {
  model: tfl.LayersModel;
  taps: TapShape[];
  /** Input (H, W, C). */
  input: { height: number; width: number; channels: number };
}

/** Layers whose output is an image batch (N, H, W, C): the layers that can be tapped. */
export function tappableLayers(model: tfl.LayersModel): string[] {
  return model.layers.filter((l) => isImageShape(l.outputShape)).map((l) => l.name);
}

function isImageShape(shape: unknown): shape is (number | null)[] {
  return Array.isArray(shape) && shape.length === 4 && !Array.isArray(shape[0]);
}

/** A few valid names, those sharing the longest prefix with `wanted` first. */
function suggestions(wanted: string, names: string[], count = 6): string[] {
  const common = (a: string, b: string): number => {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return i;
  };
  return [...names].sort((a, b) => common(wanted, b) - common(wanted, a)).slice(0, count);
}

/**
 * Builds the tap model. Throws E_BACKBONE for an empty tap list, a name that is not a layer (listing
 * a few valid ones), or a layer whose output is not (N, H, W, C); E_SHAPE when the input is so small
 * that a tap's grid would be under 2x2.
 */
export function createTapModel(backbone: LoadedBackbone, taps: readonly string[]): TapModel {
  const { model, source } = backbone;
  if (taps.length === 0) throw new VigilError('E_BACKBONE', `backbone ${source}: no feature taps given (config.taps is empty)`, { field: 'taps' });
  const valid = tappableLayers(model);
  const shapes: TapShape[] = [];
  const outputs: tfl.SymbolicTensor[] = [];
  for (const name of taps) {
    let layer;
    try {
      layer = model.getLayer(name);
    } catch {
      throw new VigilError(
        'E_BACKBONE',
        `backbone ${source}: no layer named "${name}" (config.taps); layers that can be tapped include ${suggestions(name, valid).join(', ')} (${valid.length} in all)`,
        { field: 'taps', value: name, valid: valid.slice(0, 50) },
      );
    }
    const shape = layer.outputShape;
    if (!isImageShape(shape)) {
      throw new VigilError('E_BACKBONE', `backbone ${source}: layer "${name}" outputs ${JSON.stringify(shape)}, not an image grid (N, H, W, C)`, { field: 'taps', value: name });
    }
    const [, h, w, c] = shape;
    if (typeof h !== 'number' || typeof w !== 'number' || typeof c !== 'number') {
      throw new VigilError('E_BACKBONE', `backbone ${source}: layer "${name}" has an open output size ${JSON.stringify(shape)}`, { field: 'taps', value: name });
    }
    if (h < 2 || w < 2) {
      const { height, width } = backbone.input;
      const minH = Math.ceil(height / h) * 2;
      const minW = Math.ceil(width / w) * 2;
      throw new VigilError(
        'E_SHAPE',
        `input ${height}x${width} is too small for backbone ${source}: tap "${name}" would be a ${h}x${w} grid; use at least ${minH}x${minW}`,
        { field: 'height', value: height, tap: name },
      );
    }
    shapes.push({ name, height: h, width: w, channels: c });
    outputs.push(layer.output as tfl.SymbolicTensor);
  }
  const tapModel = tfl.model({ inputs: model.inputs, outputs, name: `${model.name}_taps` });
  return { model: tapModel, taps: shapes, input: backbone.input };
}
