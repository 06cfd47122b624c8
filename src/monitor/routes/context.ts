/** What the route modules share: the service's parts, handed to each `register*Routes`. */
import type { onRequestHookHandler } from 'fastify';
import type { ModelView } from '../api-types.js';
import type { RuleBook } from '../alarms/rules.js';
import type { EventHub } from '../events.js';
import type { HeatmapCache } from '../heatmaps.js';
import type { ServiceMetrics } from '../metrics.js';
import type { ModelRegistry } from '../models.js';
import type { Monitor } from '../monitor.js';
import type { MonitorStore } from '../store/store.js';

export interface RouteContext {
  monitor: Monitor;
  models: ModelRegistry;
  store: MonitorStore;
  events: EventHub;
  heatmaps: HeatmapCache;
  metrics: ServiceMetrics;
  rules: RuleBook;
  /** API-key check for routes that change state. */
  auth: onRequestHookHandler;
  bucketMs: number;
  /** Hot reload of every model (shared with SIGHUP). */
  reload: () => Promise<ModelView[]>;
  /** False once shutdown has begun. */
  accepting: () => boolean;
  startedAt: number;
}
