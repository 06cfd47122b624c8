/**
 * JSON schemas of the API's requests (Fastify validates them before a handler runs) and the limits
 * they encode.
 */

export const LIMITS = Object.freeze({
  /** Points per request. */
  points: 10_000,
  /** Values per point (channels). */
  channels: 1024,
  /** Images per JSON batch. */
  images: 32,
  /** Rows per request. */
  rows: 10_000,
  /** Default body limit (bytes) of every route without its own. */
  bodyDefault: 1024 * 1024,
  /** Time-series points (JSON or NDJSON). */
  bodyPoints: 8 * 1024 * 1024,
  /** One raw PNG/JPEG image. */
  bodyImage: 10 * 1024 * 1024,
  /** JSON batch of base64 images. */
  bodyImages: 24 * 1024 * 1024,
  /** Table rows. */
  bodyRows: 8 * 1024 * 1024,
});

/** Stream and image ids: 1-128 of letters, digits and `._:-`. */
export const ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';
const MODEL_PATTERN = '^[A-Za-z0-9._-]{1,64}$';

const id = { type: 'string', pattern: ID_PATTERN } as const;
const timestamp = { type: ['number', 'string'], maxLength: 64 } as const;

export const modelParams = {
  type: 'object',
  required: ['model'],
  properties: { model: { type: 'string', pattern: MODEL_PATTERN } },
} as const;

export const pointsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['points'],
  properties: {
    points: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.points,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['stream', 't', 'values'],
        properties: {
          stream: id,
          t: timestamp,
          values: { type: ['number', 'array'], minItems: 1, maxItems: LIMITS.channels, items: { type: 'number' } },
        },
      },
    },
  },
} as const;

export const imagesBody = {
  type: 'object',
  additionalProperties: false,
  required: ['images'],
  properties: {
    images: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.images,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['data'],
        properties: {
          data: { type: 'string', minLength: 1, maxLength: LIMITS.bodyImages },
          id,
          stream: id,
          t: timestamp,
        },
      },
    },
  },
} as const;

export const imageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { id, stream: id, t: timestamp },
} as const;

export const rowsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['rows'],
  properties: {
    rows: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.rows,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['values'],
        properties: {
          values: { type: ['array', 'object'], minItems: 1, maxItems: 100_000, items: { type: 'number' }, maxProperties: 100_000, additionalProperties: { type: 'number' } },
          id,
          stream: id,
          t: timestamp,
        },
      },
    },
  },
} as const;

export const alarmParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

export const ackBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    by: { type: 'string', maxLength: 100 },
    note: { type: 'string', maxLength: 1000 },
  },
} as const;

export const alarmsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    before: { type: 'integer', minimum: 1 },
    model: { type: 'string', pattern: MODEL_PATTERN },
    stream: id,
    unacked: { type: 'boolean' },
  },
} as const;

export const historyParams = {
  type: 'object',
  required: ['model', 'stream'],
  properties: { model: { type: 'string', pattern: MODEL_PATTERN }, stream: id },
} as const;

export const historyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'number' },
    to: { type: 'number' },
    limit: { type: 'integer', minimum: 1, maximum: 20_000, default: 2000 },
  },
} as const;

export const heatmapParams = {
  type: 'object',
  required: ['file'],
  properties: { file: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}\\.png$' } },
} as const;

export const limitQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
} as const;

const nullableNumber = { type: ['number', 'null'] } as const;

const reasonView = {
  type: 'object',
  properties: {
    summary: { type: 'string' },
    top: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, contribution: { type: 'number' } } } },
    boxes: {
      type: 'array',
      items: { type: 'object', properties: { x0: { type: 'number' }, y0: { type: 'number' }, x1: { type: 'number' }, y1: { type: 'number' }, peak: { type: 'number' }, area: { type: 'number' } } },
    },
  },
} as const;

/**
 * Response of the points route, compiled into a fast serializer (the hot path). Alarms are passed
 * through as they are (their shape is checked by the type system, not here).
 */
export const pointsResponse = {
  200: {
    type: 'object',
    properties: {
      model: { type: 'string' },
      accepted: { type: 'integer' },
      skipped: { type: 'integer' },
      results: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            stream: { type: 'string' },
            t: { type: 'number' },
            score: nullableNumber,
            normalized: nullableNumber,
            threshold: nullableNumber,
            anomalous: { type: ['boolean', 'null'] },
            reason: reasonView,
          },
        },
      },
      alarms: { type: 'array', items: { type: 'object', additionalProperties: true } },
    },
  },
} as const;
