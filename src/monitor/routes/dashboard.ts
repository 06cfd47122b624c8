/**
 * The dashboard: web/dist served at `/` by @fastify/static. Without a build, `/` answers 503 with
 * the reason (the API works regardless).
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../http/errors.js';

export async function registerDashboard(app: FastifyInstance, dist: { dir: string | null; reason?: string }): Promise<void> {
  if (!dist.dir) {
    const reason = dist.reason ?? 'the dashboard is not built';
    app.get('/', async () => {
      throw new HttpError(503, 'E_UNAVAILABLE', reason);
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: dist.dir,
    prefix: '/',
    index: ['index.html'],
    wildcard: false,
    cacheControl: true,
    maxAge: 0,
    setHeaders(reply, file) {
      // Hashed assets never change; index.html must be revalidated.
      if (file.includes('/assets/')) reply.header('cache-control', 'public, max-age=31536000, immutable');
      else reply.header('cache-control', 'no-cache');
    },
  });
}
