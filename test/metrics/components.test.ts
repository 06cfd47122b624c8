import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import { connectedComponents, labelComponents } from '../../src/metrics/index.js';

test('8-connectivity joins diagonal neighbours, 4-connectivity does not', () => {
  // 1 0 0
  // 0 1 0
  // 0 0 1
  const mask = new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.equal(connectedComponents(mask, 3, 3).count, 1);
  const four = connectedComponents(mask, 3, 3, 4);
  assert.equal(four.count, 3);
  assert.deepEqual(Array.from(four.labels), [1, 0, 0, 0, 2, 0, 0, 0, 3]);
});

test('labelComponents: raster-order labels, areas, inclusive boxes and peaks', () => {
  // 4 rows x 5 cols
  // 1 1 0 0 0
  // 0 1 0 0 1
  // 0 0 0 1 1
  // 1 0 0 0 0
  const mask = new Uint8Array([1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]);
  const map = Float32Array.from({ length: 20 }, (_, i) => i / 10);
  const r = labelComponents(mask, 4, 5, { map });
  assert.equal(r.count, 3);
  assert.deepEqual(r.components[0], { label: 1, area: 3, x0: 0, y0: 0, x1: 1, y1: 1, peak: map[6] });
  assert.deepEqual(r.components[1], { label: 2, area: 3, x0: 3, y0: 1, x1: 4, y1: 2, peak: map[14] });
  assert.deepEqual(r.components[2], { label: 3, area: 1, x0: 0, y0: 3, x1: 0, y1: 3, peak: map[15] });
  assert.equal(r.labels[13], 2);
  assert.equal(r.labels[15], 3);
  // a U shape is one component even though a raster scan meets it twice
  const u = new Uint8Array([1, 0, 1, 1, 0, 1, 1, 1, 1]);
  assert.equal(connectedComponents(u, 3, 3, 4).count, 1);
});

test('shape errors name the field', () => {
  assert.throws(
    () => connectedComponents(new Uint8Array(5), 2, 3),
    (e: unknown) => e instanceof VigilError && e.code === 'E_SHAPE' && /^mask: has 5 values, 2x3 needs 6/.test(e.message),
  );
  assert.throws(
    () => connectedComponents(new Uint8Array(6), 2, 3, 6 as 4),
    (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG' && /^connectivity/.test(e.message),
  );
});
