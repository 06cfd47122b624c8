/**
 * Serving an ONNX model trained elsewhere (PyTorch, Keras, ...): the description a user writes of
 * its input and output, its check against the model's own signature, and the two data transforms
 * around a run: images in [0, 1] → the model's input tensor, and the model's output → per-image
 * anomaly maps or scores.
 *
 * Description (JSON, the `onnx` detector's config):
 *   input:  { name?, layout: 'NCHW' | 'NHWC', height, width, channels: 1 | 3,
 *             scaling: 'unit' ([0, 1]) | 'tf' ([-1, 1]) | 'imagenet' | 'custom' (mean/std per channel), batch? }
 *   output: { kind: 'reconstruction', loss: 'mse' | 'l1' | 'ssim' | 'mse+ssim' }  error of the output against the fed input
 *         | { kind: 'map' }    an (N, H', W') / (N, 1, H', W') / (N, H', W', 1) anomaly map per image
 *         | { kind: 'score' }  one score per image, (N) or (N, 1)
 *           with optional name and layout (of reconstructions and maps; default the input's layout).
 */
import { VigilError } from '../../core/errors.js';
import type { ImageSample } from '../../core/types.js';
import { RECONSTRUCTION_LOSSES, type ReconstructionLoss } from '../../scoring/reconstruction.js';
import type { FloatTensor, OrtSessionInfo } from './runtime.js';

export type TensorLayout = 'NCHW' | 'NHWC';
export type InputScaling = 'unit' | 'tf' | 'imagenet' | 'custom';
export type OutputKind = 'reconstruction' | 'map' | 'score';

export interface ExternalInputSpec {
  /** Graph input name; default the model's first input. */
  name?: string;
  layout: TensorLayout;
  height: number;
  width: number;
  channels: 1 | 3;
  scaling: InputScaling;
  /** 'custom' scaling: x' = (x − mean[c]) / std[c], x in [0, 1]. */
  mean?: number[];
  std?: number[];
  /** Batch size the graph is fixed to (e.g. 1 for a PyTorch export without dynamic axes); omit when open. */
  batch?: number;
}

export interface ExternalOutputSpec {
  kind: OutputKind;
  /** Graph output name; default the model's first output. */
  name?: string;
  /** Layout of a reconstruction or map with a channel axis; default the input's layout. */
  layout?: TensorLayout;
  /** Reconstruction error (kind 'reconstruction'); default 'mse'. */
  loss?: ReconstructionLoss;
}

export interface ExternalModelSpec {
  input: ExternalInputSpec;
  output: ExternalOutputSpec;
}

/** JSON schema fragments for a detector config holding `input` and `output`. */
export const externalInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['height', 'width'],
  properties: {
    name: { type: 'string', minLength: 1 },
    layout: { enum: ['NCHW', 'NHWC'], default: 'NCHW' },
    height: { type: 'integer', minimum: 1, maximum: 8192 },
    width: { type: 'integer', minimum: 1, maximum: 8192 },
    channels: { enum: [1, 3], default: 3 },
    scaling: { enum: ['unit', 'tf', 'imagenet', 'custom'], default: 'unit' },
    mean: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 3 },
    std: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1, maxItems: 3 },
    batch: { type: 'integer', minimum: 1, maximum: 65536 },
  },
} as const;

export const externalOutputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { enum: ['reconstruction', 'map', 'score'] },
    name: { type: 'string', minLength: 1 },
    layout: { enum: ['NCHW', 'NHWC'] },
    loss: { enum: RECONSTRUCTION_LOSSES, default: 'mse' },
  },
} as const;

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Per-channel (scale, shift) so that x' = x · scale + shift. */
function affine(spec: ExternalInputSpec, where: string): { scale: number[]; shift: number[] } {
  const c = spec.channels;
  switch (spec.scaling) {
    case 'unit':
      return { scale: new Array<number>(c).fill(1), shift: new Array<number>(c).fill(0) };
    case 'tf':
      return { scale: new Array<number>(c).fill(2), shift: new Array<number>(c).fill(-1) };
    case 'imagenet': {
      const mean = c === 3 ? IMAGENET_MEAN : [IMAGENET_MEAN.reduce((a, b) => a + b) / 3];
      const std = c === 3 ? IMAGENET_STD : [IMAGENET_STD.reduce((a, b) => a + b) / 3];
      return { scale: std.map((s) => 1 / s), shift: mean.map((m, i) => -m / std[i]!) };
    }
    case 'custom': {
      const { mean, std } = spec;
      if (!mean || !std || mean.length !== c || std.length !== c) {
        throw new VigilError('E_CONFIG', `${where}: input.scaling 'custom' needs input.mean and input.std with ${c} value(s) each`, { field: 'input.mean' });
      }
      return { scale: std.map((s) => 1 / s), shift: mean.map((m, i) => -m / std[i]!) };
    }
  }
}

function dimsOf(layout: TensorLayout, n: number, h: number, w: number, c: number): number[] {
  return layout === 'NCHW' ? [n, c, h, w] : [n, h, w, c];
}

/**
 * Checks the description against the session's declared signature: names exist, fixed dimensions
 * agree with the described size, channels and batch. Returns the resolved input and output names.
 * E_CONFIG naming the field and the model file otherwise.
 */
