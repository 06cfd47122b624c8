/**
 * The service's embedded store: SQLite through better-sqlite3 in WAL mode.
 *
 * Durability: every ingest or acknowledgement commits its rows in one transaction *before* the
 * service answers. With `synchronous=NORMAL` (the default here) a commit is in the WAL file, i.e. in
 * the operating system's page cache, when the call returns: it survives a crash or `kill -9` of the
 * service, but the last transactions can be lost if the machine itself loses power. `durable: 'full'`
 * (`synchronous=FULL`) fsyncs the WAL on every commit and survives power loss too, at a throughput
 * cost.
 *
 * Tables: score history downsampled into per-stream buckets (count, scored, min, max, sum), streams,
 * alarms, acknowledgements, webhook deliveries (the outbox, and the dead letters: status `dead`), and
 * settings (retention). Retention deletes by wall-clock time of writing, not by event time, so a
 * replay of old recordings is kept as long as live data.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { VigilError } from '../../core/errors.js';
import type { AlarmReason, AlarmView, HistoryBucket, Severity, StreamView } from '../api-types.js';

export interface StoreOptions {
  /** `normal` (default): survives process crashes; `full`: fsync per commit, survives power loss. */
  durable?: 'normal' | 'full';
}

export interface RetentionSettings {
  /** Score buckets older than this many days (by time written) are deleted. */
  scoresDays: number;
  /** Alarms (with their acknowledgements) older than this are deleted. */
  alarmsDays: number;
  /** Delivered and dead webhook deliveries older than this are deleted. */
  deliveriesDays: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionSettings> = Object.freeze({ scoresDays: 30, alarmsDays: 90, deliveriesDays: 30 });

/** Aggregate of one stream's points falling into one bucket, added to what the store has. */
export interface BucketDelta {
  model: string;
  stream: string;
  bucket: number;
  count: number;
  scored: number;
  min: number | null;
  max: number | null;
  sum: number;
  /** Highest normalized score in the bucket. */
  nmax: number | null;
}

export interface StreamUpdate {
  model: string;
  stream: string;
  points: number;
  lastT: number;
  lastScore: number | null;
  lastNormalized: number | null;
  threshold: number | null;
}

export interface NewAlarm {
  model: string;
  stream: string;
  rule: string;
  severity: Severity;
  startedAt: number;
  firedAt: number;
  score: number;
  normalized: number | null;
  reason: AlarmReason;
}

/** A batch written in one transaction: what one request produced. */
export interface IngestBatch {
  buckets: BucketDelta[];
  streams: StreamUpdate[];
  alarms: NewAlarm[];
  /** Webhook URLs each new alarm is queued for (one delivery row per alarm and URL). */
  webhooks: readonly string[];
  /** Builds the webhook payload for a stored alarm. */
  payload?: (a: AlarmView) => unknown;
}

export interface Delivery {
  id: number;
  alarmId: number;
  url: string;
  payload: string;
  attempts: number;
  nextAt: number;
  status: 'pending' | 'delivered' | 'dead';
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface AlarmQuery {
  limit?: number;
  /** Alarms with id below this (paging, newest first). */
  before?: number;
  model?: string;
  stream?: string;
  unacked?: boolean;
}

interface AlarmRow {
  id: number;
  model: string;
  stream: string;
  rule: string;
  severity: Severity;
  started_at: number;
  fired_at: number;
  created_at: number;
  score: number;
  normalized: number | null;
  reason: string;
  ack_by: string | null;
  ack_note: string | null;
  ack_at: number | null;
}

interface DeliveryRow {
  id: number;
  alarm_id: number;
  url: string;
  payload: string;
  attempts: number;
  next_at: number;
  status: 'pending' | 'delivered' | 'dead';
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const SCHEMA_VERSION = 1;
const DAY_MS = 86_400_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS score_buckets (
  model TEXT NOT NULL, stream TEXT NOT NULL, bucket INTEGER NOT NULL,
  count INTEGER NOT NULL, scored INTEGER NOT NULL, min REAL, max REAL, sum REAL NOT NULL, nmax REAL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (model, stream, bucket)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS score_buckets_updated ON score_buckets (updated_at);
CREATE TABLE IF NOT EXISTS streams (
  model TEXT NOT NULL, stream TEXT NOT NULL, points INTEGER NOT NULL, last_t REAL,
  last_score REAL, last_normalized REAL, threshold REAL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (model, stream)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alarms (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL, stream TEXT NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL,
  started_at REAL NOT NULL, fired_at REAL NOT NULL, created_at INTEGER NOT NULL,
  score REAL NOT NULL, normalized REAL, reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarms_created ON alarms (created_at);
CREATE TABLE IF NOT EXISTS acks (
  alarm_id INTEGER PRIMARY KEY REFERENCES alarms (id) ON DELETE CASCADE,
  by TEXT NOT NULL, note TEXT NOT NULL, at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alarm_id INTEGER NOT NULL, url TEXT NOT NULL, payload TEXT NOT NULL,
  status TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, last_error TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries (status, next_at);
CREATE TABLE IF NOT EXISTS scorer_states (
  model TEXT NOT NULL, stream TEXT NOT NULL, state TEXT NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (model, stream)
) WITHOUT ROWID;
`;

const num = (v: number | null): number | null => (v === null || !Number.isFinite(v) ? null : v);

export class MonitorStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly st: ReturnType<MonitorStore['prepare']>;
  private readonly ingestTx: (batch: IngestBatch) => AlarmView[];

  constructor(file: string, opts: StoreOptions = {}, now: () => number = Date.now) {
    this.file = file;
    this.now = now;
    if (file !== ':memory:') {
      try {
        mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      } catch (e) {
        throw new VigilError('E_IO', `${file}: cannot create the store's folder (${(e as Error).message})`, { path: file });
      }
    }
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.durable === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = ON');
      this.db.exec(SCHEMA);
    } catch (e) {
      throw new VigilError('E_IO', `${file}: cannot open the monitoring store (${(e as Error).message})`, { path: file }, { cause: e });
    }
    const version = this.getMeta('schemaVersion');
    if (version !== null && Number(version) > SCHEMA_VERSION) {
      this.db.close();
      throw new VigilError('E_MODEL_INCOMPATIBLE', `${file}: store schema version ${version} is newer than this vigil's (${SCHEMA_VERSION})`, { path: file });
    }
    this.setMeta('schemaVersion', String(SCHEMA_VERSION));
    this.st = this.prepare();
    this.ingestTx = this.db.transaction((batch: IngestBatch) => this.writeBatch(batch));
  }

