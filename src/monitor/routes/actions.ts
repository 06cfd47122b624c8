/**
 * Endpoints that change state besides scoring (API key required when configured):
 *
 *   POST /api/v1/alarms/:id/ack      `{"by"?: string, "note"?: string}` → `{alarm, created}` (idempotent)
 *   GET  /api/v1/dead-letters        webhook deliveries that kept failing (they carry alarm payloads)
 *   POST /admin/reload               reloads every model folder, swapping without dropping requests
 */
import type { FastifyInstance } from 'fastify';
import { ackBody, alarmParams, limitQuery } from '../http/schemas.js';
import type { RouteContext } from './context.js';

export function registerActionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Params: { id: number }; Body: { by?: string; note?: string } | null | undefined }>(
    '/api/v1/alarms/:id/ack',
    { onRequest: ctx.auth, schema: { params: alarmParams, body: ackBody } },
    async (req) => ctx.monitor.ack(req.params.id, req.body?.by?.trim() || 'anonymous', req.body?.note ?? ''),
  );

  app.get<{ Querystring: { limit: number } }>('/api/v1/dead-letters', { onRequest: ctx.auth, schema: { querystring: limitQuery } }, async (req) => ({
    deliveries: ctx.store.deadLetters(req.query.limit),
  }));

  app.post('/admin/reload', { onRequest: ctx.auth }, async () => ({ models: await ctx.reload() }));
}
