/**
 * Assembles the monitoring service: models, store, rules, scorers, sinks, metrics, routes; starts
 * listening; reloads models; shuts down gracefully.
 *
 *   const svc = await createService({ models: [{ id: 'cam', dir: 'models/cam' }], storeFile: 'vigil.db' });
 *   await svc.listen();            // 127.0.0.1:8080 unless told otherwise
 *   ...
 *   await svc.close();             // stops accepting, finishes requests, flushes writes and webhooks
 */
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Writable } from 'node:stream';
import { isIP } from 'node:net';
import { VigilError } from '../core/errors.js';
import '../models/index.js';
import type { ModelView } from './api-types.js';
import { RuleBook, type AlarmRule } from './alarms/rules.js';
import { EventSink, JsonLineSink, type AlarmSink } from './alarms/sinks.js';
import { WebhookDispatcher, type WebhookOptions } from './alarms/webhook.js';
import { EventHub } from './events.js';
import { HeatmapCache } from './heatmaps.js';
import { requireApiKey } from './http/auth.js';
import { installErrorHandling } from './http/errors.js';
import { LIMITS } from './http/schemas.js';
import { installValidation } from './http/validation.js';
import { ServiceMetrics } from './metrics.js';
import { ModelRegistry, type DetectorLoader, type ModelSpec } from './models.js';
import { Monitor } from './monitor.js';
import { registerActionRoutes } from './routes/actions.js';
import type { RouteContext } from './routes/context.js';
import { registerDashboard } from './routes/dashboard.js';
import { registerIngestRoutes } from './routes/ingest.js';
import { registerOpsRoutes } from './routes/ops.js';
import { registerQueryRoutes } from './routes/query.js';
import { StreamTable, defaultScorerFactory, type ScorerFactoryFor } from './scoring/streams.js';
import { MonitorStore, type RetentionSettings } from './store/store.js';
import { ensureWebBuilt } from './web-assets.js';

export interface ServiceOptions {
  models: readonly ModelSpec[];
  /** SQLite file (created if missing); `:memory:` for a throw-away store. */
  storeFile: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Required on ingest, acknowledge and admin routes when set. */
  apiKey?: string | null;
  webhooks?: readonly string[];
  webhook?: Omit<WebhookOptions, 'onAttempt'>;
  rules?: readonly AlarmRule[];
  /** Width of the score-history buckets (default 10 s). */
  bucketMs?: number;
  /** Retention to store (overrides the stored settings). */
  retention?: Partial<RetentionSettings>;
  durable?: 'normal' | 'full';
  /** Fastify logger: true (JSON on stdout, default), false, or options. */
  logger?: FastifyServerOptions['logger'];
  /** Where alarm log lines go (default stdout). */
  alarmLog?: Pick<Writable, 'write'> | null;
  /** Serve the dashboard (default true; it is built on first start when missing). */
  dashboard?: boolean;
  maxStreams?: number;
  /** How often the scorer states of streams with new points are saved (default 60 s). */
  saveStatesEveryMs?: number;
  /** How often retention runs (default 1 h). */
  retentionEveryMs?: number;
  /** Streams with no point for this long are dropped from memory, their state saved (default 1 h). */
  idleStreamMs?: number;
  /** For tests: builds stream scorers / loads detectors. */
  scorerFactory?: ScorerFactoryFor;
  loader?: DetectorLoader;
}

