/**
 * ONNX Runtime wrapper and inference options: defaults and environment overrides with errors naming
 * the variable, model and shape errors, and execution-provider selection (WebGPU falls back to the
 * CPU EP, with the reason, where no GPU adapter exists).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { isVigilError } from '../../src/core/errors.js';
import { initEngine } from '../../src/engine/backend.js';
import { exportLayersModel, inferenceDefaults, OrtEngine, OrtSession, resolveInferenceOptions } from '../../src/engine/onnx/index.js';
import { NetworkEngines } from '../../src/engine/onnx/networks.js';

describe('inference options', () => {
  test('defaults: auto, 1 thread, cpu; environment overrides are validated and named', () => {
    assert.deepEqual({ ...inferenceDefaults({}) }, { backend: 'auto', intraOpThreads: 1, executionProviders: ['cpu'] });
    assert.deepEqual(inferenceDefaults({ VIGIL_ORT_EP: 'webgpu, cpu', VIGIL_ORT_THREADS: '3', VIGIL_INFERENCE: 'tfjs' }), {
      backend: 'tfjs',
      intraOpThreads: 3,
      executionProviders: ['webgpu', 'cpu'],
    });
    assert.throws(() => inferenceDefaults({ VIGIL_ORT_EP: 'gpu' }), (e: unknown) => isVigilError(e) && e.code === 'E_CONFIG' && e.details.field === 'VIGIL_ORT_EP');
    assert.throws(() => inferenceDefaults({ VIGIL_ORT_THREADS: '0' }), (e: unknown) => isVigilError(e) && e.details.field === 'VIGIL_ORT_THREADS');
    assert.throws(() => resolveInferenceOptions({ executionProviders: [] }), (e: unknown) => isVigilError(e) && e.details.field === 'inference.executionProviders');
  });
});

describe('OrtSession / OrtEngine', () => {
  test('runs a model; wrong sizes are E_SHAPE, bytes that are no model E_MODEL_CORRUPT naming the source', async () => {
    await initEngine();
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, kernelInitializer: 'ones', biasInitializer: 'ones' })] });
    const session = await OrtSession.create(exportLayersModel(m).bytes, 'dense.onnx', { intraOpThreads: 1 });
    assert.deepEqual(session.info.inputs, [{ name: 'input', shape: ['N', 3] }]);
    const engine = new OrtEngine(session);
    assert.deepEqual(Array.from(await engine.run(Float32Array.of(1, 2, 3), [1, 3])), [7, 7]);
    await assert.rejects(engine.run(new Float32Array(4), [1, 3]), (e: unknown) => isVigilError(e) && e.code === 'E_SHAPE');
    await assert.rejects(engine.run(new Float32Array(4), [1, 4]), (e: unknown) => isVigilError(e) && e.code === 'E_SHAPE' && /dense\.onnx/.test(e.message));
    engine.dispose();
    await assert.rejects(session.run({ input: { data: new Float32Array(3), shape: [1, 3] } }), (e: unknown) => isVigilError(e) && e.code === 'E_NOT_FITTED');
    await assert.rejects(OrtSession.create(new Uint8Array([1, 2, 3]), 'junk.onnx'), (e: unknown) => isVigilError(e) && e.code === 'E_MODEL_CORRUPT' && /junk\.onnx/.test(e.message));
    m.dispose();
  });

  test('executionProviders webgpu: runs on a GPU, else falls back to the CPU EP and says why', async () => {
    await initEngine();
    const nets = { encoder: tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 2 })] }) };
    const engines = await NetworkEngines.export(nets, { executionProviders: ['webgpu', 'cpu'] });
    try {
      const r = engines.report().encoder;
      assert.match(r.engine, /^onnxruntime \[/);
      if (r.engine.startsWith('onnxruntime [cpu]')) assert.match(r.fallback!, /webgpu/);
      assert.equal((await engines.engine('encoder').run(new Float32Array(4), [1, 4])).length, 2);
    } finally {
      engines.dispose();
      nets.encoder.dispose();
    }
  });
});
