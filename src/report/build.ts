/**
 * What a report shows, computed from a trained detector and its scores on a labelled data set:
 * ranking curves, score distributions, the confusion matrix at the model's threshold, per-class
 * figures, the worst false positives / negatives (with heatmaps or series plots), the training
 * history, the labels the threshold rests on and the false alarms to expect at it.
 *
 * Images and table rows are judged per sample. Series are judged per step (the model's step map
 * against the step labels), the unit their threshold is fitted in; their worst cases are the steps
 * (false positives) and labelled anomaly segments (false negatives) that fare worst.
 */
import type { Detector } from '../core/detector.js';
import { VigilError } from '../core/errors.js';
import type { EpochRecord, ImageSample, InputKind, ScoreResult, Series } from '../core/types.js';
import { encodePng, heatmapOverlay } from '../data/images.js';
import { auroc, prCurve, rocCurve } from '../metrics/index.js';
import { evaluateScores, type Evaluation, type LabelledScore } from '../pipeline/evaluate.js';
import { defaultAlarmUnit, exceedanceRate, falseAlarmTargetFromParams, samplesPerUnit, type AlarmUnit } from '../thresholds/false-alarm.js';

export interface WorstCase {
  source: string;
  score: number;
  label: 0 | 1;
  category?: string;
  /** The detector's explanation (its reason summary and largest contributors). */
  reason?: string;
  /** Images: the input and the heatmap overlay, as PNG data URIs. */
  imageUri?: string;
  heatmapUri?: string;
  /** Series: the steps shown and their values (channels as rows), scores and labels. */
  plot?: { start: number; steps: number[]; channels: { name: string; values: number[] }[]; scores: number[]; labels: number[] };
}

export interface FalseAlarmFigures {
  unit: AlarmUnit;
  /** Scored samples (or steps) per unit; null for per-day/hour without a known interval. */
  samplesPerUnit: number | null;
  intervalSeconds: number | null;
  /**
   * False alarms per unit the threshold method aims at: fpr x S (quantile), risk x S (SPOT), the
   * target (false-alarm-rate); null for label-based thresholds.
   */
  nominal: number | null;
  /** Measured at the threshold on the model's held-out normal training scores. */
  expectedFromValidation: number | null;
  /** How many held-out normal scores that measurement rests on. */
  validationScores: number;
  /** The same measured on this data set's normal samples. */
  observedOnTest: number | null;
  /** The target, when the threshold was set for one. */
  target: { rate: number; per: AlarmUnit } | null;
}

export interface ReportData {
  title: string;
  generatedAt: string;
  modelDir: string;
  dataset: string;
  inputKind: InputKind;
  /** What one scored unit is: `image`, `row`, `step`. */
  unit: string;
  model: {
    kind: string;
    config: Record<string, unknown>;
    input: Record<string, unknown>;
    threshold: number;
    method: string | null;
    params: Record<string, number>;
    labelsUsed: number;
    trainSamples: number | null;
    validationSamples: number | null;
  };
  evaluation: Evaluation;
  scores: { normal: number[]; anomalous: number[] };
  roc: { fpr: number[]; tpr: number[] };
  pr: { recall: number[]; precision: number[] };
  history: EpochRecord[];
  falseAlarms: FalseAlarmFigures;
  worst: { falsePositives: WorstCase[]; falseNegatives: WorstCase[] };
  /** Samples in the data set (series: series, not steps). */
  samples: number;
}

export interface BuildReportOptions {
  modelDir: string;
  dataset: string;
  title?: string;
  /** Worst cases shown per kind (default 6). */
  worst?: number;
  /** Sampling interval of series, for alarms per day (default: the median timestamp step). */
  intervalSeconds?: number;
}

function toBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = v > 0 ? (v >= 1 ? 255 : Math.round(v * 255)) : 0;
  }
  return out;
}