export interface Service {
  readonly app: FastifyInstance;
  readonly monitor: Monitor;
  readonly store: MonitorStore;
  readonly models: ModelRegistry;
  /** Listens; resolves to the base URL (http://host:port). */
  listen(): Promise<string>;
  /** Hot reload of every model. */
  reload(): Promise<ModelView[]>;
  /** Graceful shutdown; safe to call more than once. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

export async function createService(o: ServiceOptions): Promise<Service> {
  if (o.models.length === 0) throw new VigilError('E_CONFIG', 'serve: give at least one --model <dir>', { field: 'model' });
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? 8080;
  const apiKey = o.apiKey ?? null;
  if (apiKey !== null && apiKey.length < 8) throw new VigilError('E_CONFIG', '--api-key: use at least 8 characters', { field: 'api-key' });
  const bucketMs = o.bucketMs ?? 10_000;
  for (const url of o.webhooks ?? []) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new VigilError('E_CONFIG', `--webhook: "${url}" is not an http(s) URL`, { field: 'webhook', value: url });
  }

  const models = new ModelRegistry(o.models, o.loader);
  await models.load();
  let store: MonitorStore;
  try {
    store = new MonitorStore(o.storeFile, { durable: o.durable ?? 'normal' });
  } catch (e) {
    models.close();
    throw e;
  }
  if (o.retention) store.setRetention(o.retention);

  const app = Fastify({
    logger: o.logger ?? true,
    bodyLimit: LIMITS.bodyDefault,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
    // A client that trickles its body is cut off rather than holding a connection forever.
    requestTimeout: 60_000,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
  });
  const log = app.log;
  const events = new EventHub();
  const heatmaps = new HeatmapCache();
  const rules = new RuleBook(o.rules ?? []);
  const streams = new StreamTable(o.scorerFactory ?? defaultScorerFactory, o.maxStreams ?? 10_000, store);
  let monitor: Monitor | null = null;
  let webhooks: WebhookDispatcher | null = null;
  const metrics = new ServiceMetrics({
    queueDepths: () => ({ ...(monitor?.queueDepths() ?? {}), webhook: webhooks?.depth ?? 0 }),
    streamCount: () => streams.size,
    sseCount: () => events.clientCount,
  });
  if ((o.webhooks ?? []).length > 0) {
    webhooks = new WebhookDispatcher(store, {
      ...o.webhook,
      onAttempt: (d, outcome, error) => {
        metrics.webhooks.inc({ outcome });
        if (outcome === 'dead') log.error({ delivery: d.id, alarm: d.alarmId, url: d.url, error }, 'webhook delivery failed for good: dead-lettered');
        else if (outcome === 'retry') log.warn({ delivery: d.id, alarm: d.alarmId, url: d.url, error, attempt: d.attempts + 1 }, 'webhook delivery failed; will retry');
      },
    });
  }
  const sinks: AlarmSink[] = [new EventSink(events)];
  if (o.alarmLog !== null) sinks.push(new JsonLineSink(o.alarmLog ?? process.stdout));
  monitor = new Monitor(
    { models, store, rules, streams, events, heatmaps, metrics, sinks, webhooks },
    { bucketMs, webhookUrls: o.webhooks ?? [], onSinkError: (sink, e) => log.error({ err: e, sink }, 'alarm sink failed') },
  );
  const mon = monitor;

  let accepting = true;
  /** Saves the scorer states of streams with new points (all of them at once: shutdown, eviction). */
  const saveStates = (list = streams.all()) => {
    try {
      const dirty = list.filter((s) => s.dirty);
      store.saveScorerStates(dirty.map((s) => ({ model: s.model, stream: s.stream, state: s.scorer.state() })));
      for (const s of dirty) s.dirty = false;
    } catch (e) {
      log.error({ err: e }, 'saving stream scorer states failed');
    }
  };
  /** The periodic save, 50 streams per event-loop turn so that requests are not held up. */
  let saving = false;
  const saveStatesInSlices = () => {
    if (saving) return;
    saving = true;
    const dirty = streams.all().filter((s) => s.dirty);
    const step = (from: number) => {
      if (from >= dirty.length || !accepting) {
        saving = false;
        return;
      }
      saveStates(dirty.slice(from, from + 50));
      setImmediate(() => step(from + 50));
    };
    step(0);
  };
  const reload = async (): Promise<ModelView[]> => {
    try {
      const views = await models.reload();
      metrics.reloads.inc({ outcome: 'ok' });
      events.publish('models', { models: views });
      log.info({ models: views.map((v) => `${v.id}@${v.generation}`) }, 'models reloaded');
      return views;
    } catch (e) {
      metrics.reloads.inc({ outcome: 'failed' });
      log.error({ err: e }, 'model reload failed; the running models stay');
      throw e;
    }
  };

  installValidation(app);
  installErrorHandling(app);
  // Only JSON (and, per route, NDJSON and images) is accepted; text/plain is answered 415.
  app.removeContentTypeParser('text/plain');
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    done();
  });

  const ctx: RouteContext = {
    monitor: mon,
    models,
    store,
    events,
    heatmaps,
    metrics,
    rules,
    auth: requireApiKey(apiKey),
    bucketMs,
    reload,
    accepting: () => accepting,
    startedAt: Date.now(),
  };
  registerOpsRoutes(app, ctx);
  registerIngestRoutes(app, ctx);
  registerQueryRoutes(app, ctx);
  registerActionRoutes(app, ctx);
  if (o.dashboard !== false) await registerDashboard(app, await ensureWebBuilt((m) => log.info(m)));

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void) => {
    const t = setInterval(() => {
      try {
        fn();
      } catch (e) {
        log.error({ err: e }, 'periodic task failed');
      }
    }, ms);
    t.unref();
    timers.push(t);
  };
  const prune = () => {
    const r = store.prune();
    if (r.buckets + r.alarms + r.deliveries > 0) log.info(r, 'retention: old rows deleted');
  };
  prune();
  every(o.retentionEveryMs ?? 3_600_000, prune);
  every(o.saveStatesEveryMs ?? 60_000, saveStatesInSlices);
  every(Math.min(o.idleStreamMs ?? 3_600_000, 600_000), () => {
    const idle = streams.evictIdle(Date.now() - (o.idleStreamMs ?? 3_600_000));
    if (idle.length > 0) {
      saveStates(idle);
      for (const s of idle) rules.forget(s.model, s.stream);
    }
  });
  // Deliveries left pending by a previous run.
  webhooks?.kick();

  if (apiKey === null && !isLoopback(host)) {
    log.warn({ host }, 'listening beyond loopback without an API key: anyone who can reach this port can ingest and acknowledge; set --api-key or VIGIL_API_KEY');
  }

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      accepting = false;
      for (const t of timers) clearInterval(t);
      events.flush();
      events.close();
      // Stops accepting connections and waits for requests in flight.
      await app.close();
      await mon.drain();
      saveStates();
      if (webhooks) await webhooks.flush(o.webhook?.timeoutMs ? Math.max(5000, o.webhook.timeoutMs) : 5000);
      store.close();
      models.close();
    })();
    return closing;
  };

  return {
    app,
    monitor: mon,
    store,
    models,
    async listen() {
      await app.listen({ host, port });
      const addr = app.server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      const h = host.includes(':') ? `[${host}]` : host;
      return `http://${h}:${p}`;
    },
    reload,
    close,
  };
}
