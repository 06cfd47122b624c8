/**
 * API-key check for the routes that change state (ingest, acknowledge, admin): the key comes in the
 * `x-api-key` header or as `Authorization: Bearer <key>`, and is compared in constant time. With no
 * key configured the check lets every request through (the service then binds to loopback by default).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { HttpError } from './errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The key a request presents, or null. */
export function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!;
  }
  return null;
}

/** An onRequest hook (it runs before the body is read) that answers 401 unless the request carries `key` (no-op when key is null). */
export function requireApiKey(key: string | null): onRequestHookHandler {
  const expected = key === null ? null : digest(key);
  return function checkApiKey(request, _reply, done) {
    if (expected === null) return done();
    const got = presentedKey(request);
    if (got === null) return done(new HttpError(401, 'E_AUTH', 'this endpoint needs an API key: send it as "x-api-key: <key>" or "Authorization: Bearer <key>"'));
    if (!timingSafeEqual(digest(got), expected)) return done(new HttpError(401, 'E_AUTH', 'the API key is not valid'));
    done();
  };
}
