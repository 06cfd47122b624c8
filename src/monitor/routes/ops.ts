/**
 * Operations endpoints:
 *
 *   GET /healthz       200 `{status: "ok", ...}` while serving; 503 `{status: "stopping"}` during shutdown
 *   GET /metrics       Prometheus text exposition
 *   GET /api/v1/events Server-Sent Events for dashboards (see api-types.ts EventMap)
 */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

export function registerOpsRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/healthz', async (_req, reply) => {
    if (!ctx.accepting()) return reply.status(503).send({ status: 'stopping' });
    return {
      status: 'ok',
      uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
      models: ctx.models.ids(),
      webhookQueue: ctx.store.pendingDeliveries(),
    };
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });

  app.get('/api/v1/events', (req, reply) => {
    reply.hijack();
    ctx.events.attach(reply.raw, [{ name: 'hello', data: { models: ctx.models.views(), serverTime: Date.now() } }]);
    req.log.debug('event stream opened');
  });
}
