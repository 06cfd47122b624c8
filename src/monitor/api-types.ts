/**
 * The monitoring service's wire types: what its HTTP API returns and what its event stream pushes.
 * Pure types, no imports, so that the dashboard (web/) type-checks against the same definitions.
 */

export type Severity = 'warning' | 'major' | 'critical';
export type ModelInputKind = 'image' | 'series' | 'table';

/** `{error: {...}}` with a 4xx/5xx status: every failed request. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export interface Contribution {
  name: string;
  contribution: number;
}

export interface ReasonView {
  summary: string;
  /** Channels / features that contributed most, highest first. */
  top?: Contribution[];
  /** Anomalous regions (images), in model-input pixel coordinates. */
  boxes?: { x0: number; y0: number; x1: number; y1: number; peak: number; area: number }[];
}

export interface AlarmReason {
  /** One line for people: what crossed which threshold how often. */
  summary: string;
  rule: string;
  /** `score` (raw) or `normalized`: the quantity the rule compares. */
  on: 'score' | 'normalized';
  threshold: number;
  /** k of the last n points were at or above the threshold... */
  hits: number;
  k: number;
  n: number;
  /** ...continuously for this long (event time, ms). */
  durationMs: number;
  /** Largest normalized score among the hits (what the severity is read from). */
  peakNormalized: number | null;
  peakScore: number;
  /** The model's explanation of the point that fired the alarm. */
  detail?: ReasonView;
}

export interface AlarmView {
  id: number;
  model: string;
  stream: string;
  severity: Severity;
  /** Event time of the first point of the episode / of the point that fired (epoch ms). */
  startedAt: number;
  firedAt: number;
  /** Wall-clock time the service recorded it (epoch ms). */
  createdAt: number;
  score: number;
  normalized: number | null;
  reason: AlarmReason;
  ack: { by: string; note: string; at: number } | null;
}

export interface PointResult {
  stream: string;
  t: number;
  /** null while the stream's scorer is still filling its first window. */
  score: number | null;
  normalized: number | null;
  threshold: number | null;
  anomalous: boolean | null;
  reason?: ReasonView;
}

export interface PointsResponse {
  model: string;
  accepted: number;
  /** Points at or before the stream's last timestamp (client retries), not scored again. */
  skipped: number;
  results: PointResult[];
  alarms: AlarmView[];
}

export interface ImageResult {
  id: string;
  stream: string;
  score: number;
  normalized: number | null;
  threshold: number | null;
  anomalous: boolean | null;
  reason?: ReasonView;
  /** Service-relative URL of the heat-map overlay PNG (kept for the most recent images only). */
  heatmap: string | null;
}

export interface ImagesResponse {
  model: string;
  results: ImageResult[];
  alarms: AlarmView[];
}

export interface RowResult {
  id: string;
  stream: string;
  score: number;
  normalized: number | null;
  threshold: number | null;
  anomalous: boolean | null;
  reason?: ReasonView;
}

export interface RowsResponse {
  model: string;
  results: RowResult[];
  alarms: AlarmView[];
}

export interface EpochView {
  epoch: number;
  loss: number;
  valLoss: number | null;
}

export interface ModelView {
  id: string;
  kind: string;
  inputKind: ModelInputKind;
  dir: string;
  threshold: number | null;
  thresholdMethod: string | null;
  /** Input description (image size, series columns and window, table columns). */
  input: Record<string, unknown>;
  /** Bumped on every hot reload. */
  generation: number;
  loadedAt: number;
  training: {
    epochs: number;
    bestEpoch: number;
    stoppedEarly: boolean;
    trainSeconds: number;
    trainSamples: number;
    validationSamples: number;
    history: EpochView[];
  } | null;
}

export interface StreamView {
  model: string;
  stream: string;
  points: number;
  lastT: number | null;
  lastScore: number | null;
  lastNormalized: number | null;
  threshold: number | null;
}

export interface HistoryBucket {
  /** Bucket start, event time (epoch ms). */
  t: number;
  count: number;
  scored: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Highest normalized score in the bucket (what the dashboard charts). */
  maxNormalized: number | null;
}

export interface RecentImageView extends ImageResult {
  model: string;
  at: number;
}

export interface RuleView {
  name: string;
  model: string;
  stream: string;
  on: 'score' | 'normalized';
  threshold: number | 'model';
  k: number;
  n: number;
  minDurationMs: number;
  cooldownMs: number;
  severity: { min: number; level: Severity }[];
}

/** Server-Sent Events pushed on /api/v1/events (`event:` name → `data:` JSON). */
export interface EventMap {
  hello: { models: ModelView[]; serverTime: number };
  points: { model: string; stream: string; threshold: number | null; t: number[]; score: number[]; normalized: number[] };
  image: RecentImageView;
  alarm: AlarmView;
  ack: { id: number; by: string; note: string; at: number };
  models: { models: ModelView[] };
}

export type EventName = keyof EventMap;
