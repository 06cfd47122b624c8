import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import { DEFAULT_RULE, RuleBook, RuleState, parseRules, rulesFor, severityFor, type AlarmRule } from '../../src/monitor/alarms/rules.js';

function rule(over: Partial<AlarmRule>): AlarmRule {
  return parseRules([{ name: 'r', ...over }])[0]!;
}

/** Feeds scores one second apart; returns the indices of the points that fired. */
function fire(r: AlarmRule, scores: number[], threshold: number | null = 1, step = 1000): number[] {
  const s = new RuleState(r);
  const out: number[] = [];
  scores.forEach((score, i) => {
    if (s.observe({ t: i * step, score, normalized: Math.min(1, score / 4) }, threshold)) out.push(i);
  });
  return out;
}

test('k of n: fires when k of the last n points reach the threshold, once per episode', () => {
  const r = rule({ on: 'score', k: 3, n: 5, cooldownMs: 0 });
  assert.deepEqual(fire(r, [2, 0, 2, 0, 0]), [], 'two hits in five is not enough');
  assert.deepEqual(fire(r, [2, 0, 2, 0, 2]), [4], 'the third hit inside the window fires');
  assert.deepEqual(fire(r, [2, 0, 0, 0, 2, 0, 0, 2]), [], 'hits spread wider than n never fire');
  // Condition holds from point 2 to 6, clears, holds again from 12: two episodes, two alarms.
  assert.deepEqual(fire(r, [2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2]), [2, 13]);
  // k = n = 1: every hit after a clear point fires.
  assert.deepEqual(fire(rule({ on: 'score', cooldownMs: 0 }), [0, 2, 2, 0, 2]), [1, 4]);
});

test('minimum duration: the condition must hold for minDurationMs of event time', () => {
  const r = rule({ on: 'score', minDurationMs: 3000, cooldownMs: 0 });
  assert.deepEqual(fire(r, [2, 2, 2, 0, 2, 2, 2, 2, 2]), [7], 'a 3-point burst (2 s) is too short; 4 s of hits fires at the 4th');
  assert.deepEqual(fire(r, [2, 2, 2, 2]), [3]);
  // Measured from the first hit of the window that made the condition true.
  const kn = rule({ on: 'score', k: 2, n: 3, minDurationMs: 2000, cooldownMs: 0 });
  assert.deepEqual(fire(kn, [0, 2, 2, 0, 2]), [3], 'k-of-n stays true across the gap; duration counts from the first hit');
});

test('cooldown: no new alarm within cooldownMs of the last one, even in a new episode', () => {
  const r = rule({ on: 'score', cooldownMs: 5000 });
  assert.deepEqual(fire(r, [2, 0, 2, 0, 2, 0, 2, 0]), [0, 6], 'episodes at 2 s and 4 s are inside the cooldown');
  // An episode that starts inside the cooldown fires as soon as the cooldown is over.
  assert.deepEqual(fire(r, [2, 0, 2, 2, 2, 2, 2, 2]), [0, 5]);
  assert.deepEqual(fire(rule({ on: 'score', cooldownMs: 0 }), [2, 0, 2, 0, 2]), [0, 2, 4]);
});

test('severity comes from the highest normalized score among the hits, by bands', () => {
  assert.equal(severityFor(0.95, DEFAULT_RULE.severity), 'critical');
  assert.equal(severityFor(0.8, DEFAULT_RULE.severity), 'major');
  assert.equal(severityFor(0.5, DEFAULT_RULE.severity), 'warning');
  assert.equal(severityFor(Number.NaN, DEFAULT_RULE.severity), 'warning', 'no normalisation: lowest band');
  const bands = rule({ severity: [{ min: 0.6, level: 'major' }, { min: 0.99, level: 'critical' }, { min: 0, level: 'warning' }] }).severity;
  assert.deepEqual(bands.map((b) => b.min), [0.99, 0.6, 0], 'bands are sorted highest first');
  const s = new RuleState(rule({ on: 'score', k: 2, n: 3, cooldownMs: 0 }));
  assert.equal(s.observe({ t: 0, score: 3.9, normalized: 0.97 }, 1), null);
  const f = s.observe({ t: 1000, score: 1.5, normalized: 0.55 }, 1)!;
  assert.equal(f.severity, 'critical', 'the peak of the window (0.97), not the last point (0.55)');
  assert.equal(f.peakScore, 3.9);
  assert.equal(f.hits, 2);
  assert.equal(f.startedAt, 0);
  assert.equal(f.threshold, 1);
});

