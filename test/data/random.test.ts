import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/data/random.js';
import { trainValidationSplit } from '../../src/data/split.js';
import { vigilError } from './fixtures.js';

test('createRng: same seed, same stream; pinned first values; seeds 1 and 2 unrelated', () => {
  const a = createRng(42);
  const b = createRng(42);
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(Array.from({ length: 100 }, () => b.next()), xs);
  // Pinned so that a change of algorithm (which would change every synthetic data set and split) is noticed.
  assert.deepEqual(xs.slice(0, 3), [0.6558336513116956, 0.8638617997057736, 0.47501156153157353]);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const c = createRng(1).next();
  const d = createRng(2).next();
  assert.ok(Math.abs(c - d) > 1e-3);
  assert.deepEqual(createRng('run-a').next(), createRng('run-a').next());
  assert.notEqual(createRng('run-a').next(), createRng('run-b').next());
  assert.notEqual(createRng(2 ** 40).next(), createRng(0).next());
  assert.throws(() => createRng(1.5), vigilError('E_VALUE', 'seed'));
  assert.throws(() => createRng(Number.NaN), vigilError('E_VALUE', 'seed'));
});

test('rng.int, normal, shuffle and fork behave statistically and deterministically', () => {
  const r = createRng(7);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60000; i++) counts[r.int(6)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 400, `int(6) counts ${counts}`);
  assert.throws(() => r.int(0), vigilError('E_VALUE'));
  assert.throws(() => r.int(2.5), vigilError('E_VALUE'));

  const zs = Array.from({ length: 20000 }, () => r.normal(3, 2));
  const mean = zs.reduce((s, v) => s + v, 0) / zs.length;
  const sd = Math.sqrt(zs.reduce((s, v) => s + (v - mean) ** 2, 0) / zs.length);
  assert.ok(Math.abs(mean - 3) < 0.05 && Math.abs(sd - 2) < 0.05, `normal mean ${mean} sd ${sd}`);

  const arr = Array.from({ length: 50 }, (_, i) => i);
  const s1 = createRng(9).shuffle([...arr]);
  const s2 = createRng(9).shuffle([...arr]);
  assert.deepEqual(s1, s2);
  assert.notDeepEqual(s1, arr);
  assert.deepEqual([...s1].sort((x, y) => x - y), arr);
  assert.notDeepEqual(createRng(10).shuffle([...arr]), s1);

  const f1 = createRng(5).fork();
  const f2 = createRng(5).fork();
  assert.equal(f1.next(), f2.next());
  const parent = createRng(5);
  const child = parent.fork();
  assert.notEqual(child.next(), parent.next());
  assert.throws(() => r.pick([]), vigilError('E_EMPTY'));
});

test('trainValidationSplit: deterministic, disjoint, complete, order-preserving', () => {
  const items = Array.from({ length: 103 }, (_, i) => `item${i}`);
  const a = trainValidationSplit(items, 0.2, 11);
  const b = trainValidationSplit(items, 0.2, 11);
  assert.deepEqual(a, b);
  assert.equal(a.validation.length, 21);
  assert.equal(a.train.length, 82);
  const all = new Set([...a.train, ...a.validation]);
  assert.equal(all.size, 103);
  assert.deepEqual(a.validation, a.validationIndices.map((i) => items[i]));
  assert.deepEqual(a.trainIndices, [...a.trainIndices].sort((x, y) => x - y));
  assert.ok(a.validationIndices.some((i) => i > 50) && a.validationIndices.some((i) => i < 50), 'spread, not a tail');
  assert.notDeepEqual(trainValidationSplit(items, 0.2, 12).validationIndices, a.validationIndices);

  assert.deepEqual(trainValidationSplit(items, 0, 1).validation, []);
  // Small inputs: at least one on each side when a fraction is asked for.
  const two = trainValidationSplit(['x', 'y'], 0.01, 3);
  assert.deepEqual([two.train.length, two.validation.length], [1, 1]);
  assert.deepEqual(trainValidationSplit(['x'], 0.5, 3).validation, []);
  assert.throws(() => trainValidationSplit(items, 1, 1), vigilError('E_VALUE', 'validation fraction: 1'));
  assert.throws(() => trainValidationSplit(items, -0.1, 1), vigilError('E_VALUE'));
});
