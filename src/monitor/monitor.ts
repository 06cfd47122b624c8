/**
 * The monitoring core, free of HTTP: takes validated inputs, has them scored (detector and online
 * scorer APIs), runs the alarm rules, writes everything one request produced to the store in one
 * transaction, and only then publishes (dashboards, log line, webhooks, metrics) and answers.
 *
 * Ordering: each model has one serial queue, so a stream's points are scored and its rules run in
 * arrival order even when requests overlap; images waiting for a model are scored together in one
 * detector call (micro-batching).
 */
import { VigilError } from '../core/errors.js';
import type { ImageSample, Reason } from '../core/types.js';
import { parseTimestampText } from '../data/csv.js';
import { mapLimit } from '../data/images.js';
import type { AlarmReason, AlarmView, ImageResult, ImagesResponse, PointResult, PointsResponse, ReasonView, RecentImageView, RowResult, RowsResponse, StreamView } from './api-types.js';
import { fanOut, type AlarmSink } from './alarms/sinks.js';
import type { Firing, RuleBook } from './alarms/rules.js';
import type { WebhookDispatcher } from './alarms/webhook.js';
import type { EventHub } from './events.js';
import type { HeatmapCache } from './heatmaps.js';
import { HttpError } from './http/errors.js';
import type { ServiceMetrics } from './metrics.js';
import type { ModelHandle, ModelRegistry } from './models.js';
import { MicroBatcher, SerialQueue } from './queue.js';
import { decodeImageBuffer, type ImageInputShape } from './scoring/image-decode.js';
import type { StreamTable } from './scoring/streams.js';
import type { BucketDelta, MonitorStore, NewAlarm, StreamUpdate } from './store/store.js';

/** A point as the API accepts it (after schema validation). */
export interface PointInput {
  stream: string;
  /** Epoch milliseconds, or an ISO 8601 date-time (UTC unless it has a zone). */
  t: number | string;
  /** One number per model column (a bare number for a one-column model). */
  values: number[] | number;
}

/** A table row as the API accepts it: values in the model's column order, or by column name. */
export interface RowInput {
  values: number[] | Record<string, number>;
  id?: string;
  stream?: string;
  t?: number | string;
}

export interface ImageUpload {
  bytes: Buffer;
  /** Request field the bytes came from, for error messages (`images[2].data`, `(body)`). */
  field: string;
  id?: string;
  stream?: string;
  t?: number | string;
}

export interface MonitorOptions {
  /** Width of the score-history buckets (default 10 s). */
  bucketMs?: number;
  /** Webhook URLs every alarm is sent to. */
  webhookUrls?: readonly string[];
  /** Images kept for the dashboard's "latest images" (default 24). */
  recentImages?: number;
  /** Images scored together at most (default 32). */
  maxImageBatch?: number;
  /** Reports a sink failure (logging). */
  onSinkError?: (sink: string, e: unknown) => void;
}

export interface MonitorDeps {
  models: ModelRegistry;
  store: MonitorStore;
  rules: RuleBook;
  streams: StreamTable;
  events: EventHub;
  heatmaps: HeatmapCache;
  metrics: ServiceMetrics;
  sinks: readonly AlarmSink[];
  webhooks: WebhookDispatcher | null;
}

/** A scored sample on its way to the rules and the store. */
interface Observation {
  stream: string;
  t: number;
  score: number | null;
  normalized: number | null;
  reason?: ReasonView;
}

interface QueuedImage {
  sample: ImageSample;
  id: string;
  stream: string;
  t: number;
}

const DEFAULT_IMAGE_STREAM = 'images';
const DEFAULT_ROW_STREAM = 'rows';

function finiteOrNull(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : v;
}

function parseTime(t: number | string | undefined, field: string, fallback: number): number {
  if (t === undefined) return fallback;
  if (typeof t === 'number') {
    if (!Number.isFinite(t) || Math.abs(t) > 8.64e15) throw new VigilError('E_VALUE', `${field}: ${t} is not a valid epoch-milliseconds timestamp`, { field });
    return t;
  }
  const ms = parseTimestampText(t);
  if (ms === null) throw new VigilError('E_VALUE', `${field}: "${t.slice(0, 40)}" is neither epoch milliseconds nor an ISO 8601 date-time`, { field });
  return ms;
}

