/**
 * Prometheus metrics of one service instance (its own registry, so several services can run in one
 * process, as the tests do): requests, latency, scores, points, alarms, queue depths, webhooks.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly latency: Histogram<'method' | 'route'>;
  readonly scores: Histogram<'model'>;
  readonly scored: Counter<'model' | 'kind'>;
  readonly points: Counter<'model'>;
  readonly alarms: Counter<'model' | 'severity'>;
  readonly queueDepth: Gauge<'queue'>;
  readonly streams: Gauge;
  readonly sseClients: Gauge;
  readonly webhooks: Counter<'outcome'>;
  readonly reloads: Counter<'outcome'>;

  constructor(opts: { defaultMetrics?: boolean; queueDepths?: () => Record<string, number>; streamCount?: () => number; sseCount?: () => number } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'vigil_' });
    this.requests = new Counter({ name: 'vigil_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers });
    this.latency = new Histogram({
      name: 'vigil_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.scores = new Histogram({
      name: 'vigil_score_normalized',
      help: 'Normalized anomaly scores (threshold at 0.5)',
      labelNames: ['model'],
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
      registers,
    });
    this.scored = new Counter({ name: 'vigil_scored_total', help: 'Samples scored (points, images, rows)', labelNames: ['model', 'kind'], registers });
    this.points = new Counter({ name: 'vigil_points_ingested_total', help: 'Time-series points accepted', labelNames: ['model'], registers });
    this.alarms = new Counter({ name: 'vigil_alarms_total', help: 'Alarms raised', labelNames: ['model', 'severity'], registers });
    const depths = opts.queueDepths;
    this.queueDepth = new Gauge({
      name: 'vigil_queue_depth',
      help: 'Jobs waiting or running per queue (scoring per model, webhook deliveries)',
      labelNames: ['queue'],
      registers,
      collect() {
        if (!depths) return;
        this.reset();
        for (const [q, n] of Object.entries(depths())) this.set({ queue: q }, n);
      },
    });
    const streamCount = opts.streamCount;
    this.streams = new Gauge({
      name: 'vigil_streams',
      help: 'Time-series streams held in memory',
      registers,
      collect() {
        if (streamCount) this.set(streamCount());
      },
    });
    const sseCount = opts.sseCount;
    this.sseClients = new Gauge({
      name: 'vigil_event_clients',
      help: 'Connected Server-Sent Events clients (dashboards)',
      registers,
      collect() {
        if (sseCount) this.set(sseCount());
      },
    });
    this.webhooks = new Counter({ name: 'vigil_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers });
    this.reloads = new Counter({ name: 'vigil_model_reloads_total', help: 'Model hot reloads by outcome', labelNames: ['outcome'], registers });
  }

  observeScore(model: string, kind: string, normalized: number | null): void {
    this.scored.inc({ model, kind });
    if (normalized !== null && Number.isFinite(normalized)) this.scores.observe({ model }, normalized);
  }
}