export function checkAgainstModel(spec: ExternalModelSpec, info: OrtSessionInfo, file: string): { input: string; output: string } {
  const pick = (given: string | undefined, list: OrtSessionInfo['inputs'], what: 'input' | 'output'): OrtSessionInfo['inputs'][number] => {
    const found = given === undefined ? list[0] : list.find((v) => v.name === given);
    if (!found) {
      throw new VigilError('E_CONFIG', `${file}: ${what}.name '${given ?? '(first)'}' is not a model ${what} (the model has: ${list.map((v) => v.name).join(', ') || 'none'})`, {
        field: `${what}.name`,
        file,
      });
    }
    return found;
  };
  const input = pick(spec.input.name, info.inputs, 'input');
  const output = pick(spec.output.name, info.outputs, 'output');
  const { layout, height, width, channels, batch } = spec.input;
  const expected = dimsOf(layout, batch ?? -1, height, width, channels);
  const labels = layout === 'NCHW' ? ['batch', 'channels', 'height', 'width'] : ['batch', 'height', 'width', 'channels'];
  if (input.shape.length > 0) {
    if (input.shape.length !== 4) {
      throw new VigilError('E_CONFIG', `${file}: input '${input.name}' has rank ${input.shape.length} [${input.shape.join(', ')}], an image model takes (N, C, H, W) or (N, H, W, C)`, {
        field: 'input',
        file,
      });
    }
    input.shape.forEach((d, i) => {
      const want = expected[i]!;
      if (typeof d === 'number' && d > 0 && want > 0 && d !== want) {
        throw new VigilError('E_CONFIG', `${file}: input.${labels[i]} is ${want} in the description but the model's input '${input.name}' is [${input.shape.join(', ')}] (${layout})`, {
          field: i === 0 ? 'input.batch' : `input.${labels[i]}`,
          file,
        });
      }
      if (i === 0 && typeof d === 'number' && d > 0 && batch === undefined) {
        throw new VigilError('E_CONFIG', `${file}: the model's batch is fixed to ${d}; set input.batch to ${d}`, { field: 'input.batch', file });
      }
    });
  }
  return { input: input.name, output: output.name };
}

/**
 * Images (each height x width, 1 or 3 channels, values in [0, 1]) → the input tensor (layout and
 * scaling as described), `count` rows long (rows past the samples are zeros: fixed-batch padding).
 * Grey images feed 3-channel models repeated; E_SHAPE naming the image for other mismatches.
 */
export function prepareInput(samples: readonly ImageSample[], spec: ExternalInputSpec, count: number, where: string): FloatTensor {
  const { height: h, width: w, channels: c, layout } = spec;
  const { scale, shift } = affine(spec, where);
  const out = new Float32Array(count * h * w * c);
  const plane = h * w;
  samples.forEach((s, n) => {
    const im = s.image;
    if (im.height !== h || im.width !== w || (im.channels !== c && !(im.channels === 1 && c === 3))) {
      throw new VigilError('E_SHAPE', `${s.source}: image is ${im.height}x${im.width}x${im.channels}, the model takes ${h}x${w}x${c}`, { file: s.source });
    }
    const ic = im.channels;
    for (let p = 0; p < plane; p++) {
      for (let ch = 0; ch < c; ch++) {
        const v = im.data[p * ic + (ic === 1 ? 0 : ch)]!;
        if (!Number.isFinite(v)) throw new VigilError('E_VALUE', `${s.source}: pixel ${p} channel ${ch} is ${v}`, { file: s.source });
        const dst = layout === 'NCHW' ? (n * c + ch) * plane + p : (n * plane + p) * c + ch;
        out[dst] = v * scale[ch]! + shift[ch]!;
      }
    }
  });
  return { data: out, shape: dimsOf(layout, count, h, w, c) };
}

/** (N, C, H, W) or (N, H, W, C) → NHWC; `layout` says which. */
export function toNhwc(t: FloatTensor, layout: TensorLayout): FloatTensor {
  if (t.shape.length !== 4 || layout === 'NHWC') return t;
  const [n, c, h, w] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const src = (i * c + ch) * plane;
      for (let p = 0; p < plane; p++) out[(i * plane + p) * c + ch] = t.data[src + p]!;
    }
  }
  return { data: out, shape: [n, h, w, c] };
}

/**
 * Per-image maps (H', W') from a map output, averaged over channels: accepts (N, H', W'),
 * (N, 1|C, H', W') for NCHW and (N, H', W', 1|C) for NHWC. `n` = images actually scored.
 */
export function mapsFromOutput(t: FloatTensor, layout: TensorLayout, n: number, where: string): { height: number; width: number; maps: Float32Array[] } {
  let nhwc: FloatTensor;
  if (t.shape.length === 3) nhwc = { data: t.data, shape: [...t.shape, 1] };
  else if (t.shape.length === 4) nhwc = toNhwc(t, layout);
  else throw new VigilError('E_SHAPE', `${where}: the map output has shape [${t.shape.join(', ')}], expected (N, H, W) or a 4-D map`, { field: 'output' });
  const [, h, w, c] = nhwc.shape as [number, number, number, number];
  const maps: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const m = new Float32Array(h * w);
    for (let p = 0; p < h * w; p++) {
      let s = 0;
      for (let ch = 0; ch < c; ch++) s += nhwc.data[(i * h * w + p) * c + ch]!;
      m[p] = s / c;
    }
    maps.push(m);
  }
  return { height: h, width: w, maps };
}

/** One score per image from an (N) or (N, 1) output. */
export function scoresFromOutput(t: FloatTensor, n: number, where: string): number[] {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  if (per !== 1) throw new VigilError('E_SHAPE', `${where}: the score output has shape [${t.shape.join(', ')}], expected (N) or (N, 1)`, { field: 'output' });
  return Array.from(t.data.subarray(0, n));
}