function reasonView(r: Reason | undefined): ReasonView | undefined {
  if (!r) return undefined;
  const out: ReasonView = { summary: r.summary };
  if (r.top) out.top = r.top.slice(0, 5).map((c) => ({ name: c.name, contribution: c.contribution }));
  if (r.boxes) out.boxes = r.boxes.slice(0, 10).map((b) => ({ ...b }));
  return out;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v);
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export class Monitor {
  private readonly queues = new Map<string, SerialQueue>();
  private readonly batchers = new Map<string, MicroBatcher<QueuedImage, { result: ImageResult; alarms: AlarmView[] }>>();
  private readonly recent: RecentImageView[] = [];
  private readonly bucketMs: number;
  private readonly webhookUrls: readonly string[];
  private readonly maxRecent: number;
  private readonly maxImageBatch: number;
  private imageCounter = 0;
  private rowCounter = 0;

  constructor(
    private readonly d: MonitorDeps,
    private readonly opts: MonitorOptions = {},
  ) {
    this.bucketMs = opts.bucketMs ?? 10_000;
    this.webhookUrls = opts.webhookUrls ?? [];
    this.maxRecent = opts.recentImages ?? 24;
    this.maxImageBatch = opts.maxImageBatch ?? 32;
  }

  /** Jobs waiting per scoring queue, for the queue-depth metric. */
  queueDepths(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, q] of this.queues) out[`score:${id}`] = q.depth;
    for (const [id, b] of this.batchers) out[`score:${id}`] = (out[`score:${id}`] ?? 0) + b.depth;
    return out;
  }

  private queue(model: string): SerialQueue {
    let q = this.queues.get(model);
    if (!q) {
      q = new SerialQueue();
      this.queues.set(model, q);
    }
    return q;
  }

  /** Waits for every queued scoring job (shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.drain()));
    while ([...this.batchers.values()].some((b) => b.depth > 0)) await new Promise((r) => setTimeout(r, 5));
  }

  private modelOfKind(modelId: string, kind: 'image' | 'series' | 'table'): ModelHandle {
    const h = this.d.models.get(modelId);
    if (h.inputKind !== kind) {
      throw new HttpError(400, 'E_UNSUPPORTED', `model "${modelId}" takes ${h.inputKind} input, not ${kind === 'image' ? 'images' : kind === 'series' ? 'time-series points' : 'table rows'}`, 'model');
    }
    return h;
  }

  // --- time series ----------------------------------------------------------------------------------

  /** Scores time-series points of any number of streams of one series model. */
  async scorePoints(modelId: string, points: readonly PointInput[]): Promise<PointsResponse> {
    const h0 = this.modelOfKind(modelId, 'series');
    const factory = this.d.streams.factory(h0);
    const C = factory.columns.length;
    // Validate everything before scoring anything: a request is accepted whole or not at all.
    const byStream = new Map<string, { idx: number[]; t: number[]; values: number[] }>();
    points.forEach((p, i) => {
      const t = parseTime(p.t, `points[${i}].t`, 0);
      const vals = typeof p.values === 'number' ? [p.values] : p.values;
      if (vals.length !== C) {
        throw new VigilError('E_SHAPE', `points[${i}].values: ${vals.length} value(s), model "${modelId}" takes ${C} (${factory.columns.join(', ')})`, { field: `points[${i}].values` });
      }
      for (let c = 0; c < C; c++) {
        const v = vals[c]!;
        if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 3.4e38) {
          throw new VigilError('E_VALUE', `points[${i}].values[${c}]: ${String(v)} is not a finite number`, { field: `points[${i}].values[${c}]` });
        }
      }
      let g = byStream.get(p.stream);
      if (!g) {
        g = { idx: [], t: [], values: [] };
        byStream.set(p.stream, g);
      }
      if (g.t.length > 0 && t <= g.t[g.t.length - 1]!) {
        throw new VigilError('E_VALUE', `points[${i}].t: ${t} is not after the previous point of stream "${p.stream}" in this request; points of a stream must be in increasing time order`, { field: `points[${i}].t` });
      }
      g.idx.push(i);
      g.t.push(t);
      for (let c = 0; c < C; c++) g.values.push(vals[c]!);
    });
    let newStreams = 0;
    for (const s of byStream.keys()) if (!this.d.streams.peek(modelId, s)) newStreams++;
    if (!this.d.streams.canAdd(newStreams)) {
      throw new HttpError(429, 'E_LIMIT', `points: ${newStreams} new stream(s) would exceed the service's stream limit`, 'points');
    }

    const results: PointResult[] = new Array(points.length);
    let skipped = 0;
    const { alarms, observations, threshold } = await this.queue(modelId).run(() =>
      this.d.models.use(modelId, async (h) => {
        const obs: Observation[] = [];
        for (const [stream, g] of byStream) {
          const state = this.d.streams.get(h, stream, `points[${g.idx[0]}].stream`);
          // Points at or before the stream's last timestamp were seen already (a client retry).
          let first = 0;
          while (first < g.t.length && state.lastT !== null && g.t[first]! <= state.lastT) first++;
          for (let j = 0; j < first; j++) {
            skipped++;
            results[g.idx[j]!] = { stream, t: g.t[j]!, score: null, normalized: null, threshold: null, anomalous: null };
          }
          const n = g.t.length - first;
          if (n === 0) continue;
          const ts = Float64Array.from(g.t.slice(first));
          const vs = Float32Array.from(g.values.slice(first * C));
          const scored = await state.scorer.pushBatch(ts, vs);
          for (let j = 0; j < n; j++) {
            const p = scored[j]!;
            const i = g.idx[first + j]!;
            const t = ts[j]!;
            const top = p.contributions.slice(0, 5);
            const reason: ReasonView | undefined =
              p.score === null ? undefined : { summary: top.length > 1 ? `mostly ${top[0]!.name} (${(100 * top[0]!.contribution).toFixed(0)}%)` : `score ${fmt(p.score)}`, top };
            results[i] = { stream, t, score: finiteOrNull(p.score), normalized: finiteOrNull(p.normalized), threshold: finiteOrNull(p.threshold), anomalous: p.score === null ? null : p.anomalous, ...(reason ? { reason } : {}) };
            obs.push({ stream, t, score: finiteOrNull(p.score), normalized: finiteOrNull(p.normalized), reason });
          }
          state.lastT = ts[n - 1]!;
          state.points += n;
          state.dirty = true;
          const last = scored[n - 1]!;
          if (last.score !== null) {
            state.lastScore = last.score;
            state.lastNormalized = last.normalized;
          }
          state.threshold = h.threshold;
        }
        return { alarms: this.record(h, obs, 'point'), observations: obs, threshold: h.threshold };
      }),
    );
    this.publishPoints(modelId, observations, threshold);
    this.publishAlarms(alarms);
    this.d.metrics.points.inc({ model: modelId }, points.length - skipped);
    return { model: modelId, accepted: points.length - skipped, skipped, results, alarms };
  }

  // --- images ---------------------------------------------------------------------------------------

  /** Decodes and scores uploaded images with an image model. */
  async scoreImages(modelId: string, uploads: readonly ImageUpload[]): Promise<ImagesResponse> {
    const h0 = this.modelOfKind(modelId, 'image');
    const input = h0.detector.summary().input as Partial<ImageInputShape>;
    if (typeof input.height !== 'number' || typeof input.width !== 'number' || (input.channels !== 1 && input.channels !== 3)) {
      throw new VigilError('E_MODEL_CORRUPT', `model "${modelId}" does not say its input size`, { field: 'model' });
    }
    const shape: ImageInputShape = { height: input.height, width: input.width, channels: input.channels };
    const now = Date.now();
    const queued = await mapLimit(uploads, 4, async (u): Promise<QueuedImage> => {
      const t = parseTime(u.t, u.field.replace(/\.data$/, '.t'), now);
      const image = await decodeImageBuffer(u.bytes, shape, u.field);
      const id = u.id ?? `img-${++this.imageCounter}`;
      return { sample: { image, source: id }, id, stream: u.stream ?? DEFAULT_IMAGE_STREAM, t };
    });
    const out = await this.batcher(modelId).run(queued);
    const alarms = out.flatMap((o) => o.alarms);
    return { model: modelId, results: out.map((o) => o.result), alarms };
  }

  private batcher(modelId: string): MicroBatcher<QueuedImage, { result: ImageResult; alarms: AlarmView[] }> {
    let b = this.batchers.get(modelId);
    if (!b) {
      b = new MicroBatcher((items) => this.scoreImageBatch(modelId, items), this.maxImageBatch);
      this.batchers.set(modelId, b);
    }
    return b;
  }

  private async scoreImageBatch(modelId: string, items: QueuedImage[]): Promise<{ result: ImageResult; alarms: AlarmView[] }[]> {
    const { results, alarmsByObs, recent, obs, threshold } = await this.d.models.use(modelId, async (h) => {
      const scored = await h.detector.score(items.map((i) => i.sample));
      const threshold = h.threshold;
      const obs: Observation[] = [];
      const results: ImageResult[] = [];
      items.forEach((it, k) => {
        const r = scored[k]!;
        const normalized = finiteOrNull(h.detector.postprocess.normalise(r.score));
        const reason = reasonView(r.reason);
        const heatmapId = r.map ? this.d.heatmaps.put(it.sample.image, r.map) : null;
        results.push({
          id: it.id,
          stream: it.stream,
          score: r.score,
          normalized,
          threshold,
          anomalous: threshold === null ? null : r.score >= threshold,
          ...(reason ? { reason } : {}),
          heatmap: heatmapId ? `/api/v1/heatmaps/${heatmapId}.png` : null,
        });
        obs.push({ stream: it.stream, t: it.t, score: finiteOrNull(r.score), normalized, ...(reason ? { reason } : {}) });
      });
      const alarmsByObs = new Map<number, AlarmView[]>();
      this.record(h, obs, 'image', alarmsByObs);
      const recent: RecentImageView[] = results.map((r, k) => ({ ...r, model: modelId, at: items[k]!.t }));
      return { results, alarmsByObs, recent, obs, threshold };
    });
    this.publishPoints(modelId, obs, threshold);
    for (const r of recent) {
      this.recent.push(r);
      if (this.recent.length > this.maxRecent) this.recent.shift();
      this.d.events.publish('image', r);
    }
    const all = [...alarmsByObs.values()].flat();
    this.publishAlarms(all);
    return results.map((result, k) => ({ result, alarms: alarmsByObs.get(k) ?? [] }));
  }

  // --- table rows -----------------------------------------------------------------------------------

  /** Scores table rows (feature vectors) with a table model. */
  async scoreRows(modelId: string, rows: readonly RowInput[]): Promise<RowsResponse> {
    const h0 = this.modelOfKind(modelId, 'table');
    const input = h0.detector.summary().input as { columns?: unknown };
    const columns = Array.isArray(input.columns) ? (input.columns as string[]) : [];
    if (columns.length === 0) throw new VigilError('E_MODEL_CORRUPT', `model "${modelId}" does not list its feature columns`, { field: 'model' });
    const D = columns.length;
    const now = Date.now();
    const prepared = rows.map((r, i) => {
      const field = `rows[${i}].values`;
      const values = new Float32Array(D);
      if (Array.isArray(r.values)) {
        if (r.values.length !== D) throw new VigilError('E_SHAPE', `${field}: ${r.values.length} value(s), model "${modelId}" takes ${D} (${columns.join(', ')})`, { field });
        r.values.forEach((v, j) => (values[j] = v));
      } else {
        const byName = r.values;
        for (const k of Object.keys(byName)) if (!columns.includes(k)) throw new VigilError('E_SHAPE', `${field}.${k}: not a column of model "${modelId}" (${columns.join(', ')})`, { field: `${field}.${k}` });
        columns.forEach((c, j) => {
          if (!(c in byName)) throw new VigilError('E_SHAPE', `${field}.${c}: missing (model "${modelId}" takes ${columns.join(', ')})`, { field: `${field}.${c}` });
          values[j] = byName[c]!;
        });
      }
      values.forEach((v, j) => {
        if (!Number.isFinite(v)) throw new VigilError('E_VALUE', `${field}[${j}]: not a finite number (float32)`, { field: `${field}[${j}]` });
      });
      const id = r.id ?? `row-${++this.rowCounter}`;
      return { row: { source: id, values, columns }, id, stream: r.stream ?? DEFAULT_ROW_STREAM, t: parseTime(r.t, `rows[${i}].t`, now) };
    });
    const { results, alarms, obs, threshold } = await this.queue(modelId).run(() =>
      this.d.models.use(modelId, async (h) => {
        const scored = await h.detector.score(prepared.map((p) => p.row));
        const threshold = h.threshold;
        const obs: Observation[] = [];
        const results: RowResult[] = prepared.map((p, k) => {
          const r = scored[k]!;
          const normalized = finiteOrNull(h.detector.postprocess.normalise(r.score));
          const reason = reasonView(r.reason);
          obs.push({ stream: p.stream, t: p.t, score: finiteOrNull(r.score), normalized, ...(reason ? { reason } : {}) });
          return { id: p.id, stream: p.stream, score: r.score, normalized, threshold, anomalous: threshold === null ? null : r.score >= threshold, ...(reason ? { reason } : {}) };
        });
        return { results, alarms: this.record(h, obs, 'row'), obs, threshold };
      }),
    );
    this.publishPoints(modelId, obs, threshold);
    this.publishAlarms(alarms);
    return { model: modelId, results, alarms };
  }

  recentImages(): RecentImageView[] {
    return [...this.recent].reverse();
  }

  // --- shared: rules, store, publishing ---------------------------------------------------------------

  /**
   * Runs the rules over scored observations (in order), then writes buckets, stream summaries,
   * alarms and their webhook deliveries in one transaction. Synchronous: called inside the model's
   * queue, so nothing else interleaves.
   */
  private record(h: ModelHandle, obs: readonly Observation[], kind: 'point' | 'image' | 'row', byObs?: Map<number, AlarmView[]>): AlarmView[] {
    const firings: { obs: number; f: Firing; o: Observation }[] = [];
    const buckets = new Map<string, BucketDelta>();
    const streams = new Map<string, StreamUpdate>();
    obs.forEach((o, k) => {
      if (o.score !== null) {
        this.d.metrics.observeScore(h.id, kind, o.normalized);
        for (const f of this.d.rules.observe(h.id, o.stream, { t: o.t, score: o.score, normalized: o.normalized ?? Number.NaN }, h.threshold)) firings.push({ obs: k, f, o });
      }
      const bucket = Math.floor(o.t / this.bucketMs) * this.bucketMs;
      const bk = `${o.stream}\u0000${bucket}`;
      let b = buckets.get(bk);
      if (!b) {
        b = { model: h.id, stream: o.stream, bucket, count: 0, scored: 0, min: null, max: null, sum: 0, nmax: null };
        buckets.set(bk, b);
      }
      b.count++;
      if (o.score !== null) {
        b.scored++;
        b.sum += o.score;
        b.min = b.min === null ? o.score : Math.min(b.min, o.score);
        b.max = b.max === null ? o.score : Math.max(b.max, o.score);
        if (o.normalized !== null) b.nmax = b.nmax === null ? o.normalized : Math.max(b.nmax, o.normalized);
      }
      let s = streams.get(o.stream);
      if (!s) {
        s = { model: h.id, stream: o.stream, points: 0, lastT: o.t, lastScore: null, lastNormalized: null, threshold: h.threshold };
        streams.set(o.stream, s);
      }
      s.points++;
      s.lastT = o.t;
      if (o.score !== null) {
        s.lastScore = o.score;
        s.lastNormalized = o.normalized;
      }
    });
    const newAlarms: NewAlarm[] = firings.map(({ f, o }) => this.alarmOf(h.id, o, f));
    const stored = this.d.store.ingest({
      buckets: [...buckets.values()],
      streams: [...streams.values()],
      alarms: newAlarms,
      webhooks: this.webhookUrls,
      payload: (a) => ({ type: 'vigil.alarm', alarm: a }),
    });
    if (byObs) {
      stored.forEach((a, i) => {
        const k = firings[i]!.obs;
        const list = byObs.get(k) ?? [];
        list.push(a);
        byObs.set(k, list);
      });
    }
    return stored;
  }

  private alarmOf(model: string, o: Observation, f: Firing): NewAlarm {
    const value = f.rule.on === 'score' ? o.score! : (o.normalized ?? Number.NaN);
    const window = f.rule.n > 1 ? ` on ${f.hits} of the last ${f.rule.n} points` : '';
    const lasting = f.durationMs > 0 ? ` for ${duration(f.durationMs)}` : '';
    const detail = o.reason ? `; ${o.reason.summary}` : '';
    const reason: AlarmReason = {
      summary: `${f.rule.on} ${fmt(value)} ≥ ${fmt(f.threshold)}${window}${lasting} (rule ${f.rule.name}, ${f.severity})${detail}`,
      rule: f.rule.name,
      on: f.rule.on,
      threshold: f.threshold,
      hits: f.hits,
      k: f.rule.k,
      n: f.rule.n,
      durationMs: f.durationMs,
      peakNormalized: finiteOrNull(f.peakNormalized),
      peakScore: f.peakScore,
      ...(o.reason ? { detail: o.reason } : {}),
    };
    return { model, stream: o.stream, rule: f.rule.name, severity: f.severity, startedAt: f.startedAt, firedAt: f.firedAt, score: o.score!, normalized: o.normalized, reason };
  }

  private publishPoints(model: string, obs: readonly Observation[], threshold: number | null): void {
    for (const o of obs) if (o.score !== null) this.d.events.queuePoints(model, o.stream, threshold, o.t, o.score, o.normalized);
  }

  private publishAlarms(alarms: readonly AlarmView[]): void {
    if (alarms.length === 0) return;
    for (const a of alarms) {
      this.d.metrics.alarms.inc({ model: a.model, severity: a.severity });
      fanOut(this.d.sinks, a, this.opts.onSinkError ?? (() => undefined));
    }
    this.d.webhooks?.kick();
  }

  // --- queries and acknowledgements -----------------------------------------------------------------

  /** Live streams merged with what the store knows (streams from before a restart). */
  streamViews(): StreamView[] {
    const out = new Map<string, StreamView>();
    for (const s of this.d.store.streams()) out.set(`${s.model}\u0000${s.stream}`, s);
    for (const s of this.d.streams.all()) {
      const k = `${s.model}\u0000${s.stream}`;
      const stored = out.get(k);
      out.set(k, {
        model: s.model,
        stream: s.stream,
        points: Math.max(stored?.points ?? 0, s.points),
        lastT: s.lastT,
        lastScore: s.lastScore,
        lastNormalized: s.lastNormalized,
        threshold: s.threshold,
      });
    }
    return [...out.values()];
  }

  /** Acknowledges an alarm (idempotent); 404 when there is none with that id. */
  ack(id: number, by: string, note: string): { alarm: AlarmView; created: boolean } {
    const r = this.d.store.ack(id, by, note);
    if (!r) throw new HttpError(404, 'E_NOT_FOUND', `no alarm ${id}`, 'id');
    if (r.created && r.alarm.ack) this.d.events.publish('ack', { id, ...r.alarm.ack });
    return r;
  }
}
