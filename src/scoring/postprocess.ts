/**
 * Post-processing that travels with a model (anomalib's post-processor idea): the decision threshold
 * in raw score units and a score normalisation, fitted once and saved in the manifest.
 *
 * Normalised score: min-max over the fitting scores, shifted so that the threshold maps to 0.5 and
 * clipped to [0, 1]. Users read "above 0.5 = anomalous" whatever the detector's raw scale.
 */
import { VigilError } from '../core/errors.js';
import { f1OptimalThreshold, quantileThreshold, SpotDetector } from '../thresholds/index.js';

export type ThresholdMethod = 'quantile' | 'f1' | 'spot' | 'manual' | 'false-alarm-rate' | 'few-labels';

export interface ThresholdSpec {
  /** How the threshold is chosen when labels are absent: a quantile (1 - target FPR) or SPOT. */
  method: 'quantile' | 'spot';
  /** Target false-positive rate on normal data for 'quantile' (default 0.01 → 99th percentile). */
  fpr: number;
  /** Risk q for 'spot' (probability of exceeding the threshold under normal data). */
  risk: number;
}

/** Labelled anomalies at which the F1-optimal and the label-free threshold weigh the same. */
export const FEW_LABELS_PSEUDO_COUNT = 10;

export const DEFAULT_THRESHOLD_SPEC: ThresholdSpec = Object.freeze({ method: 'quantile', fpr: 0.01, risk: 1e-3 });

export interface PostProcessState {
  /** Decision threshold in raw score units; null until fitted. */
  threshold: number | null;
  method: ThresholdMethod | null;
  /** The parameters the method used (fpr, risk, quantile, f1...). */
  params: Record<string, number>;
  /** Range of the scores the threshold was fitted on, for normalisation. */
  min: number | null;
  max: number | null;
  /** How many labelled samples the threshold rests on (0 for label-free methods). */
  labelsUsed: number;
}

export class PostProcessor {
  private s: PostProcessState;

  constructor(state?: Partial<PostProcessState>) {
    this.s = { threshold: null, method: null, params: {}, min: null, max: null, labelsUsed: 0, ...state };
  }

  get threshold(): number | null {
    return this.s.threshold;
  }

  get state(): Readonly<PostProcessState> {
    return this.s;
  }

  get fitted(): boolean {
    return this.s.threshold !== null;
  }

  /** Label-free threshold from scores of held-out normal samples. */
  fitNormal(normalScores: ArrayLike<number>, spec: ThresholdSpec = DEFAULT_THRESHOLD_SPEC): void {
    if (normalScores.length === 0) throw new VigilError('E_EMPTY', 'cannot fit a threshold: no normal validation scores');
    let threshold: number;
    let params: Record<string, number>;
    if (spec.method === 'spot') {
      const spot = new SpotDetector({ q: spec.risk });
      spot.fit(normalScores);
      threshold = spot.threshold;
      params = { risk: spec.risk };
    } else {
      threshold = quantileThreshold(normalScores, 1 - spec.fpr);
      params = { fpr: spec.fpr, quantile: 1 - spec.fpr };
    }
    this.setRange(normalScores);
    this.s = { ...this.s, threshold, method: spec.method, params, labelsUsed: 0 };
  }

  /** F1-optimal threshold from labelled scores (1 = anomalous). */
  fitLabelled(scores: ArrayLike<number>, labels: ArrayLike<number>): { f1: number; precision: number; recall: number } {
    const best = f1OptimalThreshold(scores, labels);
    this.setRange(scores);
    this.s = { ...this.s, threshold: best.threshold, method: 'f1', params: { f1: best.f1 }, labelsUsed: scores.length };
    return best;
  }

  /**
   * Threshold from held-out normal scores plus a few labelled anomalies: the F1-optimal threshold on
   * the small labelled set, shrunk toward the label-free quantile with weight n / (n + pseudoCount)
   * (n = labelled anomalies), so that two or three labels nudge the threshold and dozens decide it.
   */
  fitFewLabels(normalScores: ArrayLike<number>, anomalyScores: ArrayLike<number>, spec: ThresholdSpec = DEFAULT_THRESHOLD_SPEC, pseudoCount = FEW_LABELS_PSEUDO_COUNT): void {
    if (anomalyScores.length === 0) {
      this.fitNormal(normalScores, spec);
      return;
    }
    this.fitNormal(normalScores, spec);
    const labelFree = this.s.threshold!;
    const scores = [...Array.from(normalScores), ...Array.from(anomalyScores)];
    const labels = [...Array.from(normalScores, () => 0), ...Array.from(anomalyScores, () => 1)];
    const best = f1OptimalThreshold(scores, labels);
    const n = anomalyScores.length;
    const weight = n / (n + pseudoCount);
    const threshold = weight * best.threshold + (1 - weight) * labelFree;
    this.setRange(scores);
    this.s = {
      ...this.s,
      threshold,
      method: 'few-labels',
      params: { labelFree, f1Optimal: best.threshold, f1: best.f1, weight, anomalies: n, normals: normalScores.length },
      labelsUsed: n,
    };
  }

  /** Sets a threshold by hand (raw units). */
  setThreshold(threshold: number, method: ThresholdMethod = 'manual', params: Record<string, number> = {}, labelsUsed = 0): void {
    if (!Number.isFinite(threshold)) throw new VigilError('E_VALUE', `threshold: ${threshold} is not a finite number`, { field: 'threshold' });
    this.s = { ...this.s, threshold, method, params, labelsUsed };
  }

  private setRange(scores: ArrayLike<number>): void {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < scores.length; i++) {
      const v = scores[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.s = { ...this.s, min, max };
  }

  isAnomalous(score: number): boolean {
    if (this.s.threshold === null) throw new VigilError('E_NOT_FITTED', 'the model has no threshold yet: fit it or set one');
    return score >= this.s.threshold;
  }

  /** Maps a raw score to [0, 1] with the threshold at 0.5. */
  normalise(score: number): number {
    const { threshold, min, max } = this.s;
    if (threshold === null || min === null || max === null) return Number.NaN;
    const span = max - min > 0 ? max - min : Math.abs(threshold) || 1;
    return Math.min(1, Math.max(0, (score - threshold) / span + 0.5));
  }

  toJSON(): PostProcessState {
    return { ...this.s };
  }

  static fromJSON(raw: Record<string, unknown>, where: string): PostProcessor {
    const t = raw.threshold;
    if (t !== null && t !== undefined && typeof t !== 'number') {
      throw new VigilError('E_MODEL_CORRUPT', `${where}: postprocess.threshold is ${JSON.stringify(t)}, expected a number or null`);
    }
    return new PostProcessor(raw as Partial<PostProcessState>);
  }
}
