import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../../src/core/errors.js';
import { fitGpd, gpdLogLikelihood, gpdQuantileThreshold, SpotDetector } from '../../src/thresholds/index.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    let v = next();
    while (v === 0) v = next();
    return v; // in (0, 1)
  };
}

const exponential = (u: () => number, n: number) => Float64Array.from({ length: n }, () => -Math.log(u()));

test('GPD formulas: log-likelihood and z_q by hand', () => {
  // y = [1], gamma 0, sigma 1: -log 1 - 1/1 = -1
  assert.equal(gpdLogLikelihood([1], 0, 1), -1);
  // y = [2], gamma 0.5, sigma 1: -log 1 - (1 + 2) log(1 + 0.5 * 2) = -3 ln 2
  assert.ok(Math.abs(gpdLogLikelihood([2], 0.5, 1) + 3 * Math.LN2) < 1e-15);
  // outside the support (1 + gamma y / sigma <= 0): -inf
  assert.equal(gpdLogLikelihood([3], -0.5, 1), -Infinity);
  // t = 1, n = 100, N_t = 10, q = 0.01 -> r = q n / N_t = 0.1
  //   gamma 0:   z = 1 - 2 ln 0.1 = 5.605170186
  //   gamma 0.5: z = 1 + (2 / 0.5)(0.1^-0.5 - 1) = 1 + 4 * 2.16227766 = 9.649110641
  assert.ok(Math.abs(gpdQuantileThreshold(1, 0, 2, 0.01, 100, 10) - 5.605170186) < 1e-9);
  assert.ok(Math.abs(gpdQuantileThreshold(1, 0.5, 2, 0.01, 100, 10) - 9.649110641) < 1e-9);
});

test('method of moments by hand, and its fallbacks', () => {
  // excesses [1, 2, 3]: mean 2, unbiased variance 1, m^2/s^2 = 4
  //   gamma = (1 - 4)/2 = -1.5, sigma = 2 (1 + 4)/2 = 5
  const m = fitGpd([1, 2, 3], { method: 'moments' });
  assert.equal(m.method, 'moments');
  assert.equal(m.gamma, -1.5);
  assert.equal(m.sigma, 5);
  // identical excesses: moments undefined (zero variance), ML has only the exponential solution
  const e = fitGpd([2, 2, 2]);
  assert.deepEqual([e.method, e.gamma, e.sigma], ['exponential', 0, 2]);
  assert.equal(fitGpd([2, 2, 2], { method: 'moments' }).method, 'exponential');
  // pathological scale (min^2 underflows, Grimshaw's bound is infinite): falls back to moments
  const tiny = fitGpd([1e-170, 1, 2, 3]);
  assert.equal(tiny.method, 'moments');
});

test('Grimshaw ML recovers the shape of Pareto (gamma 0.5) and bounded (gamma -0.5) tails', () => {
  const u = rng(21);
  // Lomax excesses: Y = sigma/gamma (U^-gamma - 1) with gamma 0.5, sigma 1
  const heavy = Float64Array.from({ length: 3000 }, () => 2 * (Math.pow(u(), -0.5) - 1));
  const h = fitGpd(heavy);
  assert.equal(h.method, 'grimshaw');
  assert.ok(Math.abs(h.gamma - 0.5) < 0.08, `gamma ${h.gamma}`);
  assert.ok(Math.abs(h.sigma - 1) < 0.1, `sigma ${h.sigma}`);
  // gamma -0.5, sigma 1: Y = 2 (1 - sqrt(U)) on (0, 2) (found on the negative interval)
  const bounded = Float64Array.from({ length: 3000 }, () => 2 * (1 - Math.sqrt(u())));
  const b = fitGpd(bounded);
  assert.equal(b.method, 'grimshaw');
  assert.ok(Math.abs(b.gamma + 0.5) < 0.08, `gamma ${b.gamma}`);
  // the ML fit beats the moments fit in likelihood
  assert.ok(h.logLikelihood >= fitGpd(heavy, { method: 'moments' }).logLikelihood);
});

