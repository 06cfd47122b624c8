/**
 * Thresholds that target an expected number of false alarms, in the units operators think in:
 * alarms per day (or hour) for a stream scored every `intervalSeconds`, alarms per 1,000 samples
 * for images or table rows.
 *
 * With S scored samples per unit (S = 86,400 / interval per day, 3,600 / interval per hour, 1,000
 * per thousand) a target of r alarms per unit is a per-sample false-positive rate p = r / S, and a
 * threshold with false-positive rate p on normal data raises p S alarms per unit on average (every
 * exceedance counted as one alarm; merging consecutive exceedances into one event only lowers it).
 *
 * The threshold is read from held-out normal scores:
 *  - empirical, when the n scores resolve p (at least `minExceedances` of them are expected above
 *    the threshold, p n >= minExceedances): the lowest threshold flagging at most floor(p n) of
 *    them (`thresholdForFalsePositiveRate`, ties never split);
 *  - extrapolated, when p is below what n scores can show (typical for "1 alarm a day" at a
 *    one-minute interval: p = 1/1440): peaks over the `tailLevel` quantile t (lowered so that at
 *    least 5 scores exceed it) are fitted with a Generalised Pareto Distribution and
 *    z_p = t + sigma/gamma ((p n / N_t)^(-gamma) - 1) (the SPOT estimate, Siffer et al. KDD 2017;
 *    the exponential form when gamma = 0);
 *  - empirical again when p lies in the body rather than the tail (p above 1 - that level), or
 *    when fewer than 10 scores leave no tail to fit but at least one score is expected above.
 */
import { VigilError } from '../core/errors.js';
import { checkScores } from '../metrics/internal.js';
import { quantileThreshold, thresholdForFalsePositiveRate } from './quantile.js';
import { fitGpd, gpdQuantileThreshold } from './spot.js';

export type AlarmUnit = 'day' | 'hour' | 'thousand';

/** Fewest peaks a tail fit rests on. */
const MIN_PEAKS = 5;
export const ALARM_UNITS: readonly AlarmUnit[] = ['day', 'hour', 'thousand'];

/** "r false alarms per unit". */
export interface FalseAlarmTarget {
  /** Expected false alarms per unit (> 0). */
  rate: number;
  /** `day` / `hour` for streams (needs `intervalSeconds`), `thousand` per 1,000 samples. */
  per: AlarmUnit;
  /** Seconds between scored samples of a stream. */
  intervalSeconds?: number;
}

export interface FalseAlarmOptions {
  /** Exceedances the normal scores must be expected to hold for the empirical threshold (default 10). */
  minExceedances?: number;
  /** Quantile level of the peaks-over-threshold start for extrapolation (default 0.95). */
  tailLevel?: number;
}

export interface FalseAlarmThreshold {
  threshold: number;
  /** The per-sample false-positive rate the target asks for, r / S. */
  targetFpr: number;
  /** Fraction of the normal scores at or above the threshold. */
  empiricalFpr: number;
  /** Scored samples per unit, S. */
  samplesPerUnit: number;
  /** Expected false alarms per unit at the threshold (= the target when extrapolated). */
  expectedAlarms: number;
  method: 'empirical' | 'extrapolated';
  /** How many normal scores it rests on. */
  samples: number;
}

/** Samples scored per unit: 86,400 / interval (day), 3,600 / interval (hour), 1,000 (thousand). */
export function samplesPerUnit(per: AlarmUnit, intervalSeconds?: number): number {
  if (per === 'thousand') return 1000;
  if (per !== 'day' && per !== 'hour') {
    throw new VigilError('E_CONFIG', `per: "${String(per)}" is not one of ${ALARM_UNITS.join(', ')}`, { field: 'per', value: per });
  }
  if (intervalSeconds === undefined || !Number.isFinite(intervalSeconds) || intervalSeconds <= 0) {
    throw new VigilError('E_CONFIG', `intervalSeconds: alarms per ${per} need the sampling interval in seconds (got ${String(intervalSeconds)})`, {
      field: 'intervalSeconds',
      value: intervalSeconds,
    });
  }
  return (per === 'day' ? 86_400 : 3_600) / intervalSeconds;
}

/** Per-sample false-positive rate r / S of a target; E_CONFIG when it is not in (0, 1). */
export function targetFalsePositiveRate(target: FalseAlarmTarget): number {
  if (!Number.isFinite(target.rate) || target.rate <= 0) {
    throw new VigilError('E_CONFIG', `rate: ${target.rate} false alarms per ${target.per} must be a positive number`, { field: 'rate', value: target.rate });
  }
  const S = samplesPerUnit(target.per, target.intervalSeconds);
  const p = target.rate / S;
  if (p >= 1) {
    throw new VigilError('E_CONFIG', `rate: ${target.rate} alarms per ${target.per} is at least one alarm per sample (${S} samples per ${target.per})`, {
      field: 'rate',
      value: target.rate,
    });
  }
  return p;
}

/** Expected false alarms per unit for a per-sample false-positive rate. */
export function expectedFalseAlarms(fpr: number, per: AlarmUnit, intervalSeconds?: number): number {
  return fpr * samplesPerUnit(per, intervalSeconds);
}

/** Fraction of `scores` at or above `threshold`. */
export function exceedanceRate(scores: ArrayLike<number>, threshold: number): number {
  checkScores(scores, 'scores');
  let k = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! >= threshold) k++;
  return k / scores.length;
}

