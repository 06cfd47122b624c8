import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxesFromMap } from '../../src/scoring/boxes.js';
import { VigilError } from '../../src/core/errors.js';

/** A (h, w) map of zeros with `value` at the given (x, y) cells. */
function mapWith(h: number, w: number, cells: [number, number, number][]): Float32Array {
  const m = new Float32Array(h * w);
  for (const [x, y, v] of cells) m[y * w + x] = v;
  return m;
}

test('boxesFromMap: one box per 8-connected region, with peak and area, largest peak first', () => {
  // Region A: a diagonal pair (joined only by a corner) plus one more cell, peak 0.7.
  // Region B: a 2x2 block, peak 0.9.
  const m = mapWith(8, 10, [
    [1, 1, 0.6],
    [2, 2, 0.7],
    [3, 2, 0.5],
    [6, 5, 0.8],
    [7, 5, 0.9],
    [6, 6, 0.55],
    [7, 6, 0.52],
  ]);
  const boxes = boxesFromMap(m, 8, 10, 0.5);
  assert.equal(boxes.length, 2);
  assert.deepEqual(boxes[0], { x0: 6, y0: 5, x1: 7, y1: 6, peak: m[5 * 10 + 7], area: 4 });
  assert.deepEqual(boxes[1], { x0: 1, y0: 1, x1: 3, y1: 2, peak: m[2 * 10 + 2], area: 3 });
});

test('boxesFromMap: the threshold is inclusive; nothing above it gives no boxes', () => {
  const m = mapWith(4, 4, [[2, 1, 0.5]]);
  assert.deepEqual(boxesFromMap(m, 4, 4, 0.5), [{ x0: 2, y0: 1, x1: 2, y1: 1, peak: 0.5, area: 1 }]);
  assert.deepEqual(boxesFromMap(m, 4, 4, 0.51), []);
});

test('boxesFromMap: a map that covers everything is one box over the whole map', () => {
  const m = new Float32Array(6 * 5).fill(1);
  m[7] = 3;
  assert.deepEqual(boxesFromMap(m, 6, 5, 0), [{ x0: 0, y0: 0, x1: 4, y1: 5, peak: 3, area: 30 }]);
});

test('boxesFromMap: wrong map length is E_SHAPE, a non-finite threshold E_VALUE', () => {
  assert.throws(
    () => boxesFromMap(new Float32Array(10), 3, 4, 0.5),
    (e: unknown) => e instanceof VigilError && e.code === 'E_SHAPE' && /10 values, 3x4 needs 12/.test(e.message),
  );
  assert.throws(() => boxesFromMap(new Float32Array(12), 3, 4, Number.NaN), (e: unknown) => e instanceof VigilError && e.code === 'E_VALUE');
});
