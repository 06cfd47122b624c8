/**
 * Read-only endpoints (open to any client that can reach the service; it binds to loopback unless
 * told otherwise):
 *
 *   GET /api/v1/models                              models with threshold and training history
 *   GET /api/v1/models/:model                       one model
 *   GET /api/v1/streams                             live and stored streams
 *   GET /api/v1/streams/:model/:stream/history      downsampled score history (?from=&to=&limit=)
 *   GET /api/v1/alarms                              newest first (?limit=&before=&model=&stream=&unacked=)
 *   GET /api/v1/alarms/:id                          one alarm with its acknowledgement
 *   GET /api/v1/images/recent                       the latest scored images with heat-map links
 *   GET /api/v1/heatmaps/:id.png                    a heat-map overlay
 *   GET /api/v1/rules                               the alarm rules in force
 *   GET /api/v1/settings                            retention and bucket width
 */
import type { FastifyInstance } from 'fastify';
import { ruleView, DEFAULT_RULE } from '../alarms/rules.js';
import { HttpError } from '../http/errors.js';
import { alarmParams, alarmsQuery, heatmapParams, historyParams, historyQuery, modelParams } from '../http/schemas.js';
import type { RouteContext } from './context.js';

export function registerQueryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/api/v1/models', async () => ({ models: ctx.models.views() }));

  app.get<{ Params: { model: string } }>('/api/v1/models/:model', { schema: { params: modelParams } }, async (req) => ctx.models.get(req.params.model).view());

  app.get('/api/v1/streams', async () => ({ streams: ctx.monitor.streamViews() }));

  app.get<{ Params: { model: string; stream: string }; Querystring: { from?: number; to?: number; limit: number } }>(
    '/api/v1/streams/:model/:stream/history',
    { schema: { params: historyParams, querystring: historyQuery } },
    async (req) => {
      const { model, stream } = req.params;
      const known = ctx.monitor.streamViews().some((s) => s.model === model && s.stream === stream);
      if (!known) throw new HttpError(404, 'E_NOT_FOUND', `no stream "${stream}" of model "${model}"`, 'stream');
      return { model, stream, bucketMs: ctx.bucketMs, buckets: ctx.store.history(model, stream, req.query.from, req.query.to, req.query.limit) };
    },
  );

  app.get<{ Querystring: { limit: number; before?: number; model?: string; stream?: string; unacked?: boolean } }>(
    '/api/v1/alarms',
    { schema: { querystring: alarmsQuery } },
    async (req) => ({ alarms: ctx.store.listAlarms(req.query) }),
  );

  app.get<{ Params: { id: number } }>('/api/v1/alarms/:id', { schema: { params: alarmParams } }, async (req) => {
    const a = ctx.store.getAlarm(req.params.id);
    if (!a) throw new HttpError(404, 'E_NOT_FOUND', `no alarm ${req.params.id}`, 'id');
    return a;
  });

  app.get('/api/v1/images/recent', async () => ({ images: ctx.monitor.recentImages() }));

  app.get<{ Params: { file: string } }>('/api/v1/heatmaps/:file', { schema: { params: heatmapParams } }, async (req, reply) => {
    const id = req.params.file.slice(0, -'.png'.length);
    const png = await ctx.heatmaps.png(id);
    if (!png) throw new HttpError(404, 'E_NOT_FOUND', `no heat map ${id} (only the most recent images' maps are kept)`, 'id');
    return reply.type('image/png').header('cache-control', 'private, max-age=3600, immutable').send(png);
  });

  app.get('/api/v1/rules', async () => ({ rules: ctx.rules.list.map(ruleView), default: ruleView(DEFAULT_RULE) }));

  app.get('/api/v1/settings', async () => ({ retention: ctx.store.retention(), bucketMs: ctx.bucketMs }));
}
