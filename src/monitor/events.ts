/**
 * Server-Sent Events hub: pushes what happens (scores, images, alarms, acknowledgements, reloads)
 * to every connected dashboard.
 *
 * Points are coalesced: each stream's new points are buffered and sent together every `flushMs`,
 * thinned to at most `maxPointsPerFlush` per stream (keeping each group's highest score, so spikes
 * stay visible). A client whose socket cannot keep up (more than `maxBufferedBytes` unsent) is
 * disconnected rather than letting memory grow; its browser reconnects by itself.
 */
import type { ServerResponse } from 'node:http';
import type { EventMap, EventName } from './api-types.js';

export interface EventHubOptions {
  flushMs?: number;
  maxPointsPerFlush?: number;
  maxBufferedBytes?: number;
  heartbeatMs?: number;
}

interface PendingPoints {
  model: string;
  stream: string;
  threshold: number | null;
  t: number[];
  score: number[];
  normalized: number[];
}

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly pending = new Map<string, PendingPoints>();
  private readonly flushMs: number;
  private readonly maxPoints: number;
  private readonly maxBuffered: number;
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly heartbeat: NodeJS.Timeout;
  private nextId = 1;
  private closed = false;

  constructor(opts: EventHubOptions = {}) {
    this.flushMs = opts.flushMs ?? 250;
    this.maxPoints = opts.maxPointsPerFlush ?? 500;
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.heartbeat = setInterval(() => this.broadcastRaw(': keep-alive\n\n'), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes over a response as an event stream; `first` events are sent to this client only. */
  attach(res: ServerResponse, first: { name: EventName; data: unknown }[] = []): void {
    if (this.closed) {
      res.end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    for (const e of first) res.write(this.frame(e.name, e.data));
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    res.on('close', drop);
    res.on('error', drop);
  }

  publish<K extends EventName>(name: K, data: EventMap[K]): void {
    if (this.clients.size === 0) return;
    this.broadcastRaw(this.frame(name, data));
  }

  /** Buffers a stream's scored points for the next coalesced `points` event. */
  queuePoints(model: string, stream: string, threshold: number | null, t: number, score: number, normalized: number | null): void {
    if (this.clients.size === 0 || this.closed) return;
    const key = `${model}\u0000${stream}`;
    let p = this.pending.get(key);
    if (!p) {
      p = { model, stream, threshold, t: [], score: [], normalized: [] };
      this.pending.set(key, p);
    }
    p.threshold = threshold;
    p.t.push(t);
    p.score.push(score);
    p.normalized.push(normalized ?? Number.NaN);
    // Bound memory between flushes: thin in place when far above what one flush sends.
    if (p.t.length > 8 * this.maxPoints) thin(p, this.maxPoints);
    this.flushTimer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Sends every buffered stream's points now. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const p of batches) {
      if (p.t.length > this.maxPoints) thin(p, this.maxPoints);
      this.publish('points', { ...p, normalized: p.normalized.map((v) => (Number.isFinite(v) ? v : -1)) });
    }
  }

  private frame(name: string, data: unknown): string {
    return `id: ${this.nextId++}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  private broadcastRaw(chunk: string): void {
    for (const res of this.clients) {
      if (res.writableLength > this.maxBuffered) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(chunk);
    }
  }

  /** Ends every event stream (on shutdown) so that the server can close. */
  close(): void {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

/** Keeps at most `max` points: in each of `max` equal groups, the one with the highest score. */
function thin(p: PendingPoints, max: number): void {
  const n = p.t.length;
  const t: number[] = [];
  const score: number[] = [];
  const normalized: number[] = [];
  for (let g = 0; g < max; g++) {
    const a = Math.floor((g * n) / max);
    const b = Math.floor(((g + 1) * n) / max);
    if (b <= a) continue;
    let best = a;
    for (let i = a + 1; i < b; i++) if (p.score[i]! > p.score[best]!) best = i;
    t.push(p.t[best]!);
    score.push(p.score[best]!);
    normalized.push(p.normalized[best]!);
  }
  p.t = t;
  p.score = score;
  p.normalized = normalized;
}