test('SPOT on exponential data: shape ~ 0, z_q within a few percent of the analytic quantile', () => {
  const u = rng(2);
  const spot = new SpotDetector({ q: 1e-4, level: 0.98 }).fit(exponential(u, 200_000));
  // Exp(1): excesses over any t are Exp(1) -> gamma 0, sigma 1; P(X > z) = e^-z = q -> z = ln(1e4)
  assert.ok(Math.abs(spot.gpd.gamma) < 0.05, `gamma ${spot.gpd.gamma}`);
  assert.ok(Math.abs(spot.gpd.sigma - 1) < 0.05, `sigma ${spot.gpd.sigma}`);
  const z = -Math.log(1e-4); // 9.2103
  assert.ok(Math.abs(spot.threshold / z - 1) < 0.03, `z ${spot.threshold} vs ${z}`);
  // t is the 0.98 quantile, ln 50 = 3.912; about 2% of values are peaks
  assert.ok(Math.abs(spot.initialThreshold - Math.log(50)) < 0.05);
  assert.ok(Math.abs(spot.peakCount / 200_000 - 0.02) < 1e-3);
});

test('SPOT on Pareto and bounded data: shape estimates and z_q', () => {
  const u = rng(4);
  // Pareto(1, alpha 2): P(X > x) = x^-2; excesses over t are GPD(gamma 1/2). z = q^-1/2 = 100.
  const p = new SpotDetector({ q: 1e-4 }).fit(Float64Array.from({ length: 100_000 }, () => Math.pow(u(), -0.5)));
  assert.ok(Math.abs(p.gpd.gamma - 0.5) < 0.08, `gamma ${p.gpd.gamma}`);
  assert.ok(Math.abs(p.threshold / 100 - 1) < 0.2, `z ${p.threshold}`);
  // X = 1 - sqrt(U): P(X > x) = (1 - x)^2, excesses GPD(gamma -1/2); z = 1 - sqrt(q) = 0.99
  const b = new SpotDetector({ q: 1e-4 }).fit(Float64Array.from({ length: 100_000 }, () => 1 - Math.sqrt(u())));
  assert.ok(Math.abs(b.gpd.gamma + 0.5) < 0.08, `gamma ${b.gpd.gamma}`);
  assert.ok(Math.abs(b.threshold - 0.99) < 0.005, `z ${b.threshold}`);
});

test('streaming alarm rate on stationary data is close to q', () => {
  // Exp(1), q = 1e-3, 50 000 steps: about 50 alarms expected from the true quantile.
  // Paper rule (alarms not learnt): the censored tail pulls z_q down, about 2q; learning from
  // alarms (plain POT estimate): about q.
  const q = 1e-3;
  const u = rng(6);
  const calibration = exponential(u, 5000);
  const stream = exponential(u, 50_000);
  const paper = new SpotDetector({ q }).fit(calibration).run(stream);
  const learn = new SpotDetector({ q, learnFromAlarms: true }).fit(calibration).run(stream);
  const ratePaper = paper.alarms.length / stream.length;
  const rateLearn = learn.alarms.length / stream.length;
  assert.ok(rateLearn > 0.7 * q && rateLearn < 1.4 * q, `learn rate ${rateLearn}`);
  assert.ok(ratePaper > 0.5 * q && ratePaper < 3 * q, `paper rate ${ratePaper}`);
  // step() reports the threshold the value was compared with and alarms iff x > threshold
  for (let i = 0; i < 200; i++) {
    const th = paper.thresholds[i]!;
    assert.equal(paper.alarms.includes(i), stream[i]! > th);
  }
});

