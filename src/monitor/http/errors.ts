/**
 * The one place where failures become HTTP responses: `{error: {code, message, field?}}` with a
 * 4xx status for anything the client can fix, 5xx otherwise. VigilError codes keep their name;
 * HTTP-only failures (authentication, size, media type, limits) use the codes below.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { VigilError, type ErrorCode } from '../../core/errors.js';
import type { ErrorBody } from '../api-types.js';

export type HttpErrorCode =
  | 'E_AUTH'
  | 'E_TOO_LARGE'
  | 'E_MEDIA_TYPE'
  | 'E_VALIDATION'
  | 'E_BAD_REQUEST'
  | 'E_LIMIT'
  | 'E_UNAVAILABLE'
  | 'E_INTERNAL'
  | ErrorCode;

/** An error raised by the HTTP layer itself, with its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const VIGIL_STATUS: Record<ErrorCode, number> = {
  E_NOT_FOUND: 404,
  E_EMPTY: 400,
  E_DECODE: 400,
  E_SHAPE: 400,
  E_VALUE: 400,
  E_CONFIG: 400,
  E_UNSUPPORTED: 400,
  E_NOT_FITTED: 409,
  E_MODEL_CORRUPT: 422,
  E_MODEL_INCOMPATIBLE: 422,
  E_BACKBONE: 422,
  E_IO: 503,
};

/** Fastify's own error codes that are the client's doing. */
const FASTIFY_STATUS: Record<string, { status: number; code: HttpErrorCode }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'E_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'E_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'E_BAD_REQUEST' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'E_EMPTY' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'E_DECODE' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'E_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'E_MEDIA_TYPE' },
};

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
  keyword?: string;
}

/** `/points/3/values/0` + params → `points[3].values[0]` (the field a client reads). */
export function fieldName(instancePath: string, params: Record<string, unknown> = {}, prefix = ''): string {
  let out = prefix;
  for (const part of instancePath.split('/').slice(1)) {
    const p = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  }
  const extra = (params.missingProperty ?? params.additionalProperty) as string | undefined;
  if (extra !== undefined) out += out ? `.${extra}` : extra;
  return out || '(body)';
}

function fromValidation(issues: ValidationIssue[], context: string | undefined): HttpError {
  const first = issues[0] ?? {};
  const prefix = context && context !== 'body' ? `${context}.` : '';
  const field = fieldName(first.instancePath ?? '', first.params ?? {}, prefix === '' ? '' : prefix.slice(0, -1));
  let what = first.message ?? 'is invalid';
  if (first.keyword === 'additionalProperties') what = 'is not a known field';
  if (first.keyword === 'required') what = 'is required';
  return new HttpError(400, 'E_VALIDATION', `${field}: ${what}`, field);
}

/** Maps any thrown value to a status and an error body. `internal` is true for 5xx (worth logging). */
export function toErrorResponse(e: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (e instanceof HttpError) {
    return { status: e.status, body: { error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } }, internal: e.status >= 500 };
  }
  if (e instanceof VigilError) {
    const status = VIGIL_STATUS[e.code] ?? 500;
    const field = typeof e.details.field === 'string' ? e.details.field : undefined;
    return { status, body: { error: { code: e.code, message: e.message, ...(field ? { field } : {}) } }, internal: status >= 500 };
  }
  const fe = e as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (fe && Array.isArray(fe.validation)) return toErrorResponse(fromValidation(fe.validation, fe.validationContext));
  if (fe && typeof fe.code === 'string' && FASTIFY_STATUS[fe.code]) {
    const m = FASTIFY_STATUS[fe.code]!;
    return { status: m.status, body: { error: { code: m.code, message: fe.message ?? m.code } }, internal: false };
  }
  if (fe && e instanceof SyntaxError) return { status: 400, body: { error: { code: 'E_DECODE', message: `the body is not valid JSON (${e.message})` } }, internal: false };
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    return { status, body: { error: { code: 'E_BAD_REQUEST', message: fe?.message ?? 'bad request' } }, internal: false };
  }
  return { status: 500, body: { error: { code: 'E_INTERNAL', message: 'internal error; see the service log' } }, internal: true };
}

/** Installs the error and not-found handlers on the root instance (inherited by every route). */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body, internal } = toErrorResponse(error);
    if (internal) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code, status }, body.error.message);
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="vigil"');
    return reply.status(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = { error: { code: 'E_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } };
    return reply.status(404).send(body);
  });
}