async function pngUri(image: { height: number; width: number; channels: 1 | 3; data: Float32Array }): Promise<string> {
  const png = await encodePng(toBytes(image.data), image.height, image.width, image.channels);
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** Median step between timestamps (epoch ms) in seconds, or null when they look like indices. */
export function medianIntervalSeconds(series: readonly Series[]): number | null {
  const d: number[] = [];
  for (const s of series) for (let t = 1; t < s.length && d.length < 100_000; t++) d.push(s.timestamps[t]! - s.timestamps[t - 1]!);
  if (d.length === 0) return null;
  d.sort((a, b) => a - b);
  const med = d[Math.floor(d.length / 2)]!;
  // Index timestamps (0, 1, 2...) carry no time.
  if (Math.abs(series[0]!.timestamps[0]!) < 1e11) return null;
  return med / 1000;
}

function falseAlarmFigures(inputKind: InputKind, threshold: number, method: string | null, params: Record<string, number>, validationScores: number[], testNormal: number[], interval: number | null): FalseAlarmFigures {
  const target = method === 'false-alarm-rate' ? falseAlarmTargetFromParams(params) : null;
  const unit = target?.per ?? defaultAlarmUnit(inputKind);
  const intervalSeconds = target?.intervalSeconds ?? interval;
  let S: number | null = null;
  try {
    S = samplesPerUnit(unit, intervalSeconds ?? undefined);
  } catch {
    S = null;
  }
  const rate = method === 'quantile' ? params.fpr : method === 'spot' ? params.risk : method === 'false-alarm-rate' ? params.fpr : undefined;
  return {
    unit,
    nominal: S !== null && rate !== undefined && Number.isFinite(rate) ? rate * S : null,
    samplesPerUnit: S,
    intervalSeconds: unit === 'thousand' ? null : intervalSeconds,
    validationScores: validationScores.length,
    expectedFromValidation: S !== null && validationScores.length > 0 ? exceedanceRate(validationScores, threshold) * S : null,
    observedOnTest: S !== null && testNormal.length > 0 ? exceedanceRate(testNormal, threshold) * S : null,
    target: target ? { rate: target.rate, per: target.per } : null,
  };
}

function reasonText(r: ScoreResult): string | undefined {
  const top = r.reason?.top?.slice(0, 3).map((t) => `${t.name} ${(100 * t.contribution).toFixed(0)}%`);
  const text = [r.reason?.summary, top?.length ? `top: ${top.join(', ')}` : ''].filter(Boolean).join('; ');
  return text || undefined;
}

/** Contiguous runs of 1 in `labels`, as [start, end). */
function runs(labels: ArrayLike<number>): [number, number][] {
  const out: [number, number][] = [];
  let start = -1;
  for (let t = 0; t <= labels.length; t++) {
    const on = t < labels.length && labels[t]! > 0;
    if (on && start < 0) start = t;
    if (!on && start >= 0) {
      out.push([start, t]);
      start = -1;
    }
  }
  return out;
}

function seriesPlot(s: Series, map: Float32Array, center: number, half: number): WorstCase['plot'] {
  const start = Math.max(0, center - half);
  const end = Math.min(s.length, center + half + 1);
  const steps: number[] = [];
  for (let t = start; t < end; t++) steps.push(t);
  const channels = s.columns.slice(0, 3).map((name, c) => ({ name, values: steps.map((t) => s.values[t * s.channels + c]!) }));
  return { start, steps, channels, scores: steps.map((t) => map[t]!), labels: steps.map((t) => (s.labels ? s.labels[t]! : 0)) };
}

/** Computes the report's content; samples must carry labels (per sample, or per step for series). */
export async function buildReport<S>(detector: Detector<S>, samples: S[], results: ScoreResult[], o: BuildReportOptions): Promise<ReportData> {
  const summary = detector.summary();
  const pp = detector.postprocess.state;
  if (pp.threshold === null) throw new VigilError('E_NOT_FITTED', `${o.modelDir}: the model has no threshold`);
  const threshold = pp.threshold;
  const inputKind = detector.inputKind;
  const worstCount = o.worst ?? 6;
  const training = summary.training;
  const validationScores = training?.validationScores ?? [];
  let items: LabelledScore[];
  let interval: number | null = o.intervalSeconds ?? null;
  const fps: WorstCase[] = [];
  const fns: WorstCase[] = [];

  if (inputKind === 'series') {
    const series = samples as unknown as Series[];
    interval ??= medianIntervalSeconds(series);
    items = [];
    series.forEach((s, i) => {
      const map = results[i]!.map;
      if (!s.labels) throw new VigilError('E_VALUE', `${s.source}: a series report needs step labels`, { file: s.source });
      if (!map || map.values.length !== s.length) throw new VigilError('E_SHAPE', `${s.source}: the detector gave no step map of ${s.length} steps`, { file: s.source });
      for (let t = 0; t < s.length; t++) items.push({ score: map.values[t]!, label: s.labels[t]! > 0 ? 1 : 0, category: s.source });
    });
    const half = Math.max(32, Math.round(((summary.config.window as number | undefined) ?? 64) * 1.5));
    // False positives: the highest normal step of each series, worst first.
    const fpCands: { i: number; t: number; score: number }[] = [];
    const fnCands: { i: number; run: [number, number]; score: number; missed: number }[] = [];
    series.forEach((s, i) => {
      const m = results[i]!.map!.values;
      let best = -1;
      for (let t = 0; t < s.length; t++) if (!s.labels![t] && m[t]! >= threshold && (best < 0 || m[t]! > m[best]!)) best = t;
      if (best >= 0) fpCands.push({ i, t: best, score: m[best]! });
      // False negatives: labelled segments with missed steps, those whose best step scores lowest first.
      for (const run of runs(s.labels!)) {
        let peak = run[0];
        let missed = 0;
        for (let t = run[0]; t < run[1]; t++) {
          if (m[t]! > m[peak]!) peak = t;
          if (m[t]! < threshold) missed++;
        }
        if (missed > 0) fnCands.push({ i, run, score: m[peak]!, missed });
      }
    });
    fpCands.sort((a, b) => b.score - a.score);
    fnCands.sort((a, b) => a.score - b.score || b.missed / (b.run[1] - b.run[0]) - a.missed / (a.run[1] - a.run[0]));
    for (const c of fpCands.slice(0, worstCount)) {
      const s = series[c.i]!;
      fps.push({ source: `${s.source} @ step ${c.t}`, score: c.score, label: 0, plot: seriesPlot(s, results[c.i]!.map!.values, c.t, half) });
    }
    for (const c of fnCands.slice(0, worstCount)) {
      const s = series[c.i]!;
      const mid = Math.round((c.run[0] + c.run[1]) / 2);
      fns.push({ source: `${s.source} @ steps ${c.run[0]}-${c.run[1] - 1} (${c.missed} of ${c.run[1] - c.run[0]} steps missed)`, score: c.score, label: 1, plot: seriesPlot(s, results[c.i]!.map!.values, mid, Math.max(half, c.run[1] - c.run[0])) });
    }
  } else {
    items = samples.map((s, i) => {
      const x = s as unknown as { label?: 0 | 1; category?: string; mask?: Uint8Array | null; source: string };
      if (x.label === undefined) throw new VigilError('E_VALUE', `${x.source}: no label (normal or anomalous) known for this sample`, { file: x.source });
      return { score: results[i]!.score, label: x.label, category: x.category, map: results[i]!.map, mask: x.mask };
    });
    const order = items.map((_, i) => i);
    const fpIdx = order.filter((i) => items[i]!.label === 0 && items[i]!.score >= threshold).sort((a, b) => items[b]!.score - items[a]!.score).slice(0, worstCount);
    const fnIdx = order.filter((i) => items[i]!.label === 1 && items[i]!.score < threshold).sort((a, b) => items[a]!.score - items[b]!.score).slice(0, worstCount);
    // One colour scale for every heatmap shown, so that they compare.
    let lo = Infinity;
    let hi = -Infinity;
    for (const i of [...fpIdx, ...fnIdx]) for (const v of results[i]!.map?.values ?? []) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const card = async (i: number): Promise<WorstCase> => {
      const s = samples[i] as unknown as ImageSample & { source: string };
      const c: WorstCase = { source: s.source, score: items[i]!.score, label: items[i]!.label, category: items[i]!.category, reason: reasonText(results[i]!) };
      if (inputKind === 'image' && s.image) {
        c.imageUri = await pngUri(s.image);
        const map = results[i]!.map;
        if (map && map.height === s.image.height && map.width === s.image.width) {
          c.heatmapUri = await pngUri(heatmapOverlay(s.image, map.values, { min: lo, max: hi, alpha: 0.5 }));
        }
      }
      return c;
    };
    for (const i of fpIdx) fps.push(await card(i));
    for (const i of fnIdx) fns.push(await card(i));
  }

  const evaluation = evaluateScores(items, threshold);
  if (inputKind === 'series') {
    // Per series: its own steps against its own step labels (the generic per-category figures
    // compare a category's members against every normal sample, which mixes series).
    const perSeries: Evaluation['perCategory'] = {};
    (samples as unknown as Series[]).forEach((s, i) => {
      const m = results[i]!.map!.values;
      const lab = Array.from(s.labels!, (l) => (l > 0 ? 1 : 0));
      const pos = lab.reduce((a: number, b) => a + b, 0);
      let sum = 0;
      let detected = 0;
      for (let t = 0; t < s.length; t++) {
        sum += m[t]!;
        if (m[t]! >= threshold) detected++;
      }
      perSeries[s.source] = { samples: s.length, auroc: pos > 0 && pos < s.length ? auroc(Array.from(m), lab) : null, meanScore: sum / s.length, detected };
    });
    evaluation.perCategory = perSeries;
  }
  const scores = items.map((i) => i.score);
  const labels = items.map((i) => i.label);
  const roc = rocCurve(scores, labels);
  const pr = prCurve(scores, labels);
  const normal = items.filter((i) => i.label === 0).map((i) => i.score);
  const anomalous = items.filter((i) => i.label === 1).map((i) => i.score);
  return {
    title: o.title ?? `${summary.kind} on ${o.dataset}`,
    generatedAt: new Date().toISOString(),
    modelDir: o.modelDir,
    dataset: o.dataset,
    inputKind,
    unit: inputKind === 'series' ? 'step' : inputKind === 'table' ? 'row' : 'image',
    model: {
      kind: summary.kind,
      config: summary.config,
      input: summary.input,
      threshold,
      method: pp.method,
      params: pp.params,
      labelsUsed: pp.labelsUsed,
      trainSamples: training?.trainSamples ?? null,
      validationSamples: training?.validationSamples ?? null,
    },
    evaluation,
    scores: { normal, anomalous },
    roc: { fpr: Array.from(roc.fpr), tpr: Array.from(roc.tpr) },
    pr: { recall: Array.from(pr.recall), precision: Array.from(pr.precision) },
    history: training?.history ?? [],
    falseAlarms: falseAlarmFigures(inputKind, threshold, pp.method, pp.params, validationScores, normal, interval),
    worst: { falsePositives: fps, falseNegatives: fns },
    samples: samples.length,
  };
}
