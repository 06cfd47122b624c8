/**
 * Evaluation of scored samples against labels (and pixel masks): the figures `vigil evaluate`,
 * the benchmarks and the reports print. Pure: takes scores, never runs a model.
 */
import { VigilError } from '../core/errors.js';
import type { AnomalyMap, ScoreResult } from '../core/types.js';
import { auprc, auroc, confusionMatrix, pixelAuroc, pro } from '../metrics/index.js';
import { f1OptimalThreshold } from '../thresholds/index.js';

export interface ClassificationFigures {
  auroc: number;
  auprc: number;
  f1: number;
  precision: number;
  recall: number;
  threshold: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
  samples: number;
  anomalies: number;
  /** The best F1 any threshold reaches on this data (an upper bound for the chosen threshold). */
  bestF1: { threshold: number; f1: number };
}

export interface PixelFigures {
  auroc: number;
  /** Per-region overlap integrated up to 30% FPR, normalised to [0, 1]. */
  pro: number;
}

export interface Evaluation {
  image: ClassificationFigures;
  pixel: PixelFigures | null;
  /** AUROC of each anomaly category against the normal samples. */
  perCategory: Record<string, { samples: number; auroc: number | null; meanScore: number; detected: number }>;
}

export interface LabelledScore {
  score: number;
  label: 0 | 1;
  category?: string;
  map?: AnomalyMap;
  mask?: Uint8Array | null;
}

export function classificationFigures(scores: number[], labels: number[], threshold: number): ClassificationFigures {
  const anomalies = labels.reduce((a, b) => a + b, 0);
  if (anomalies === 0 || anomalies === labels.length) {
    throw new VigilError('E_EMPTY', `evaluation needs both normal and anomalous samples (got ${labels.length - anomalies} normal, ${anomalies} anomalous)`);
  }
  const predicted = scores.map((s) => (s >= threshold ? 1 : 0));
  const cm = confusionMatrix(predicted, labels);
  const precision = cm.tp + cm.fp > 0 ? cm.tp / (cm.tp + cm.fp) : 0;
  const recall = cm.tp + cm.fn > 0 ? cm.tp / (cm.tp + cm.fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  const best = f1OptimalThreshold(scores, labels);
  return {
    auroc: auroc(scores, labels),
    auprc: auprc(scores, labels),
    f1,
    precision,
    recall,
    threshold,
    confusion: { tp: cm.tp, fp: cm.fp, tn: cm.tn, fn: cm.fn },
    samples: labels.length,
    anomalies,
    bestF1: { threshold: best.threshold, f1: best.f1 },
  };
}

/** Image-level (and, when every anomalous sample has a mask, pixel-level) figures. */
export function evaluateScores(items: LabelledScore[], threshold: number): Evaluation {
  const scores = items.map((i) => i.score);
  const labels = items.map((i) => i.label);
  const image = classificationFigures(scores, labels, threshold);

  const perCategory: Evaluation['perCategory'] = {};
  const normalScores = items.filter((i) => i.label === 0).map((i) => i.score);
  const categories = [...new Set(items.map((i) => i.category ?? (i.label ? 'anomalous' : 'good')))].sort();
  for (const cat of categories) {
    const members = items.filter((i) => (i.category ?? (i.label ? 'anomalous' : 'good')) === cat);
    const catScores = members.map((m) => m.score);
    const isAnomalous = members.some((m) => m.label === 1);
    perCategory[cat] = {
      samples: members.length,
      auroc: isAnomalous && normalScores.length > 0 ? auroc([...normalScores, ...catScores], [...normalScores.map(() => 0), ...catScores.map(() => 1)]) : null,
      meanScore: catScores.reduce((a, b) => a + b, 0) / members.length,
      detected: catScores.filter((s) => s >= threshold).length,
    };
  }

  let pixel: PixelFigures | null = null;
  const withMasks = items.filter((i) => i.map && i.mask);
  const anomalousWithMask = withMasks.filter((i) => i.label === 1 && i.mask!.some((v) => v > 0));
  if (anomalousWithMask.length > 0 && withMasks.length === items.length) {
    const maps = withMasks.map((i) => i.map!.values);
    const masks = withMasks.map((i) => i.mask!);
    const { height, width } = withMasks[0]!.map!;
    pixel = {
      auroc: pixelAuroc(maps, masks),
      pro: pro(maps, masks, { height, width, maxFpr: 0.3 }),
    };
  }
  return { image, pixel, perCategory };
}

/** Pairs detector output with the samples' labels, masks and categories. */
export function labelScores<S extends { label?: 0 | 1; category?: string; mask?: Uint8Array | null; source: string }>(
  samples: S[],
  results: ScoreResult[],
): LabelledScore[] {
  return samples.map((s, i) => {
    if (s.label === undefined) throw new VigilError('E_VALUE', `${s.source}: no label (normal or anomalous) known for this sample`, { file: s.source });
    return { score: results[i]!.score, label: s.label, category: s.category, map: results[i]!.map, mask: s.mask };
  });
}
