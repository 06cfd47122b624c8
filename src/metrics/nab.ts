/**
 * The Numenta Anomaly Benchmark (NAB v1.1) scoring, reimplemented from the behaviour of
 * numenta/NAB's `nab/sweeper.py` (per-row scores and the threshold sweep), `nab/optimizer.py`
 * (threshold optimisation over the pooled corpus), `nab/runner.py` (normalisation) and
 * `config/profiles.json` (cost matrices).
 *
 * Per series (n rows, anomaly windows [start, end] given as timestamps, inclusive):
 *   - probationary period: the first min(floor(p n), p * 5000) rows, p = 0.15, i.e.
 *     min(floor(0.15 n), 750) rows, are not scored at all (NAB's `getProbationPeriod`; note the
 *     cap is 15% of 5000 rows, not 5000 rows);
 *   - sigma(x) = 2 / (1 + exp(5 x)) - 1 is the scaled sigmoid (-1 for x > 3);
 *   - a row i inside a window of w rows ending at row e gets TP weight
 *       A_tp * sigma(-(e - i + 1) / w) / sigma(-1)
 *     (exactly A_tp at the window's first row, decreasing towards the end, still > 0 at its
 *     last row);
 *   - a row outside every window, after a window of w rows ending at row e (the closest preceding
 *     one), gets FP weight |A_fp| * sigma((i - e) / (w - 1)) (about -|A_fp| right after the
 *     window, rising towards 0, -|A_fp| for far-away rows); a row before the first window gets
 *     -|A_fp|. (NAB divides by zero for one-row windows; here that case gives -|A_fp|.)
 *   - a detection is a row with score >= threshold. Each window contributes the weight of its
 *     *first* (i.e. largest-weight) detected row, or A_fn (negative) if none of its scorable rows
 *     is detected; every detected row outside windows adds its FP weight. Windows that lie
 *     entirely in the probationary period contribute nothing. True negatives score 0.
 * Corpus: the rows of all series are pooled and the threshold is swept over every distinct
 * score (plus "no detection"); the threshold with the highest summed raw score wins (ties: the
 * higher threshold, as NAB's stable sort keeps the first). Normalised score:
 *     100 * (raw - null) / (perfect - null)
 * with null = the raw score without detections (sum of A_fn over scorable windows; NAB's null
 * detector after its own threshold optimisation, which is this value on any realistic corpus)
 * and perfect = A_tp * (number of windows), as NAB's runner computes it.
 *
 * Profiles are signed rewards: { tp: +1, fp: -0.11, fn: -1, tn: 0 } for 'standard'; NAB stores
 * the same numbers as positive costs (fpWeight 0.11, fnWeight 1.0). `tn` is unused (NAB ignores
 * tnWeight).
 */
import { VigilError } from '../core/errors.js';
import { checkRange, checkScores, checkThreshold, rankValues } from './internal.js';

export interface NabProfile {
  /** Reward of a detection at the very start of a window (> 0). */
  tp: number;
  /** Reward (<= 0) of a detection far from any window. */
  fp: number;
  /** Reward (<= 0) of a window with no detection. */
  fn: number;
  /** Unused by NAB (kept for completeness; 0). */
  tn: number;
}

export type NabProfileName = 'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate';

/** NAB v1.1 `config/profiles.json`, as signed rewards. */
export const NAB_PROFILES: Readonly<Record<NabProfileName, Readonly<NabProfile>>> = Object.freeze({
  standard: Object.freeze({ tp: 1, fp: -0.11, fn: -1, tn: 0 }),
  reward_low_FP_rate: Object.freeze({ tp: 1, fp: -0.22, fn: -1, tn: 0 }),
  reward_low_FN_rate: Object.freeze({ tp: 1, fp: -0.11, fn: -2, tn: 0 }),
});

export interface NabSeries {
  name: string;
  /** Row timestamps (any unit, e.g. epoch ms or row numbers), strictly increasing. */
  timestamps: ArrayLike<number>;
  /** Anomaly score of each row (finite; NAB detectors emit [0, 1]). */
  scores: ArrayLike<number>;
  /** Anomaly windows [start, end] in timestamp units, inclusive, non-overlapping. */
  windows: ReadonlyArray<readonly [number, number]>;
}