test('SPOT alarms on an injected spike and keeps it out of the peaks', () => {
  const u = rng(8);
  const spot = new SpotDetector({ q: 1e-3 }).fit(exponential(u, 5000));
  const before = spot.peakCount;
  const n = spot.observations;
  const r = spot.step(50);
  assert.equal(r.alarm, true);
  assert.equal(spot.peakCount, before);
  assert.equal(spot.observations, n);
  // a normal value below t only counts an observation
  const r2 = spot.step(0.01);
  assert.equal(r2.alarm, false);
  assert.equal(spot.observations, n + 1);
});

test('DSPOT follows a drifting level; SPOT does not', () => {
  const u = rng(10);
  // Level rising by 0.004 per step plus Exp(1) noise; calibrate on 2000 steps, stream 6000.
  const all = Float64Array.from({ length: 8000 }, (_, i) => 0.004 * i - Math.log(u()));
  const calibration = all.subarray(0, 2000);
  const stream = all.subarray(2000);
  const d = new SpotDetector({ q: 1e-3, depth: 20 }).fit(calibration).run(stream);
  const s = new SpotDetector({ q: 1e-3 }).fit(calibration).run(stream);
  // the level climbs by 24 over the stream: SPOT soon flags nearly everything
  assert.ok(s.alarms.length > 4000, `spot ${s.alarms.length}`);
  // DSPOT works on residuals from the moving average and stays near the risk level
  assert.ok(d.alarms.length < 4 * 1e-3 * stream.length, `dspot ${d.alarms.length}`);
  // the DSPOT threshold is in data units: it rises with the level (about 24 over the stream)
  const rise = d.thresholds[stream.length - 1]! - d.thresholds[0]!;
  assert.ok(Math.abs(rise - 24) < 2, `rise ${rise}`);
  // threshold = z_q + mean of the last `depth` non-alarm values; with depth 1 that mean is simply
  // the previous value, which makes it checkable by hand.
  const cal = exponential(u, 2000);
  const one = new SpotDetector({ q: 1e-2, depth: 1 }).fit(cal);
  const m = cal[cal.length - 1]!;
  const z0 = one.threshold - m;
  const x = m + one.initialThreshold - 0.5; // residual x - m below t: no peak, z_q unchanged
  const st = one.step(x);
  assert.equal(st.alarm, false);
  assert.ok(Math.abs(st.threshold - (z0 + m)) < 1e-12);
  assert.ok(Math.abs(one.threshold - (z0 + x)) < 1e-12);
});

test('SPOT input and state errors', () => {
  const is = (code: string, re: RegExp) => (e: unknown) => e instanceof VigilError && e.code === code && re.test(e.message);
  assert.throws(() => new SpotDetector({ q: 0 }), is('E_CONFIG', /^q: is 0/));
  assert.throws(() => new SpotDetector({ level: 1 }), is('E_CONFIG', /^level: is 1/));
  assert.throws(() => new SpotDetector({ depth: -1 }), is('E_CONFIG', /^depth/));
  assert.throws(() => new SpotDetector().step(1), is('E_NOT_FITTED', /fit/));
  assert.throws(() => new SpotDetector().threshold, is('E_NOT_FITTED', /fit/));
  assert.throws(() => new SpotDetector().fit([1, NaN, 2]), is('E_VALUE', /^calibration: element 1 is NaN/));
  assert.throws(() => new SpotDetector().fit(new Array(100).fill(3)), is('E_VALUE', /^calibration: no value exceeds/));
  assert.throws(() => new SpotDetector({ depth: 10 }).fit([1, 2, 3]), is('E_VALUE', /^calibration: has 3 values, DSPOT with depth 10/));
  assert.throws(() => new SpotDetector({ q: 0.5 }).fit(exponential(rng(1), 100)), is('E_CONFIG', /^q: risk 0.5/));
  const fitted = new SpotDetector({ q: 1e-3 }).fit(exponential(rng(1), 1000));
  assert.throws(() => fitted.step(NaN), is('E_VALUE', /^x: is NaN/));
  assert.throws(() => fitGpd([1, -2]), is('E_VALUE', /^excesses: element 1 is -2/));
});
