/**
 * Typed errors with stable codes. Every error that reaches a user names the file, field or value that
 * is wrong; the CLI prints `error[CODE]: message` on one line and exits non-zero.
 */

export const ERROR_CODES = {
  E_NOT_FOUND: 'a file or folder that was named does not exist',
  E_EMPTY: 'a folder or data set holds nothing usable',
  E_DECODE: 'a file could not be decoded (corrupt image, malformed CSV/idx/mat)',
  E_SHAPE: 'data has the wrong shape or size for the model',
  E_VALUE: 'a value is out of range or not a finite number',
  E_CONFIG: 'a configuration key or command-line option is invalid',
  E_MODEL_CORRUPT: 'a saved model is truncated, corrupted or fails its checksum',
  E_MODEL_INCOMPATIBLE: 'a saved model was written by an incompatible version or for another detector',
  E_NOT_FITTED: 'a detector or threshold was used before it was fitted',
  E_BACKBONE: 'a pretrained backbone is missing, incomplete or lacks a requested layer',
  E_IO: 'a file could not be written',
  E_UNSUPPORTED: 'an operation is not supported for this input kind or detector',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class VigilError extends Error {
  readonly code: ErrorCode;
  /** Structured context (file, field, value) for logs and HTTP error bodies. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VigilError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isVigilError(e: unknown): e is VigilError {
  return e instanceof VigilError;
}

/** Short, printable description of any thrown value (no stack). */
export function describeError(e: unknown): string {
  if (e instanceof VigilError) return `error[${e.code}]: ${e.message}`;
  if (e instanceof Error) return `error: ${e.message}`;
  return `error: ${String(e)}`;
}

/** Throws E_VALUE naming `field` unless every element is finite. */
export function assertFinite(values: ArrayLike<number>, field: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new VigilError('E_VALUE', `${field}: element ${i} is ${v}, expected a finite number`, { field, index: i, value: String(v) });
    }
  }
}
