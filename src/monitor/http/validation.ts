/**
 * Fastify schema compilers: bodies are validated strictly (no type coercion, unknown fields rejected
 * by the schemas' `additionalProperties: false`), query strings and path parameters with coercion
 * (they arrive as text).
 */
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';

export function installValidation(app: FastifyInstance): void {
  const strict = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  const lenient = new Ajv({ coerceTypes: true, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict.compile(schema) : lenient.compile(schema)));
}
