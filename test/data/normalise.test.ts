import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Image } from '../../src/core/types.js';
import { applyNormalisation, checkNormalisation, fitNormalisation, invertNormalisation } from '../../src/data/normalise.js';
import { packImages } from '../../src/data/idx.js';
import { vigilError } from './fixtures.js';

const rgb = (values: number[]): Image => ({ height: 1, width: values.length / 3, channels: 3, data: Float32Array.from(values) });

test('fitNormalisation: per-channel mean and population std over all pixels of all images', () => {
  // Channel 0: 0.1, 0.3, 0.5, 0.7 → mean 0.4, std sqrt(0.05); channel 1 constant 0.5 → std 1 (floor);
  // channel 2: 0, 1, 0, 1 → mean 0.5, std 0.5.
  const a = rgb([0.1, 0.5, 0, 0.3, 0.5, 1]);
  const b = rgb([0.5, 0.5, 0, 0.7, 0.5, 1]);
  const n = fitNormalisation([a, b]);
  const close = (x: number, y: number, what: string) => assert.ok(Math.abs(x - y) < 1e-6, `${what}: ${x} vs ${y}`);
  close(n.mean[0]!, 0.4, 'mean 0');
  close(n.mean[1]!, 0.5, 'mean 1');
  close(n.mean[2]!, 0.5, 'mean 2');
  close(n.std[0]!, Math.sqrt(0.05), 'std 0');
  assert.equal(n.std[1], 1);
  close(n.std[2]!, 0.5, 'std 2');
  // Plain JSON, and the same from a packed store.
  assert.deepEqual(JSON.parse(JSON.stringify(n)), n);
  const p = fitNormalisation(packImages([a, b]));
  for (let k = 0; k < 3; k++) {
    close(p.mean[k]!, n.mean[k]!, `packed mean ${k}`);
    close(p.std[k]!, n.std[k]!, `packed std ${k}`);
  }
});

test('applyNormalisation standardises the training data; invertNormalisation undoes it', () => {
  const images: Image[] = Array.from({ length: 5 }, (_, i) => ({
    height: 4,
    width: 4,
    channels: 1 as const,
    data: Float32Array.from({ length: 16 }, (_, j) => 0.2 + 0.03 * i + 0.01 * ((j * 7) % 5)),
  }));
  const n = fitNormalisation(images);
  const all = images.flatMap((im) => Array.from(applyNormalisation(im, n).data));
  const mean = all.reduce((s, v) => s + v, 0) / all.length;
  const variance = all.reduce((s, v) => s + (v - mean) ** 2, 0) / all.length;
  assert.ok(Math.abs(mean) < 1e-5, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 1e-4, `variance ${variance}`);
  const z = applyNormalisation(images[2]!, n);
  assert.notEqual(z.data, images[2]!.data, 'a new array unless inPlace');
  const back = invertNormalisation(z, n);
  for (let i = 0; i < 16; i++) assert.ok(Math.abs(back.data[i]! - images[2]!.data[i]!) < 1e-6);
  const copy = { ...images[3]!, data: new Float32Array(images[3]!.data) };
  const same = applyNormalisation(copy, n, { inPlace: true });
  assert.equal(same.data, copy.data);
  assert.ok(Math.abs(copy.data[0]! - (images[3]!.data[0]! - n.mean[0]!) / n.std[0]!) < 1e-6);
});

test('normalisation errors: empty, mixed channels, wrong channels, bad saved state', () => {
  assert.throws(() => fitNormalisation([]), vigilError('E_EMPTY'));
  const grey: Image = { height: 1, width: 2, channels: 1, data: Float32Array.from([0, 1]) };
  assert.throws(() => fitNormalisation([grey, rgb([0, 0, 0])]), vigilError('E_SHAPE', '3 channels', 'has 1'));
  assert.throws(() => fitNormalisation([{ ...grey, data: Float32Array.from([0, NaN]) }]), vigilError('E_VALUE', 'non-finite'));
  const n = fitNormalisation([grey]);
  assert.throws(() => applyNormalisation(rgb([0, 0, 0]), n), vigilError('E_SHAPE', 'image has 3 channels'));
  assert.deepEqual(checkNormalisation({ mean: [0.5], std: [0.2] }), { mean: [0.5], std: [0.2] });
  assert.throws(() => checkNormalisation({ mean: [0.5], std: [0] }, 'model.normalisation'), vigilError('E_VALUE', 'model.normalisation', 'std[0] = 0'));
  assert.throws(() => checkNormalisation({ mean: [0.5, 0.5], std: [1, 1] }), vigilError('E_VALUE', 'expected 1 or 3'));
  assert.throws(() => checkNormalisation({ mean: ['a'], std: [1] }), vigilError('E_VALUE'));
  assert.throws(() => checkNormalisation(null), vigilError('E_VALUE'));
});