export interface NabOptions {
  /** Fraction of each series in the probationary period (default 0.15). */
  probationaryPercent?: number;
}

export interface NabSeriesResult {
  name: string;
  threshold: number;
  /** Raw NAB score of the series at the threshold. */
  score: number;
  /** Row counts over scorable (non-probationary) rows, as NAB reports them. */
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** Windows in the series / with at least one scorable row / detected. */
  windows: number;
  scorableWindows: number;
  detectedWindows: number;
  /** Raw score without detections, and A_tp * windows. */
  nullScore: number;
  perfectScore: number;
  probationaryRows: number;
}

export interface NabCorpusResult {
  /** Normalised score, 100 * (raw - null) / (perfect - null). */
  score: number;
  /** The optimal threshold (detections: score >= threshold; +Infinity = no detection). */
  threshold: number;
  rawScore: number;
  nullScore: number;
  perfectScore: number;
  perSeries: NabSeriesResult[];
}

/** NAB's scaled sigmoid: 2 * sigmoid(-5 x) - 1, or -1 when x > 3. */
export function nabScaledSigmoid(x: number): number {
  if (x > 3) return -1;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

/** Rows excluded from scoring: min(floor(p n), p * 5000). */
export function nabProbationaryLength(rows: number, probationaryPercent = 0.15): number {
  return Math.min(Math.floor(probationaryPercent * rows), probationaryPercent * 5000);
}

function resolveProfile(profile: NabProfile | NabProfileName): NabProfile {
  if (typeof profile === 'string') {
    const p = (NAB_PROFILES as Record<string, NabProfile>)[profile];
    if (!p) {
      throw new VigilError('E_CONFIG', `profile: unknown NAB profile '${profile}', expected one of ${Object.keys(NAB_PROFILES).join(', ')}`, {
        field: 'profile',
      });
    }
    return p;
  }
  if (!profile || typeof profile !== 'object') throw new VigilError('E_CONFIG', 'profile: expected a profile name or { tp, fp, fn, tn }', { field: 'profile' });
  const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!ok(profile.tp) || profile.tp <= 0) throw new VigilError('E_CONFIG', `profile.tp: is ${String(profile.tp)}, expected a reward > 0`, { field: 'profile.tp' });
  if (!ok(profile.fp) || profile.fp > 0) throw new VigilError('E_CONFIG', `profile.fp: is ${String(profile.fp)}, expected a reward <= 0`, { field: 'profile.fp' });
  if (!ok(profile.fn) || profile.fn > 0) throw new VigilError('E_CONFIG', `profile.fn: is ${String(profile.fn)}, expected a reward <= 0`, { field: 'profile.fn' });
  return profile;
}

/** Per-row sweep weights of one series. */
interface Prepared {
  name: string;
  scores: ArrayLike<number>;
  /** Weight each row would add if detected (TP weight inside windows, FP weight outside). */
  weight: Float64Array;
  /** Window index (0-based, within the series) of each row; -1 outside windows; -2 probationary. */
  window: Int32Array;
  windows: number;
  /** Windows with at least one scorable row. */
  scorable: Uint8Array;
  probationaryRows: number;
}

