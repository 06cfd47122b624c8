/**
 * The multithreaded wasm build under Node (src/engine/kernels/wasm_threaded_backend.ts): in a child
 * process (the 'wasm' backend can be chosen once per process), XNNPACK runs on 2 threads, a conv,
 * a transposed conv, a transposed matMul and the reference autoencoder's gradients match the cpu
 * backend, and the process exits on its own (the pool threads do not hold it open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = 'VIGIL_THREADED_WASM_CHILD';

async function child(): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  const { useThreadedWasm } = await import('../../src/engine/kernels/wasm_threaded_backend.js');
  const { engineInfo, initEngine } = await import('../../src/engine/backend.js');
  const { registerTrainingKernels } = await import('../../src/engine/kernels/training.js');
  const { buildAutoencoder } = await import('../../src/models/conv-ae/network.js');
  useThreadedWasm({ threads: 2 });
  const run = (): Float32Array[] => {
    const x = tf.randomNormal([8, 14, 14, 32], 0, 1, 'float32', 1) as import('@tensorflow/tfjs-core').Tensor4D;
    const w = tf.randomNormal([3, 3, 32, 64], 0, 1, 'float32', 2) as import('@tensorflow/tfjs-core').Tensor4D;
    const dy = tf.randomNormal([8, 7, 7, 64], 0, 1, 'float32', 3) as import('@tensorflow/tfjs-core').Tensor4D;
    const outs = [tf.conv2d(x, w, 2, 'same'), tf.conv2dTranspose(dy, w, [8, 14, 14, 32], 2, 'same'), tf.matMul(tf.reshape(x, [8, -1]), tf.reshape(x, [8, -1]), true, false)];
    const nets = buildAutoencoder({ height: 28, width: 28, channels: 1, depth: 2, filters: 32, latent: 32, variational: false, seed: 3 });
    const vars = [...nets.encoder.trainableWeights, ...nets.decoder.trainableWeights].map((v) => v.read() as import('@tensorflow/tfjs-core').Variable);
    const input = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 4);
    const { value, grads } = tf.variableGrads(() => {
      const r = nets.decoder.apply(nets.encoder.apply(input)) as import('@tensorflow/tfjs-core').Tensor;
      return tf.mean(tf.square(tf.sub(r, input))) as import('@tensorflow/tfjs-core').Scalar;
    }, vars);
    const result = [...outs, ...vars.map((v) => grads[v.name]!)].map((t) => t.dataSync().slice() as Float32Array);
    tf.dispose([x, w, dy, input, value, ...outs, ...Object.values(grads)]);
    nets.encoder.dispose();
    nets.decoder.dispose();
    return result;
  };
  await initEngine();
  registerTrainingKernels();
  const threads = engineInfo().threadCount;
  const wasm = run();
  await initEngine({ backend: 'cpu' });
  const cpu = run();
  const rel = wasm.map((v, k) => {
    let d = 0;
    let m = 0;
    for (let i = 0; i < v.length; i++) {
      d = Math.max(d, Math.abs(v[i]! - cpu[k]![i]!));
      m = Math.max(m, Math.abs(cpu[k]![i]!));
    }
    return d / m;
  });
  process.stdout.write(JSON.stringify({ threads, rel }) + '\n');
}

if (process.env[CHILD]) {
  await child();
} else {
  test('threaded wasm: 2 XNNPACK threads, results match the cpu backend, the process exits', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, [CHILD]: '1' },
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(r.status, 0, `child failed (signal ${r.signal}): ${r.stderr.slice(-2000)}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { threads: number; rel: number[] };
    assert.equal(out.threads, 2);
    assert.equal(out.rel.length, 3 + 12);
    out.rel.forEach((e, i) => assert.ok(e <= 1e-4, `output ${i}: relative error ${e}`));
  });
}
