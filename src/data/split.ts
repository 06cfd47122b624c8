/** Deterministic train / validation splits. */
import { VigilError } from '../core/errors.js';
import { createRng } from './random.js';

export interface Split<T> {
  train: T[];
  validation: T[];
  /** Indices into the input, ascending, so the caller can split parallel arrays the same way. */
  trainIndices: number[];
  validationIndices: number[];
}

/**
 * Holds out `round(n * fraction)` items, chosen by a seeded shuffle, for validation. Both parts keep
 * the input order. When `fraction > 0` and there are at least two items, validation gets at least one
 * item and training keeps at least one. `fraction` must be in [0, 1).
 */
export function trainValidationSplit<T>(items: readonly T[], fraction: number, seed: number | string): Split<T> {
  if (!Number.isFinite(fraction) || fraction < 0 || fraction >= 1) {
    throw new VigilError('E_VALUE', `validation fraction: ${fraction}, expected a number in [0, 1)`, { field: 'validationSplit', value: fraction });
  }
  const n = items.length;
  let nVal = Math.round(n * fraction);
  if (fraction > 0 && n >= 2) nVal = Math.min(Math.max(nVal, 1), n - 1);
  if (n < 2) nVal = 0;
  const order = Array.from({ length: n }, (_, i) => i);
  createRng(seed).shuffle(order);
  const validationIndices = order.slice(0, nVal).sort((a, b) => a - b);
  const inValidation = new Uint8Array(n);
  for (const i of validationIndices) inValidation[i] = 1;
  const trainIndices: number[] = [];
  for (let i = 0; i < n; i++) if (!inValidation[i]) trainIndices.push(i);
  return {
    train: trainIndices.map((i) => items[i]!),
    validation: validationIndices.map((i) => items[i]!),
    trainIndices,
    validationIndices,
  };
}
