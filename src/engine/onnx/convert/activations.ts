/**
 * TF.js activations (the `activation` config of Conv/Dense/Activation layers, by their serialised
 * class name) as ONNX nodes. Element-wise ones keep the value's layout; softmax-like ones run on
 * the physical axis that holds TF.js' last axis.
 */
import type { GraphBuilder, Value } from '../graph.js';
import { unsupported } from './types.js';

/** Activation names the exporter handles. */
export const SUPPORTED_ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'sigmoid',
  'tanh',
  'elu',
  'selu',
  'softplus',
  'softsign',
  'hardSigmoid',
  'swish',
  'mish',
  'gelu',
  'softmax',
  'logSoftmax',
] as const;

// TF.js' SELU constants (tfjs-layers activations.ts).
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.7580993408473769 / SELU_SCALE;

function unary(g: GraphBuilder, op: string, v: Value, base: string, attrs: Record<string, number> = {}): Value {
  const [name] = g.node(op, [v.name], attrs, base);
  return { name: name!, shape: v.shape, perm: v.perm };
}

/** y = clip(x, lo, hi); ONNX Clip takes its bounds as inputs since opset 11. */
export function clip(g: GraphBuilder, v: Value, lo: number, hi: number, base: string): Value {
  const min = g.floats(`${base}_min`, [], Float32Array.of(lo));
  const max = g.floats(`${base}_max`, [], Float32Array.of(hi));
  const [name] = g.node('Clip', [v.name, min, max], {}, base);
  return { name: name!, shape: v.shape, perm: v.perm };
}

/**
 * Applies TF.js activation `activation` (serialised name, e.g. 'relu6') to `v`; `where` names the
 * layer for errors.
 */
export function applyActivation(g: GraphBuilder, v: Value, activation: string | undefined | null, base: string, where: string): Value {
  const lastAxis = () => v.perm.indexOf(v.shape.length - 1);
  switch (activation ?? 'linear') {
    case 'linear':
      return v;
    case 'relu':
      return unary(g, 'Relu', v, base);
    case 'relu6':
      return clip(g, v, 0, 6, base);
    case 'sigmoid':
      return unary(g, 'Sigmoid', v, base);
    case 'tanh':
      return unary(g, 'Tanh', v, base);
    case 'elu':
      return unary(g, 'Elu', v, base, { alpha: 1 });
    case 'selu':
      return unary(g, 'Selu', v, base, { alpha: SELU_ALPHA, gamma: SELU_SCALE });
    case 'softplus':
      return unary(g, 'Softplus', v, base);
    case 'softsign':
      return unary(g, 'Softsign', v, base);
    case 'hardSigmoid':
      // TF.js: clip(0.2 x + 0.5, 0, 1), ONNX HardSigmoid's own formula.
      return unary(g, 'HardSigmoid', v, base, { alpha: 0.2, beta: 0.5 });
    case 'swish': {
      const s = unary(g, 'Sigmoid', v, base);
      const [name] = g.node('Mul', [v.name, s.name], {}, base);
      return { name: name!, shape: v.shape, perm: v.perm };
    }
    case 'mish': {
      // x · tanh(softplus(x))
      const t = unary(g, 'Tanh', unary(g, 'Softplus', v, base), base);
      const [name] = g.node('Mul', [v.name, t.name], {}, base);
      return { name: name!, shape: v.shape, perm: v.perm };
    }
    case 'gelu': {
      // TF.js' exact GELU: 0.5 · x · (1 + erf(x / √2))
      const invSqrt2 = g.floats(`${base}_inv_sqrt2`, [], Float32Array.of(Math.SQRT1_2));
      const one = g.floats(`${base}_one`, [], Float32Array.of(1));
      const half = g.floats(`${base}_half`, [], Float32Array.of(0.5));
      const [scaled] = g.node('Mul', [v.name, invSqrt2], {}, base);
      const [erf] = g.node('Erf', [scaled!], {}, base);
      const [plus] = g.node('Add', [erf!, one], {}, base);
      const [prod] = g.node('Mul', [v.name, plus!], {}, base);
      const [name] = g.node('Mul', [prod!, half], {}, base);
      return { name: name!, shape: v.shape, perm: v.perm };
    }
    case 'softmax':
      return unary(g, 'Softmax', v, base, { axis: lastAxis() });
    case 'logSoftmax':
      return unary(g, 'LogSoftmax', v, base, { axis: lastAxis() });
    default:
      throw unsupported({ where }, `activation '${activation}' has no ONNX mapping (supported: ${SUPPORTED_ACTIVATIONS.join(', ')})`, { activation });
  }
}
