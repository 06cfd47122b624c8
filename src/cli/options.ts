/**
 * Parsing of the option values the commands share, with errors that name the option.
 */
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { VigilError } from '../core/errors.js';

export function parseInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new VigilError('E_CONFIG', `${name}: "${value}" is not an integer`, { field: name, value });
    return n;
  };
}

export function parseNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new VigilError('E_CONFIG', `${name}: "${value}" is not a finite number`, { field: name, value });
    return n;
  };
}

/** `--size 64` or `--size 64x96` (height x width). */
export function parseSize(value: string): { height: number; width: number } {
  const m = /^(\d+)(?:x(\d+))?$/i.exec(value.trim());
  if (!m) throw new VigilError('E_CONFIG', `--size: "${value}" is not H or HxW (e.g. 64 or 64x96)`, { field: 'size', value });
  const height = Number(m[1]);
  const width = Number(m[2] ?? m[1]);
  if (height < 4 || width < 4 || height > 1024 || width > 1024) throw new VigilError('E_CONFIG', `--size: ${height}x${width} is outside 4..1024`, { field: 'size', value });
  return { height, width };
}

/** `--set key=value` (repeatable): values parsed as JSON when they are JSON, else kept as strings. */
export function collectSetting(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new VigilError('E_CONFIG', `--set: "${value}" is not key=value`, { field: 'set', value });
  const key = value.slice(0, eq).trim();
  const raw = value.slice(eq + 1).trim();
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a bare string such as loss=ssim
  }
  return { ...previous, [key]: parsed };
}

/** Reads a JSON or YAML config file into a plain object. */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new VigilError('E_NOT_FOUND', `${file}: config file not found`, { path: file });
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw new VigilError('E_CONFIG', `${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'} (${(e as Error).message})`, { path: file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new VigilError('E_CONFIG', `${file}: the config must be an object of key: value`, { path: file });
  return parsed as Record<string, unknown>;
}
