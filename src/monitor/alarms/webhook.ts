/**
 * Webhook delivery from the store's outbox: every alarm is queued (in the same transaction that
 * records it) for each configured URL, then POSTed as JSON with a timeout. A failure (network
 * error, timeout, non-2xx status) is retried with exponential backoff and jitter; after
 * `maxAttempts` the delivery becomes a dead letter (status `dead`, with the last error) in the store.
 * Because the outbox is in the store, deliveries still pending at a crash are sent after restart.
 */
import type { Delivery, MonitorStore } from '../store/store.js';

export interface WebhookOptions {
  /** Per-attempt timeout (default 5 s). */
  timeoutMs?: number;
  /** Attempts before a delivery is dead-lettered (default 6). */
  maxAttempts?: number;
  /** Delay before the first retry; doubles each time (default 500 ms), capped at `maxDelayMs` (default 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Deliveries in flight at once (default 4). */
  concurrency?: number;
  /** Called after each attempt (metrics, logs). */
  onAttempt?: (d: Delivery, outcome: 'delivered' | 'retry' | 'dead', error: string | null) => void;
  fetchImpl?: typeof fetch;
}

export class WebhookDispatcher {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly concurrency: number;
  private readonly fetchImpl: typeof fetch;
  private readonly inFlight = new Map<number, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly store: MonitorStore,
    private readonly opts: WebhookOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.maxAttempts = opts.maxAttempts ?? 6;
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
    this.concurrency = opts.concurrency ?? 4;
    this.fetchImpl = opts.fetchImpl ?? fetch;
  }

  /** Deliveries pending in the outbox (queued, retrying or in flight). */
  get depth(): number {
    return this.store.pendingDeliveries();
  }

  /** Looks for due deliveries now (call after queueing new ones). */
  kick(): void {
    if (this.stopped) return;
    try {
      this.pump(Date.now());
    } catch {
      // store closed (shutdown): nothing to deliver from here
    }
  }

  private pump(now: number): void {
    const free = this.concurrency - this.inFlight.size;
    if (free > 0) {
      for (const d of this.store.dueDeliveries(now, free + this.inFlight.size)) {
        if (this.inFlight.size >= this.concurrency) break;
        if (this.inFlight.has(d.id)) continue;
        const p = this.attempt(d).finally(() => {
          this.inFlight.delete(d.id);
          this.kick();
        });
        this.inFlight.set(d.id, p);
      }
    }
    this.schedule();
  }

  /** Wakes up when the next retry is due. */
  private schedule(): void {
    if (this.stopped) return;
    const next = this.store.nextDeliveryAt();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (next === null) return;
    this.timer = setTimeout(() => this.kick(), Math.max(10, Math.min(next - Date.now(), this.maxDelayMs)));
    this.timer.unref();
  }

  private backoff(attempts: number): number {
    const exp = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempts - 1));
    return Math.round(exp * (0.75 + Math.random() * 0.5));
  }

  private async attempt(d: Delivery): Promise<void> {
    const attempts = d.attempts + 1;
    let error: string | null = null;
    try {
      const res = await this.fetchImpl(d.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'vigil-monitor', 'x-vigil-delivery': String(d.id) },
        body: d.payload,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
      // Drain the body so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (e) {
      const err = e as Error;
      error = err.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : (err.cause as Error | undefined)?.message ?? err.message;
    }
    // The store may already be closed when an attempt outlives shutdown: the delivery then stays
    // pending and is retried on the next start. Nothing here may throw (no unhandled rejections).
    try {
      if (error === null) {
        this.store.markDelivered(d.id, attempts);
        this.opts.onAttempt?.(d, 'delivered', null);
      } else if (attempts >= this.maxAttempts) {
        this.store.markDead(d.id, attempts, error);
        this.opts.onAttempt?.(d, 'dead', error);
      } else {
        this.store.markRetry(d.id, attempts, Date.now() + this.backoff(attempts), error);
        this.opts.onAttempt?.(d, 'retry', error);
      }
    } catch {
      this.stop();
    }
  }

  /**
   * Shutdown: tries every pending delivery once more (ignoring backoff) and waits for the attempts
   * until `deadlineMs`; what is still pending stays in the outbox for the next start.
   */
  async flush(deadlineMs = 5000): Promise<void> {
    const end = Date.now() + deadlineMs;
    const seen = new Set<number>();
    while (Date.now() < end) {
      const due = this.store.dueDeliveries(Number.MAX_SAFE_INTEGER, 1000).filter((d) => !seen.has(d.id) && !this.inFlight.has(d.id));
      if (due.length === 0 && this.inFlight.size === 0) break;
      for (const d of due.slice(0, Math.max(0, this.concurrency - this.inFlight.size))) {
        seen.add(d.id);
        const p = this.attempt(d).finally(() => this.inFlight.delete(d.id));
        this.inFlight.set(d.id, p);
      }
      const left = end - Date.now();
      if (left <= 0) break;
      await Promise.race([...this.inFlight.values(), new Promise((r) => setTimeout(r, left).unref())]);
    }
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