function prepare(series: NabSeries, profile: NabProfile, probationaryPercent: number, field: string): Prepared {
  if (!series || typeof series !== 'object') throw new VigilError('E_VALUE', `${field}: expected { name, timestamps, scores, windows }`, { field });
  const name = String(series.name);
  const where = `${field} (${name})`;
  checkScores(series.timestamps, `${where}.timestamps`);
  checkScores(series.scores, `${where}.scores`);
  const ts = series.timestamps;
  const n = ts.length;
  if (series.scores.length !== n) {
    throw new VigilError('E_SHAPE', `${where}.scores: has ${series.scores.length} values but timestamps has ${n}`, { field: `${where}.scores` });
  }
  for (let i = 1; i < n; i++) {
    if (!(ts[i]! > ts[i - 1]!)) {
      throw new VigilError('E_VALUE', `${where}.timestamps: element ${i} (${ts[i]}) is not after element ${i - 1} (${ts[i - 1]}); timestamps must increase strictly`, {
        field: `${where}.timestamps`,
        index: i,
      });
    }
  }
  if (!Array.isArray(series.windows)) throw new VigilError('E_VALUE', `${where}.windows: expected an array of [start, end] pairs`, { field: `${where}.windows` });

  // Windows as row ranges (first row with t >= start, last row with t <= end).
  const bounds: { s: number; e: number }[] = [];
  const lower = (x: number) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ts[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const upper = (x: number) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ts[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  series.windows.forEach((w, k) => {
    if (!Array.isArray(w) || w.length !== 2 || !Number.isFinite(w[0]) || !Number.isFinite(w[1]) || !(w[0] <= w[1])) {
      const wf = `${where}.windows[${k}]`;
      throw new VigilError('E_VALUE', `${wf}: is ${JSON.stringify(w)}, expected [start, end] with finite start <= end`, { field: wf });
    }
  });
  const sorted = series.windows.map((w, k) => ({ w, k })).sort((a, b) => a.w[0] - b.w[0]);
  for (const { w, k } of sorted) {
    const wf = `${where}.windows[${k}]`;
    const s = lower(w[0]);
    const e = upper(w[1]) - 1;
    if (s > e || s >= n || e < 0) {
      throw new VigilError('E_VALUE', `${wf}: [${w[0]}, ${w[1]}] contains no timestamp of the series`, { field: wf });
    }
    const prev = bounds[bounds.length - 1];
    if (prev && s <= prev.e) throw new VigilError('E_VALUE', `${wf}: overlaps another window; NAB windows must be disjoint`, { field: wf });
    bounds.push({ s, e });
  }

  const probationaryRows = nabProbationaryLength(n, probationaryPercent);
  const maxTp = nabScaledSigmoid(-1);
  const fpCost = -profile.fp;
  const weight = new Float64Array(n);
  const window = new Int32Array(n).fill(-1);
  const scorable = new Uint8Array(bounds.length);
  let b = 0;
  let prevEnd = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const cur = b < bounds.length && i >= bounds[b]!.s ? bounds[b]! : null;
    if (cur) {
      const width = cur.e - cur.s + 1;
      weight[i] = (nabScaledSigmoid(-(cur.e - i + 1) / width) * profile.tp) / maxTp;
      window[i] = b;
    } else if (prevEnd < 0) {
      weight[i] = -1 * fpCost;
    } else {
      const position = prevWidth > 1 ? Math.abs(prevEnd - i) / (prevWidth - 1) : Infinity;
      weight[i] = nabScaledSigmoid(position) * fpCost;
    }
    if (i < probationaryRows) window[i] = -2;
    else if (cur) scorable[b] = 1;
    if (cur && i === cur.e) {
      prevEnd = i;
      prevWidth = cur.e - cur.s + 1;
      b++;
    }
  }
  return { name, scores: series.scores, weight, window, windows: bounds.length, scorable, probationaryRows };
}

function scorePrepared(p: Prepared, profile: NabProfile, threshold: number): NabSeriesResult {
  const best = new Float64Array(p.windows).fill(-Infinity);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let fpSum = 0;
  for (let i = 0; i < p.weight.length; i++) {
    const w = p.window[i]!;
    if (w === -2) continue;
    const detected = p.scores[i]! >= threshold;
    if (w === -1) {
      if (detected) {
        fp++;
        fpSum += p.weight[i]!;
      } else tn++;
    } else if (detected) {
      tp++;
      if (p.weight[i]! > best[w]!) best[w] = p.weight[i]!;
    } else fn++;
  }
  let score = 0;
  let scorableWindows = 0;
  let detectedWindows = 0;
  for (let w = 0; w < p.windows; w++) {
    if (!p.scorable[w]) continue;
    scorableWindows++;
    if (best[w]! > -Infinity) {
      detectedWindows++;
      score += best[w]!;
    } else score += profile.fn;
  }
  score += fpSum;
  return {
    name: p.name,
    threshold,
    score,
    tp,
    fp,
    tn,
    fn,
    windows: p.windows,
    scorableWindows,
    detectedWindows,
    nullScore: profile.fn * scorableWindows,
    perfectScore: profile.tp * p.windows,
    probationaryRows: p.probationaryRows,
  };
}

function resolveOptions(options: NabOptions): number {
  const p = options.probationaryPercent ?? 0.15;
  checkRange(p, 'probationaryPercent', 0, 1, { hiOpen: true });
  return p;
}

/**
 * Raw NAB score of one series at a fixed threshold (detection iff score >= threshold), with
 * NAB's row counts. Equivalent to NAB's `Sweeper.scoreDataSet(...)` matching row.
 */
export function scoreNabSeries(
  series: NabSeries,
  threshold: number,
  profile: NabProfile | NabProfileName = 'standard',
  options: NabOptions = {},
): NabSeriesResult {
  checkThreshold(threshold);
  const prof = resolveProfile(profile);
  return scorePrepared(prepare(series, prof, resolveOptions(options), 'series'), prof, threshold);
}

/**
 * NAB corpus score for one profile: sweeps every distinct score over the pooled corpus, keeps the
 * threshold with the highest summed raw score, and normalises (see the module comment).
 * Throws E_VALUE when the corpus has no window (the normalised score is undefined).
 */
export function scoreNabCorpus(
  corpus: readonly NabSeries[],
  profile: NabProfile | NabProfileName = 'standard',
  options: NabOptions = {},
): NabCorpusResult {
  if (!Array.isArray(corpus)) throw new VigilError('E_VALUE', 'corpus: expected an array of series', { field: 'corpus' });
  if (corpus.length === 0) throw new VigilError('E_EMPTY', 'corpus: is empty, expected at least one series', { field: 'corpus' });
  const prof = resolveProfile(profile);
  const pct = resolveOptions(options);
  const prepared = corpus.map((s, k) => prepare(s, prof, pct, `corpus[${k}]`));
  const totalWindows = prepared.reduce((a, p) => a + p.windows, 0);
  if (totalWindows === 0) {
    throw new VigilError('E_VALUE', 'corpus: no series has an anomaly window; the normalised NAB score is undefined', { field: 'corpus' });
  }

  // Pool the scorable rows: score, weight and a corpus-wide window id (-1 outside windows).
  let rows = 0;
  for (const p of prepared) for (let i = 0; i < p.window.length; i++) if (p.window[i] !== -2) rows++;
  const scores = new Float64Array(rows);
  const weight = new Float64Array(rows);
  const win = new Int32Array(rows);
  let offset = 0;
  let r = 0;
  let nullScore = 0;
  for (const p of prepared) {
    for (let i = 0; i < p.window.length; i++) {
      const w = p.window[i]!;
      if (w === -2) continue;
      scores[r] = p.scores[i]!;
      weight[r] = p.weight[i]!;
      win[r] = w === -1 ? -1 : offset + w;
      r++;
    }
    for (let w = 0; w < p.windows; w++) if (p.scorable[w]) nullScore += prof.fn;
    offset += p.windows;
  }

  // Bucket rows by distinct score (counting sort on ranks), then sweep from the top.
  const { uniq, rank } = rankValues(scores);
  const start = new Uint32Array(uniq.length + 1);
  for (let i = 0; i < rows; i++) start[rank[i]! + 1]++;
  for (let g = 0; g < uniq.length; g++) start[g + 1] += start[g]!;
  const order = new Uint32Array(rows);
  const fill = start.slice(0, uniq.length);
  for (let i = 0; i < rows; i++) order[fill[rank[i]!]!++] = i;

  const best = new Float64Array(totalWindows).fill(prof.fn);
  let total = nullScore;
  let bestScore = total;
  let bestThreshold = Infinity;
  for (let g = uniq.length - 1; g >= 0; g--) {
    for (let k = start[g]!; k < start[g + 1]!; k++) {
      const i = order[k]!;
      const w = win[i]!;
      if (w < 0) total += weight[i]!;
      else if (weight[i]! > best[w]!) {
        total += weight[i]! - best[w]!;
        best[w] = weight[i]!;
      }
    }
    if (total > bestScore) {
      bestScore = total;
      bestThreshold = uniq[g]!;
    }
  }

  const perSeries = prepared.map((p) => scorePrepared(p, prof, bestThreshold));
  const rawScore = perSeries.reduce((a, s) => a + s.score, 0);
  const perfectScore = prof.tp * totalWindows;
  return {
    score: (100 * (rawScore - nullScore)) / (perfectScore - nullScore),
    threshold: bestThreshold,
    rawScore,
    nullScore,
    perfectScore,
    perSeries,
  };
}
