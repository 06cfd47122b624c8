import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import { compareTrials, halvingPlan, maxRungs, planCost, planForBudget, promote } from '../../src/tune/schedule.js';

const epochs = { eta: 3, minResource: 2, maxResource: 18, integer: true };

test('successive halving: configurations and resources per rung', () => {
  assert.equal(maxRungs(epochs), 3); // 2, 6, 18
  const plan = halvingPlan(27, 3, epochs);
  assert.deepEqual(
    plan.rungs.map((r) => [r.configs, r.resource]),
    [
      [27, 2],
      [9, 6],
      [3, 18],
    ],
  );
  assert.equal(plan.trials, 39);
  // Each rung costs about the same: 27 x 2 = 54 = 9 x 6 = 3 x 18.
  assert.equal(planCost(plan), 54 * 3);
  // eta 2 over 1..8 epochs: four rungs halving the configurations.
  const p2 = halvingPlan(16, maxRungs({ eta: 2, minResource: 1, maxResource: 8, integer: true }), { eta: 2, minResource: 1, maxResource: 8, integer: true });
  assert.deepEqual(p2.rungs.map((r) => [r.configs, r.resource]), [
    [16, 1],
    [8, 2],
    [4, 4],
    [2, 8],
  ]);
  // Sample fractions are not rounded to integers.
  const frac = halvingPlan(9, 2, { eta: 3, minResource: 0.25, maxResource: 1, integer: false });
  assert.deepEqual(frac.rungs.map((r) => r.resource), [0.3333, 1]);
});

test('a trial budget buys the largest plan that fits, with as many rungs as promotion allows', () => {
  const p = planForBudget(13, epochs);
  assert.deepEqual(p.rungs.map((r) => r.configs), [9, 3, 1]); // 9 + 3 + 1 = 13
  const p14 = planForBudget(14, epochs);
  assert.ok(p14.trials <= 14);
  assert.deepEqual(p14.rungs.map((r) => r.configs), [10, 3, 1]);
  // Too few trials for three rungs (needs 9 + 3 + 1): two rungs, 3 + 1 at least.
  const p5 = planForBudget(5, epochs);
  assert.equal(p5.rungs.length, 2);
  assert.deepEqual(p5.rungs.map((r) => [r.configs, r.resource]), [
    [4, 6],
    [1, 18],
  ]);
  // One trial: plain training at the full resource.
  assert.deepEqual(planForBudget(1, epochs).rungs.map((r) => [r.configs, r.resource]), [[1, 18]]);
  // A time budget: cost = 1 s overhead + 0.5 s per epoch; the plan's cost stays within it.
  const cost = (r: number) => 1 + 0.5 * r;
  const timed = planForBudget(120, epochs, cost);
  assert.ok(planCost(timed, cost) <= 120, `cost ${planCost(timed, cost)}`);
  assert.equal(timed.rungs.length, 3);
  assert.ok(planCost(halvingPlan(timed.rungs[0]!.configs + 1, 3, epochs), cost) > 120, 'one more configuration would not fit');
});

test('promotion keeps the best 1/eta, breaks ties by the second key then the index, never promotes failures', () => {
  const rung = [
    { configIndex: 0, criterion: 0.7 },
    { configIndex: 1, criterion: 0.9, tieBreak: 1 },
    { configIndex: 2, criterion: Number.NaN },
    { configIndex: 3, criterion: 0.9, tieBreak: 3 },
    { configIndex: 4, criterion: 0.8 },
    { configIndex: 5, criterion: 0.9, tieBreak: 3 },
  ];
  assert.deepEqual(promote(rung, 2), [3, 5]);
  assert.deepEqual(promote(rung, 4), [3, 5, 1, 4]);
  assert.deepEqual(promote(rung, 10), [3, 5, 1, 4, 0], 'the failed configuration 2 is never promoted');
  assert.ok(compareTrials({ configIndex: 9, criterion: 0.5 }, { configIndex: 1, criterion: Number.NaN }) < 0);
});

test('bad limits are configuration errors naming the setting', () => {
  assert.throws(() => maxRungs({ eta: 1, minResource: 1, maxResource: 9, integer: true }), (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG' && /eta/.test(e.message));
  assert.throws(() => halvingPlan(4, 2, { eta: 3, minResource: 9, maxResource: 3, integer: true }), (e: unknown) => e instanceof VigilError && /resource range/.test(e.message));
  assert.throws(() => planForBudget(0, epochs), (e: unknown) => e instanceof VigilError && /budget/.test(e.message));
});
