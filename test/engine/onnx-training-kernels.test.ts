/**
 * Issue 6's training kernels (src/engine/kernels/{batch_mat_mul,leaky_relu,leaky_relu_gradient,training}.ts):
 * values against TF.js' cpu backend, the reference autoencoder's gradients on wasm against the cpu
 * backend with TF.js' own gradients, higher-order gradients, no leaked tensors, and switching off.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../src/engine/backend.js';
import { registerTrainingKernels, trainingKernelsRegistered, unregisterTrainingKernels } from '../../src/engine/kernels/training.js';
import { buildAutoencoder } from '../../src/models/conv-ae/network.js';

function values(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - want[i]!));
    m = Math.max(m, Math.abs(want[i]!));
  }
  assert.equal(got.length, want.length);
  return d / Math.max(m, 1e-30);
}

/** `f` on cpu and on wasm (with the training kernels) from the same inputs; returns both outputs. */
async function onBoth(f: () => tf.Tensor): Promise<{ cpu: Float32Array; wasm: Float32Array }> {
  await initEngine({ backend: 'cpu' });
  const cpu = tf.tidy(f).dataSync() as Float32Array;
  await initEngine();
  const wasm = tf.tidy(f).dataSync() as Float32Array;
  return { cpu: cpu.slice(), wasm: wasm.slice() };
}

describe('training kernels', () => {
  before(async () => {
    await initEngine();
    registerTrainingKernels();
  });
  after(async () => {
    await initEngine();
  });

  test('BatchMatMul: every transpose combination, rank 2 and batch-1 rank 3, and batched products', async () => {
    assert.ok(trainingKernelsRegistered());
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 29], [29, 13], false, false],
      [[29, 37], [29, 13], true, false],
      [[37, 29], [13, 29], false, true],
      [[29, 37], [13, 29], true, true],
      [[1, 29, 37], [1, 13, 29], true, true],
      [[3, 8, 5], [3, 6, 5], false, true],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const a = values(sa.length * 31 + sa[0]!, sa.reduce((x, y) => x * y));
      const b = values(sb.length * 17 + sb[1]!, sb.reduce((x, y) => x * y));
      const r = await onBoth(() => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb));
      assert.ok(relError(r.wasm, r.cpu) <= 1e-5, `${sa} x ${sb} (${ta}, ${tb}): ${relError(r.wasm, r.cpu)}`);
    }
  });

  test("LeakyRelu forward on XNNPACK's PReLU equals TF.js' wasm kernel (NaN kept, -0 may become +0), cpu within an ulp", async () => {
    const x = values(21, 7 * 6 * 12);
    x[0] = 0;
    x[1] = -0;
    x[2] = Number.NaN;
    const r = await onBoth(() => tf.leakyRelu(tf.tensor(x, [7, 6, 12]), 0.2));
    unregisterTrainingKernels();
    const stock = tf.tidy(() => tf.leakyRelu(tf.tensor(x, [7, 6, 12]), 0.2).dataSync().slice());
    registerTrainingKernels();
    assert.ok(Number.isNaN(r.wasm[2]!));
    r.wasm.forEach((v, i) => assert.ok(v === stock[i] || (Number.isNaN(v) && Number.isNaN(stock[i]!)), `element ${i}: ${v} vs ${stock[i]}`));
    // The cpu backend multiplies by alpha as a double, the wasm kernels by float32(alpha).
    const finite = (a: Float32Array) => Array.from(a).filter(Number.isFinite);
    assert.ok(relError(finite(r.wasm), finite(r.cpu)) <= 1e-7);
    await initEngine();
    for (const shape of [[], [5], [3, 1], [2, 0, 4]]) {
      const t = tf.tensor(values(3, shape.reduce((a, b) => a * b, 1)), shape);
      assert.deepEqual(tf.tidy(() => tf.leakyRelu(t, 0.2).shape), shape);
      t.dispose();
    }
  });

  test("LeakyRelu gradient: dy · step(x, alpha) equals TF.js' formula bit for bit on cpu and wasm; second order works", async () => {
    const shape = [4, 5, 6, 3];
    const x = values(9, 360);
    const dy = values(10, 360);
    x[0] = 0; // the boundary takes alpha, as TF.js' greater(x, 0) does
    x[1] = -0;
    const formula = (alpha: number) => tf.tidy(() => tf.where(tf.greater(tf.tensor(x, shape), 0), tf.tensor(dy, shape), tf.mul(tf.tensor(dy, shape), alpha)));
    for (const backend of ['cpu', 'wasm'] as const) {
      await initEngine({ backend });
      for (const alpha of [0.2, 0.3, 0.01]) {
        const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.leakyRelu(t, alpha))(tf.tensor(x, shape), tf.tensor(dy, shape)));
        const want = formula(alpha);
        assert.deepEqual(Array.from(g.dataSync()), Array.from(want.dataSync()), `${backend} alpha ${alpha}`);
        tf.dispose([g, want]);
      }
      // Second order: d/dx Σ (d/dx Σ leakyRelu(x)·x)² is finite (step's gradient is zero).
      const gg = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(u, 0.2), u)))(t))))(tf.tensor(x, shape)));
      assert.ok(Array.from(gg.dataSync()).every(Number.isFinite));
      gg.dispose();
    }
  });

  test("the reference autoencoder's gradients on wasm match the cpu backend with TF.js' own gradients", async () => {
    const shape = { height: 28, width: 28, channels: 1 as const, depth: 2, filters: 32, latent: 32, variational: false, seed: 7 };
    const input = Float32Array.from(values(3, 8 * 28 * 28), (v) => (v + 1) / 2);
    const gradsOn = async (backend: 'cpu' | 'wasm'): Promise<Float32Array[]> => {
      await initEngine({ backend });
      const nets = buildAutoencoder(shape);
      const vars = [...nets.encoder.trainableWeights, ...nets.decoder.trainableWeights].map((w) => w.read() as tf.Variable);
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => {
        const x = tf.tensor4d(input, [8, 28, 28, 1]);
        const r = nets.decoder.apply(nets.encoder.apply(x, { training: true }), { training: true }) as tf.Tensor;
        return tf.mean(tf.square(tf.sub(r, x))) as tf.Scalar;
      }, vars);
      const out = vars.map((v) => grads[v.name]!.dataSync().slice() as Float32Array);
      tf.dispose([value, ...Object.values(grads)]);
      assert.equal(tf.memory().numTensors, before, `${backend}: a training step leaks no tensors`);
      nets.encoder.dispose();
      nets.decoder.dispose();
      return out;
    };
    unregisterTrainingKernels();
    const cpu = await gradsOn('cpu');
    registerTrainingKernels();
    const wasm = await gradsOn('wasm');
    assert.equal(cpu.length, 12);
    cpu.forEach((want, i) => assert.ok(relError(wasm[i]!, want) <= 1e-4, `variable ${i}: relative error ${relError(wasm[i]!, want)}`));
  });

  test('unregister restores TF.js kernels; register is idempotent', async () => {
    unregisterTrainingKernels();
    assert.equal(trainingKernelsRegistered(), false);
    registerTrainingKernels();
    registerTrainingKernels();
    assert.ok(trainingKernelsRegistered());
  });
});
