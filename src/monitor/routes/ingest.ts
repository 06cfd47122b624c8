/**
 * Scoring endpoints (API key required when configured):
 *
 *   POST /api/v1/models/:model/points   time-series points, JSON `{"points": [...]}` or NDJSON
 *                                       (`application/x-ndjson`, one point object per line)
 *   POST /api/v1/models/:model/image    one PNG/JPEG as the body (`image/png`, `image/jpeg`),
 *                                       with optional `?id=&stream=&t=`
 *   POST /api/v1/models/:model/images   a batch: JSON `{"images": [{"data": "<base64>", "id", "stream", "t"}]}`
 *   POST /api/v1/models/:model/rows     table rows: JSON `{"rows": [{"values": [..] | {"col": v}, "id", "stream", "t"}]}`
 *
 * Handlers only translate HTTP to the monitor's calls; scoring, rules and storage live there.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VigilError } from '../../core/errors.js';
import { LIMITS, imageQuery, imagesBody, modelParams, pointsBody, pointsResponse, rowsBody } from '../http/schemas.js';
import type { ImageUpload, PointInput, RowInput } from '../monitor.js';
import type { RouteContext } from './context.js';

type ModelParams = { model: string };

/** Parses NDJSON text into `{points}`: one JSON object per non-empty line. */
export function parseNdjsonPoints(text: string): { points: unknown[] } {
  const points: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (points.length >= LIMITS.points) {
      throw new VigilError('E_VALUE', `points: more than ${LIMITS.points} lines in one request`, { field: 'points' });
    }
    try {
      points.push(JSON.parse(line));
    } catch (e) {
      throw new VigilError('E_DECODE', `line ${i + 1}: not valid JSON (${(e as Error).message})`, { field: `points[${points.length}]` });
    }
  }
  return { points };
}

export function registerIngestRoutes(app: FastifyInstance, ctx: RouteContext): void {
  // Time-series points: JSON or NDJSON.
  void app.register(async (scope) => {
    scope.addContentTypeParser(['application/x-ndjson', 'application/ndjson'], { parseAs: 'string', bodyLimit: LIMITS.bodyPoints }, (_req, body, done) => {
      try {
        done(null, parseNdjsonPoints(body as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
    scope.post<{ Params: ModelParams; Body: { points: PointInput[] } }>(
      '/api/v1/models/:model/points',
      { onRequest: ctx.auth, bodyLimit: LIMITS.bodyPoints, schema: { params: modelParams, body: pointsBody, response: pointsResponse } },
      async (req) => ctx.monitor.scorePoints(req.params.model, req.body.points),
    );
  });

  // One raw image.
  void app.register(async (scope) => {
    scope.addContentTypeParser(['image/png', 'image/jpeg'], { parseAs: 'buffer', bodyLimit: LIMITS.bodyImage }, (_req, body, done) => done(null, body));
    scope.post<{ Params: ModelParams; Querystring: { id?: string; stream?: string; t?: number | string }; Body: Buffer }>(
      '/api/v1/models/:model/image',
      { onRequest: ctx.auth, bodyLimit: LIMITS.bodyImage, schema: { params: modelParams, querystring: imageQuery } },
      async (req: FastifyRequest<{ Params: ModelParams; Querystring: { id?: string; stream?: string; t?: number | string }; Body: Buffer }>) => {
        if (!Buffer.isBuffer(req.body)) throw new VigilError('E_DECODE', '(body): send the image bytes with Content-Type image/png or image/jpeg', { field: '(body)' });
        const q = req.query;
        const upload: ImageUpload = { bytes: req.body, field: '(body)', ...(q.id ? { id: q.id } : {}), ...(q.stream ? { stream: q.stream } : {}), ...(q.t !== undefined ? { t: q.t } : {}) };
        return ctx.monitor.scoreImages(req.params.model, [upload]);
      },
    );
  });

  // A JSON batch of base64 images.
  app.post<{ Params: ModelParams; Body: { images: { data: string; id?: string; stream?: string; t?: number | string }[] } }>(
    '/api/v1/models/:model/images',
    { onRequest: ctx.auth, bodyLimit: LIMITS.bodyImages, schema: { params: modelParams, body: imagesBody } },
    async (req) => {
      const uploads: ImageUpload[] = req.body.images.map((im, i) => {
        const field = `images[${i}].data`;
        if (!/^[A-Za-z0-9+/=\s_-]*$/.test(im.data)) throw new VigilError('E_DECODE', `${field}: not base64 text`, { field });
        return { bytes: Buffer.from(im.data, 'base64'), field, ...(im.id ? { id: im.id } : {}), ...(im.stream ? { stream: im.stream } : {}), ...(im.t !== undefined ? { t: im.t } : {}) };
      });
      return ctx.monitor.scoreImages(req.params.model, uploads);
    },
  );

  app.post<{ Params: ModelParams; Body: { rows: RowInput[] } }>(
    '/api/v1/models/:model/rows',
    { onRequest: ctx.auth, bodyLimit: LIMITS.bodyRows, schema: { params: modelParams, body: rowsBody } },
    async (req) => ctx.monitor.scoreRows(req.params.model, req.body.rows),
  );
}