test('thresholds: the model\'s (raw), 0.5 on the normalized scale, or fixed; none fitted never fires', () => {
  const model = new RuleState(rule({ on: 'score', threshold: 'model' }));
  assert.equal(model.effectiveThreshold(0.7), 0.7);
  assert.equal(new RuleState(rule({ on: 'normalized', threshold: 'model' })).effectiveThreshold(0.7), 0.5);
  assert.equal(new RuleState(rule({ on: 'score', threshold: 2.5 })).effectiveThreshold(0.7), 2.5);
  assert.deepEqual(fire(rule({ on: 'score' }), [5, 5, 5], null), [], 'model without a threshold');
  assert.deepEqual(fire(rule({ on: 'normalized', cooldownMs: 0 }), [1, 2, 3, 0]), [1], 'normalized = score/4 crosses 0.5 at score 2');
});

test('rule files are validated: unknown keys, k > n and duplicate names are named', () => {
  const bad = (raw: unknown, re: RegExp) => assert.throws(() => parseRules(raw, 'rules.yaml'), (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG' && re.test(e.message));
  bad({ rules: [{ name: 'a', kk: 1 }] }, /unknown key "kk"/);
  bad({ rules: [{ name: 'a', k: 4, n: 2 }] }, /k = 4 is larger than n = 2/);
  bad({ rules: [{ name: 'a' }, { name: 'a' }] }, /used twice/);
  bad({ rules: [{ name: 'a', on: 'max' }] }, /rules.0.on/);
  bad({ rules: [{ name: 'a', severity: [{ min: 2, level: 'major' }] }] }, /severity/);
  const [r] = parseRules({ rules: [{ name: 'cams', model: 'cam*', k: 2, n: 4 }] });
  assert.deepEqual({ ...r, severity: undefined }, { name: 'cams', model: 'cam*', stream: '*', on: 'score', threshold: 'model', k: 2, n: 4, minDurationMs: 0, cooldownMs: 60000, severity: undefined });
});

test('rules apply per model and stream (globs); the default rule when none matches; each has its own state', () => {
  const rules = parseRules([
    { name: 'line-a', model: 'press', stream: 'line-a*', cooldownMs: 0, on: 'score' },
    { name: 'press-all', model: 'press', k: 2, n: 2, cooldownMs: 0, on: 'score' },
  ]);
  assert.deepEqual(rulesFor(rules, 'press', 'line-a1').map((r) => r.name), ['line-a', 'press-all']);
  assert.deepEqual(rulesFor(rules, 'press', 'line-b').map((r) => r.name), ['press-all']);
  assert.deepEqual(rulesFor(rules, 'other', 'x').map((r) => r.name), ['default']);
  const book = new RuleBook(rules);
  const p = (t: number, score: number) => ({ t, score, normalized: 0.9 });
  assert.deepEqual(book.observe('press', 'line-a1', p(0, 2), 1).map((f) => f.rule.name), ['line-a']);
  assert.deepEqual(book.observe('press', 'line-a1', p(1000, 2), 1).map((f) => f.rule.name), ['press-all']);
  assert.deepEqual(book.observe('press', 'line-b', p(0, 2), 1), [], 'streams do not share state');
  book.forget('press');
  assert.deepEqual(book.observe('press', 'line-a1', p(2000, 2), 1).map((f) => f.rule.name), ['line-a'], 'state restarts after forget');
});