  private prepare() {
    const db = this.db;
    return {
      upsertBucket: db.prepare<[string, string, number, number, number, number | null, number | null, number, number | null, number]>(
        `INSERT INTO score_buckets (model, stream, bucket, count, scored, min, max, sum, nmax, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (model, stream, bucket) DO UPDATE SET
           count = count + excluded.count, scored = scored + excluded.scored,
           min = CASE WHEN min IS NULL THEN excluded.min WHEN excluded.min IS NULL THEN min ELSE MIN(min, excluded.min) END,
           max = CASE WHEN max IS NULL THEN excluded.max WHEN excluded.max IS NULL THEN max ELSE MAX(max, excluded.max) END,
           nmax = CASE WHEN nmax IS NULL THEN excluded.nmax WHEN excluded.nmax IS NULL THEN nmax ELSE MAX(nmax, excluded.nmax) END,
           sum = sum + excluded.sum, updated_at = excluded.updated_at`,
      ),
      upsertStream: db.prepare<[string, string, number, number, number | null, number | null, number | null, number]>(
        `INSERT INTO streams (model, stream, points, last_t, last_score, last_normalized, threshold, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (model, stream) DO UPDATE SET points = points + excluded.points, last_t = excluded.last_t,
           last_score = COALESCE(excluded.last_score, last_score), last_normalized = COALESCE(excluded.last_normalized, last_normalized),
           threshold = excluded.threshold, updated_at = excluded.updated_at`,
      ),
      insertAlarm: db.prepare<[string, string, string, string, number, number, number, number, number | null, string]>(
        'INSERT INTO alarms (model, stream, rule, severity, started_at, fired_at, created_at, score, normalized, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertDelivery: db.prepare<[number, string, string, number, number, number]>(
        `INSERT INTO deliveries (alarm_id, url, payload, status, attempts, next_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)`,
      ),
      getAlarm: db.prepare<[number], AlarmRow>(
        'SELECT a.*, k.by AS ack_by, k.note AS ack_note, k.at AS ack_at FROM alarms a LEFT JOIN acks k ON k.alarm_id = a.id WHERE a.id = ?',
      ),
      insertAck: db.prepare<[number, string, string, number]>('INSERT OR IGNORE INTO acks (alarm_id, by, note, at) VALUES (?, ?, ?, ?)'),
      streams: db.prepare<[], { model: string; stream: string; points: number; last_t: number | null; last_score: number | null; last_normalized: number | null; threshold: number | null }>(
        'SELECT model, stream, points, last_t, last_score, last_normalized, threshold FROM streams ORDER BY model, stream',
      ),
      history: db.prepare<[string, string, number, number, number], { bucket: number; count: number; scored: number; min: number | null; max: number | null; sum: number; nmax: number | null }>(
        `SELECT bucket, count, scored, min, max, sum, nmax FROM (
           SELECT bucket, count, scored, min, max, sum, nmax FROM score_buckets WHERE model = ? AND stream = ? AND bucket >= ? AND bucket <= ?
           ORDER BY bucket DESC LIMIT ?) ORDER BY bucket`,
      ),
      totals: db.prepare<[], { streams: number; points: number }>('SELECT COUNT(*) AS streams, COALESCE(SUM(points), 0) AS points FROM streams'),
      bucketPoints: db.prepare<[string, string], { points: number }>('SELECT COALESCE(SUM(count), 0) AS points FROM score_buckets WHERE model = ? AND stream = ?'),
      dueDeliveries: db.prepare<[number, number], DeliveryRow>(`SELECT * FROM deliveries WHERE status = 'pending' AND next_at <= ? ORDER BY id LIMIT ?`),
      pendingCount: db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM deliveries WHERE status = 'pending'`),
      nextDue: db.prepare<[], { next_at: number | null }>(`SELECT MIN(next_at) AS next_at FROM deliveries WHERE status = 'pending'`),
      delivered: db.prepare<[number, number, number]>(`UPDATE deliveries SET status = 'delivered', attempts = ?, last_error = NULL, updated_at = ? WHERE id = ?`),
      retry: db.prepare<[number, number, string, number, number]>(`UPDATE deliveries SET attempts = ?, next_at = ?, last_error = ?, updated_at = ? WHERE id = ?`),
      dead: db.prepare<[number, string, number, number]>(`UPDATE deliveries SET status = 'dead', attempts = ?, last_error = ?, updated_at = ? WHERE id = ?`),
      deadLetters: db.prepare<[number], DeliveryRow>(`SELECT * FROM deliveries WHERE status = 'dead' ORDER BY id DESC LIMIT ?`),
      saveState: db.prepare<[string, string, string, number]>(
        'INSERT INTO scorer_states (model, stream, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (model, stream) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
      ),
      loadState: db.prepare<[string, string], { state: string }>('SELECT state FROM scorer_states WHERE model = ? AND stream = ?'),
      pruneStates: db.prepare<[number]>('DELETE FROM scorer_states WHERE updated_at < ?'),
      pruneBuckets: db.prepare<[number]>('DELETE FROM score_buckets WHERE updated_at < ?'),
      pruneAlarms: db.prepare<[number]>('DELETE FROM alarms WHERE created_at < ?'),
      pruneDeliveries: db.prepare<[number]>(`DELETE FROM deliveries WHERE status <> 'pending' AND updated_at < ?`),
    };
  }

  private getMeta(key: string): string | null {
    return this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** Writes one request's buckets, stream states, alarms and webhook deliveries atomically. */
  ingest(batch: IngestBatch): AlarmView[] {
    try {
      return this.ingestTx(batch);
    } catch (e) {
      throw new VigilError('E_IO', `${this.file}: cannot write to the monitoring store (${(e as Error).message})`, { path: this.file }, { cause: e });
    }
  }

  private writeBatch(batch: IngestBatch): AlarmView[] {
    const now = this.now();
    for (const b of batch.buckets) this.st.upsertBucket.run(b.model, b.stream, b.bucket, b.count, b.scored, num(b.min), num(b.max), b.sum, num(b.nmax), now);
    for (const s of batch.streams) this.st.upsertStream.run(s.model, s.stream, s.points, s.lastT, num(s.lastScore), num(s.lastNormalized), num(s.threshold), now);
    const out: AlarmView[] = [];
    for (const a of batch.alarms) {
      const info = this.st.insertAlarm.run(a.model, a.stream, a.rule, a.severity, a.startedAt, a.firedAt, now, a.score, num(a.normalized), JSON.stringify(a.reason));
      const view: AlarmView = {
        id: Number(info.lastInsertRowid),
        model: a.model,
        stream: a.stream,
        severity: a.severity,
        startedAt: a.startedAt,
        firedAt: a.firedAt,
        createdAt: now,
        score: a.score,
        normalized: num(a.normalized),
        reason: a.reason,
        ack: null,
      };
      for (const url of batch.webhooks) this.st.insertDelivery.run(view.id, url, JSON.stringify(batch.payload ? batch.payload(view) : view), now, now, now);
      out.push(view);
    }
    return out;
  }

  getAlarm(id: number): AlarmView | null {
    const row = this.st.getAlarm.get(id);
    return row ? alarmView(row) : null;
  }

  listAlarms(q: AlarmQuery = {}): AlarmView[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.before !== undefined) {
      where.push('a.id < ?');
      params.push(q.before);
    }
    if (q.model !== undefined) {
      where.push('a.model = ?');
      params.push(q.model);
    }
    if (q.stream !== undefined) {
      where.push('a.stream = ?');
      params.push(q.stream);
    }
    if (q.unacked) where.push('k.alarm_id IS NULL');
    const sql = `SELECT a.*, k.by AS ack_by, k.note AS ack_note, k.at AS ack_at FROM alarms a LEFT JOIN acks k ON k.alarm_id = a.id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.id DESC LIMIT ?`;
    params.push(Math.min(Math.max(q.limit ?? 100, 1), 1000));
    return this.db.prepare<(string | number)[], AlarmRow>(sql).all(...params).map(alarmView);
  }

  /**
   * Acknowledges an alarm. Idempotent: the first acknowledgement is kept and returned again.
   * @returns null when there is no such alarm; `created` is false when it was already acknowledged.
   */
  ack(id: number, by: string, note: string): { alarm: AlarmView; created: boolean } | null {
    const tx = this.db.transaction(() => {
      if (!this.st.getAlarm.get(id)) return null;
      const created = this.st.insertAck.run(id, by, note, this.now()).changes > 0;
      return { alarm: alarmView(this.st.getAlarm.get(id)!), created };
    });
    try {
      return tx();
    } catch (e) {
      throw new VigilError('E_IO', `${this.file}: cannot record the acknowledgement (${(e as Error).message})`, { path: this.file }, { cause: e });
    }
  }

  streams(): StreamView[] {
    return this.st.streams.all().map((r) => ({
      model: r.model,
      stream: r.stream,
      points: r.points,
      lastT: r.last_t,
      lastScore: r.last_score,
      lastNormalized: r.last_normalized,
      threshold: r.threshold,
    }));
  }

  /** Points recorded for all streams (the `streams` table) — what the benchmark checks against. */
  totals(): { streams: number; points: number } {
    return this.st.totals.get()!;
  }

  /** Points counted in a stream's buckets. */
  bucketPoints(model: string, stream: string): number {
    return this.st.bucketPoints.get(model, stream)!.points;
  }

  history(model: string, stream: string, from = -Infinity, to = Infinity, limit = 2000): HistoryBucket[] {
    const lo = Number.isFinite(from) ? from : -8.64e15;
    const hi = Number.isFinite(to) ? to : 8.64e15;
    return this.st.history.all(model, stream, lo, hi, Math.min(Math.max(limit, 1), 20000)).map((r) => ({
      t: r.bucket,
      count: r.count,
      scored: r.scored,
      min: r.min,
      max: r.max,
      mean: r.scored > 0 ? r.sum / r.scored : null,
      maxNormalized: r.nmax,
    }));
  }

  // --- webhook outbox ----------------------------------------------------------------------------

  dueDeliveries(now: number, limit: number): Delivery[] {
    return this.st.dueDeliveries.all(now, limit).map(deliveryView);
  }

  pendingDeliveries(): number {
    return this.st.pendingCount.get()!.n;
  }

  nextDeliveryAt(): number | null {
    return this.st.nextDue.get()!.next_at;
  }

  markDelivered(id: number, attempts: number): void {
    this.st.delivered.run(attempts, this.now(), id);
  }

  markRetry(id: number, attempts: number, nextAt: number, error: string): void {
    this.st.retry.run(attempts, nextAt, error.slice(0, 500), this.now(), id);
  }

  markDead(id: number, attempts: number, error: string): void {
    this.st.dead.run(attempts, error.slice(0, 500), this.now(), id);
  }

  deadLetters(limit = 100): Delivery[] {
    return this.st.deadLetters.all(Math.min(Math.max(limit, 1), 1000)).map(deliveryView);
  }

  // --- online scorer states (resumed after a restart) --------------------------------------------

  saveScorerStates(states: { model: string; stream: string; state: unknown }[]): void {
    const now = this.now();
    const tx = this.db.transaction(() => {
      for (const s of states) if (s.state !== null && s.state !== undefined) this.st.saveState.run(s.model, s.stream, JSON.stringify(s.state), now);
    });
    tx();
  }

  loadScorerState(model: string, stream: string): unknown {
    const row = this.st.loadState.get(model, stream);
    if (!row) return null;
    try {
      return JSON.parse(row.state) as unknown;
    } catch {
      return null;
    }
  }

  // --- settings and retention --------------------------------------------------------------------

  retention(): RetentionSettings {
    const raw = this.getMeta('retention');
    if (raw === null) return { ...DEFAULT_RETENTION };
    try {
      return { ...DEFAULT_RETENTION, ...(JSON.parse(raw) as Partial<RetentionSettings>) };
    } catch {
      return { ...DEFAULT_RETENTION };
    }
  }

  setRetention(patch: Partial<RetentionSettings>): RetentionSettings {
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
        throw new VigilError('E_CONFIG', `retention.${k}: ${String(v)}, expected a positive number of days`, { field: `retention.${k}`, value: v });
      }
    }
    const next = { ...this.retention(), ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as RetentionSettings;
    this.setMeta('retention', JSON.stringify(next));
    return next;
  }

  /** Deletes rows older than the retention settings; returns how many of each went. */
  prune(now = this.now()): { buckets: number; alarms: number; deliveries: number } {
    const r = this.retention();
    const tx = this.db.transaction(() => {
      this.st.pruneStates.run(now - r.scoresDays * DAY_MS);
      return {
        buckets: this.st.pruneBuckets.run(now - r.scoresDays * DAY_MS).changes,
        alarms: this.st.pruneAlarms.run(now - r.alarmsDays * DAY_MS).changes,
        deliveries: this.st.pruneDeliveries.run(now - r.deliveriesDays * DAY_MS).changes,
      };
    });
    return tx();
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // a checkpoint is an optimisation; the WAL is replayed on the next open anyway
    }
    this.db.close();
  }
}

function alarmView(r: AlarmRow): AlarmView {
  let reason: AlarmReason;
  try {
    reason = JSON.parse(r.reason) as AlarmReason;
  } catch {
    reason = { summary: r.reason, rule: r.rule, on: 'score', threshold: Number.NaN, hits: 0, k: 0, n: 0, durationMs: 0, peakNormalized: null, peakScore: r.score };
  }
  return {
    id: r.id,
    model: r.model,
    stream: r.stream,
    severity: r.severity,
    startedAt: r.started_at,
    firedAt: r.fired_at,
    createdAt: r.created_at,
    score: r.score,
    normalized: r.normalized,
    reason,
    ack: r.ack_at === null ? null : { by: r.ack_by ?? '', note: r.ack_note ?? '', at: r.ack_at },
  };
}

function deliveryView(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    alarmId: r.alarm_id,
    url: r.url,
    payload: r.payload,
    attempts: r.attempts,
    nextAt: r.next_at,
    status: r.status,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