/** The threshold expected to raise `target.rate` false alarms per unit on data like `normalScores`. */
export function falseAlarmThreshold(normalScores: ArrayLike<number>, target: FalseAlarmTarget, opts: FalseAlarmOptions = {}): FalseAlarmThreshold {
  checkScores(normalScores, 'normalScores');
  const p = targetFalsePositiveRate(target);
  const S = samplesPerUnit(target.per, target.intervalSeconds);
  const n = normalScores.length;
  const minExceedances = opts.minExceedances ?? 10;
  const base = { targetFpr: p, samplesPerUnit: S, samples: n };
  if (p * n >= minExceedances) {
    const threshold = thresholdForFalsePositiveRate(normalScores, p);
    const empiricalFpr = exceedanceRate(normalScores, threshold);
    return { ...base, threshold, empiricalFpr, expectedAlarms: empiricalFpr * S, method: 'empirical' };
  }
  // Peaks over the `tailLevel` quantile, lowered when needed so that at least MIN_PEAKS scores lie above it.
  const level = Math.min(opts.tailLevel ?? 0.95, 1 - MIN_PEAKS / n);
  if (level < 0.5 || p >= 1 - level) {
    // Too few scores for a tail model, or the target lies in the body of the distribution: read it off the scores.
    if (p * n >= 1 || p >= 1 - level) {
      const threshold = thresholdForFalsePositiveRate(normalScores, p);
      const empiricalFpr = exceedanceRate(normalScores, threshold);
      return { ...base, threshold, empiricalFpr, expectedAlarms: empiricalFpr * S, method: 'empirical' };
    }
    throw new VigilError(
      'E_EMPTY',
      `a false-alarm rate of ${target.rate} per ${target.per} (p = ${p.toExponential(2)} per sample) needs more normal scores: ${n} neither resolve it nor allow a tail fit (at least ${2 * MIN_PEAKS} are needed)`,
      { samples: n },
    );
  }
  const t = quantileThreshold(normalScores, level);
  const excesses: number[] = [];
  for (let i = 0; i < n; i++) if (normalScores[i]! > t) excesses.push(normalScores[i]! - t);
  if (excesses.length < 2) throw new VigilError('E_EMPTY', `${n} normal scores have ${excesses.length} peak(s) over their ${level.toFixed(3)} quantile (ties): no tail to fit`, { samples: n });
  const gpd = fitGpd(excesses);
  // gpdQuantileThreshold: z = t + sigma/gamma ((q n / N_t)^(-gamma) - 1).
  let threshold = gpdQuantileThreshold(t, gpd.gamma, gpd.sigma, p, n, excesses.length);
  if (!Number.isFinite(threshold)) throw new VigilError('E_VALUE', `the tail fit of ${n} normal scores gave a non-finite threshold for p = ${p}`);
  threshold = Math.max(threshold, t);
  return { ...base, threshold, empiricalFpr: exceedanceRate(normalScores, threshold), expectedAlarms: p * S, method: 'extrapolated' };
}

/** The unit a report states for an input kind: per 1,000 images/rows, per day for streams. */
export function defaultAlarmUnit(inputKind: 'image' | 'series' | 'table'): AlarmUnit {
  return inputKind === 'series' ? 'day' : 'thousand';
}

/** Human text: "2.5 per day" / "10 per 1,000 images". */
export function formatAlarmRate(value: number, per: AlarmUnit, what = 'samples'): string {
  const v = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toPrecision(2);
  return per === 'thousand' ? `${v} per 1,000 ${what}` : `${v} per ${per}`;
}

/** Encodes a target as the numeric params a PostProcessor stores (unit as a code). */
export function falseAlarmParams(target: FalseAlarmTarget, result: FalseAlarmThreshold): Record<string, number> {
  const params: Record<string, number> = {
    rate: target.rate,
    unit: ALARM_UNITS.indexOf(target.per),
    samplesPerUnit: result.samplesPerUnit,
    fpr: result.targetFpr,
    expectedAlarms: result.expectedAlarms,
  };
  if (target.intervalSeconds !== undefined) params.intervalSeconds = target.intervalSeconds;
  return params;
}

/** The target back from PostProcessor params written by {@link falseAlarmParams}; null if absent. */
export function falseAlarmTargetFromParams(params: Record<string, number>): FalseAlarmTarget | null {
  const per = ALARM_UNITS[params.unit ?? -1];
  if (per === undefined || !(params.rate! > 0)) return null;
  return params.intervalSeconds !== undefined ? { rate: params.rate!, per, intervalSeconds: params.intervalSeconds } : { rate: params.rate!, per };
}

/**
 * Fits and sets the threshold on a post-processor (`setThreshold(..., 'false-alarm-rate', params)`).
 * `normalScores` are held-out normal scores (a model's FitReport.validationScores).
 */
export function applyFalseAlarmThreshold(
  postprocess: { setThreshold(threshold: number, method: 'false-alarm-rate', params: Record<string, number>, labelsUsed?: number): void },
  normalScores: ArrayLike<number>,
  target: FalseAlarmTarget,
  opts: FalseAlarmOptions = {},
): FalseAlarmThreshold {
  const r = falseAlarmThreshold(normalScores, target, opts);
  postprocess.setThreshold(r.threshold, 'false-alarm-rate', falseAlarmParams(target, r), 0);
  return r;
}
