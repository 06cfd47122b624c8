/**
 * Replays a recorded time series to a running service at `speed` x real time: points become due at
 * their own time offsets divided by `speed`, and whatever is due is sent every `batchMs` as one
 * request. The service skips points it has already seen (same stream, timestamp not after the last),
 * so a retried batch is harmless.
 */
import { VigilError } from '../core/errors.js';
import type { Series } from '../core/types.js';
import type { AlarmView, ModelView, PointsResponse } from './api-types.js';

export interface ReplayOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:8080. */
  to: string;
  /** Series model id; default: the service's only series model. */
  model?: string;
  stream: string;
  /** Multiple of real time (default 100); 0 or Infinity sends as fast as the service answers. */
  speed?: number;
  apiKey?: string;
  /** Interval between requests (default 100 ms). */
  batchMs?: number;
  /** Points per request at most (default 5000). */
  maxBatch?: number;
  /** Shift timestamps so that the first point is "now". */
  rebase?: boolean;
  signal?: AbortSignal;
  onBatch?: (info: { sent: number; total: number; response: PointsResponse }) => void;
  onAlarm?: (alarm: AlarmView) => void;
}

export interface ReplayReport {
  model: string;
  stream: string;
  sent: number;
  accepted: number;
  skipped: number;
  batches: number;
  alarms: number;
  seconds: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

async function call<T>(url: string, init: RequestInit, what: string): Promise<T> {
  let lastError = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await sleep(250 * 2 ** attempt);
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      lastError = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
      continue;
    }
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as T;
    let message = `HTTP ${res.status}`;
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (body.error) message = `${body.error.code}: ${body.error.message}`;
    } catch {
      // not JSON
    }
    if (res.status < 500 && res.status !== 429) throw new VigilError('E_IO', `${what}: the service answered ${message}`, { url, status: res.status });
    lastError = message;
  }
  throw new VigilError('E_IO', `${what}: ${url} failed after 4 attempts (${lastError})`, { url });
}

/** Picks the model and maps the series' columns onto the model's columns (by name, else by position). */
async function resolveModel(series: Series, o: ReplayOptions, headers: Record<string, string>): Promise<{ model: string; order: number[] }> {
  const base = o.to.replace(/\/+$/, '');
  const { models } = await call<{ models: ModelView[] }>(`${base}/api/v1/models`, { headers, signal: o.signal }, 'listing models');
  const seriesModels = models.filter((m) => m.inputKind === 'series');
  let m: ModelView | undefined;
  if (o.model) {
    m = models.find((x) => x.id === o.model);
    if (!m) throw new VigilError('E_CONFIG', `--model ${o.model}: the service has no such model (it has: ${models.map((x) => x.id).join(', ')})`, { field: 'model' });
    if (m.inputKind !== 'series') throw new VigilError('E_CONFIG', `--model ${o.model}: a ${m.inputKind} model, not a time-series model`, { field: 'model' });
  } else {
    if (seriesModels.length !== 1) {
      throw new VigilError('E_CONFIG', `--model: the service has ${seriesModels.length} time-series models (${seriesModels.map((x) => x.id).join(', ') || 'none'}); name one`, { field: 'model' });
    }
    m = seriesModels[0]!;
  }
  const cols = Array.isArray(m.input.columns) ? (m.input.columns as string[]) : [];
  if (cols.length > 0 && cols.every((c) => series.columns.includes(c))) return { model: m.id, order: cols.map((c) => series.columns.indexOf(c)) };
  const C = cols.length || series.channels;
  if (series.channels < C) {
    throw new VigilError('E_SHAPE', `${series.source}: ${series.channels} value column(s) (${series.columns.join(', ')}), model "${m.id}" takes ${C} (${cols.join(', ')})`, { field: 'columns' });
  }
  return { model: m.id, order: Array.from({ length: C }, (_, i) => i) };
}

export async function replaySeries(series: Series, o: ReplayOptions): Promise<ReplayReport> {
  const speed = o.speed ?? 100;
  if (!(speed >= 0)) throw new VigilError('E_CONFIG', `--speed: ${speed} must be a number ≥ 0`, { field: 'speed' });
  const batchMs = o.batchMs ?? 100;
  const maxBatch = o.maxBatch ?? 5000;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.apiKey) headers['x-api-key'] = o.apiKey;
  const base = o.to.replace(/\/+$/, '');
  const { model, order } = await resolveModel(series, o, headers);
  const url = `${base}/api/v1/models/${encodeURIComponent(model)}/points`;
  const T = series.length;
  const C = series.channels;
  const t0 = series.timestamps[0] ?? 0;
  const shift = o.rebase ? Date.now() - t0 : 0;
  const fast = speed === 0 || !Number.isFinite(speed);
  const start = performance.now();
  const report: ReplayReport = { model, stream: o.stream, sent: 0, accepted: 0, skipped: 0, batches: 0, alarms: 0, seconds: 0 };
  let i = 0;
  while (i < T && !o.signal?.aborted) {
    const elapsed = performance.now() - start;
    let end = i;
    while (end < T && end - i < maxBatch && (fast || (series.timestamps[end]! - t0) / speed <= elapsed)) end++;
    if (end > i) {
      const points = [];
      for (let k = i; k < end; k++) points.push({ stream: o.stream, t: series.timestamps[k]! + shift, values: order.map((c) => series.values[k * C + c]!) });
      const response = await call<PointsResponse>(url, { method: 'POST', headers, body: JSON.stringify({ points }), signal: o.signal }, `sending points ${i + 1}-${end}`);
      report.sent += end - i;
      report.accepted += response.accepted;
      report.skipped += response.skipped;
      report.batches++;
      report.alarms += response.alarms.length;
      for (const a of response.alarms) o.onAlarm?.(a);
      o.onBatch?.({ sent: report.sent, total: T, response });
      i = end;
    }
    if (i < T && !fast) {
      const nextDue = (series.timestamps[i]! - t0) / speed;
      await sleep(Math.max(batchMs - (performance.now() - start - elapsed), nextDue - (performance.now() - start)), o.signal);
    }
  }
  report.seconds = (performance.now() - start) / 1000;
  return report;
}
