/**
 * Configuration validation: one JSON schema per detector (and per CLI config file), defaults applied
 * in one place, unknown keys rejected, the result frozen. Errors name the key and the bad value.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { VigilError } from './errors.js';

const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: true, coerceTypes: false });
const compiled = new WeakMap<object, ValidateFunction>();

function describe(err: ErrorObject, data: unknown, where: string): string {
  const key = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : '';
  if (err.keyword === 'additionalProperties') {
    const extra = (err.params as { additionalProperty: string }).additionalProperty;
    return `${where}${key ? `.${key}` : ''}: unknown key "${extra}"`;
  }
  let value: unknown = data;
  for (const part of err.instancePath.split('/').slice(1)) value = (value as Record<string, unknown>)?.[part];
  return `${where}${key ? `.${key}` : ''}: ${err.message ?? 'is invalid'} (got ${JSON.stringify(value)})`;
}

/**
 * Validates `raw` against `schema`, filling defaults. Returns a frozen copy; throws E_CONFIG naming the
 * first bad key.
 */
export function validateConfig<T>(schema: object, raw: unknown, where: string): Readonly<T> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const copy = structuredClone(raw ?? {});
  if (!validate(copy)) {
    const err = validate.errors![0]!;
    throw new VigilError('E_CONFIG', describe(err, copy, where), { field: err.instancePath || err.schemaPath });
  }
  return Object.freeze(copy) as Readonly<T>;
}

/** Schema fragment shared by every detector: the label-free threshold choice. */
export const thresholdSchema = {
  type: 'object',
  additionalProperties: false,
  default: { method: 'quantile', fpr: 0.01, risk: 0.001 },
  properties: {
    method: { enum: ['quantile', 'spot'], default: 'quantile' },
    fpr: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.01 },
    risk: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.001 },
  },
} as const;
