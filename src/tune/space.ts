/**
 * Search spaces: which detector settings `vigil tune` explores, per detector kind, declared here and
 * nowhere else. A space names each setting's domain (a list of choices, or an integer / real range,
 * optionally log-scaled) and the trial *resource* successive halving hands out: training epochs for
 * the neural detectors, a fraction of the training samples for the feature-bank detectors (PaDiM,
 * PatchCore), which do not train by epochs.
 *
 * Keys a detector does not have are dropped at run time (the detector's own defaults, read through
 * its factory, are the reference), so a space can list the settings a detector family is expected
 * to have while that detector is still being written; `vigil tune` prints what it dropped.
 * Combinations a detector rejects (depth too large for the image size, a window not divisible by
 * 2^depth...) are redrawn: every sampled configuration is validated by the detector's factory.
 */
import { validateConfig } from '../core/config.js';
import { VigilError } from '../core/errors.js';
import { createRng } from '../data/random.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export type ParamDomain =
  | { type: 'choice'; values: readonly JsonValue[] }
  | { type: 'int'; min: number; max: number; log?: boolean }
  | { type: 'float'; min: number; max: number; log?: boolean };

/** What successive halving gives more of to promoted trials. */
export type ResourceSpec =
  | { kind: 'epochs'; key: string; min: number; max: number }
  | { kind: 'samples'; min: number; max: number };

export interface SearchSpace {
  params: Record<string, ParamDomain>;
  resource: ResourceSpec;
  /** Settings every trial gets (not searched). */
  fixed?: Record<string, JsonValue>;
}

const choice = (...values: JsonValue[]): ParamDomain => ({ type: 'choice', values });
const logFloat = (min: number, max: number): ParamDomain => ({ type: 'float', min, max, log: true });

const imageAutoencoder: Record<string, ParamDomain> = {
  depth: choice(2, 3, 4),
  filters: choice(8, 16, 32),
  latent: choice(16, 32, 64, 128),
  learningRate: logFloat(3e-4, 3e-3),
  loss: choice('mse', 'l1', 'ssim', 'mse+ssim'),
  aggregate: choice('mean', 'max', 'topk'),
  topk: choice(0.005, 0.01, 0.05),
  blurSigma: choice(0, 1, 2, 4),
};

const seriesAutoencoder: Record<string, ParamDomain> = {
  window: choice(32, 64, 128),
  depth: choice(1, 2, 3),
  filters: choice(8, 16, 32),
  kernelSize: choice(3, 5, 7),
  latent: choice(8, 16, 32),
  learningRate: logFloat(3e-4, 3e-3),
};

/** The one table of search spaces, by detector kind. */
export const SEARCH_SPACES: Readonly<Record<string, SearchSpace>> = Object.freeze({
  'conv-ae': { params: imageAutoencoder, resource: { kind: 'epochs', key: 'epochs', min: 2, max: 20 } },
  'conv-vae': {
    params: { ...imageAutoencoder, klWeight: choice(0.1, 0.5, 1), scoreKl: choice(false, true) },
    resource: { kind: 'epochs', key: 'epochs', min: 2, max: 20 },
  },
  'conv1d-ae': { params: seriesAutoencoder, resource: { kind: 'epochs', key: 'epochs', min: 3, max: 30 } },
  'conv1d-vae': { params: { ...seriesAutoencoder, klWeight: choice(0.1, 0.5, 1) }, resource: { kind: 'epochs', key: 'epochs', min: 3, max: 30 } },
  'tabular-ae': {
    params: { hidden: choice([32], [64, 32], [128, 64]), latent: choice(2, 4, 8, 16), learningRate: logFloat(3e-4, 3e-3) },
    resource: { kind: 'epochs', key: 'epochs', min: 5, max: 50 },
  },
  padim: {
    params: {
      taps: choice(['conv_pw_3_relu', 'conv_pw_5_relu', 'conv_pw_11_relu'], ['conv_pw_3_relu', 'conv_pw_5_relu'], ['conv_pw_5_relu', 'conv_pw_11_relu']),
      dims: choice(50, 100, 200),
      blurSigma: choice(0, 2, 4),
    },
    resource: { kind: 'samples', min: 0.25, max: 1 },
  },
  patchcore: {
    params: {
      taps: choice(['conv_pw_5_relu', 'conv_pw_11_relu'], ['conv_pw_5_relu'], ['conv_pw_3_relu', 'conv_pw_5_relu']),
      coresetRatio: choice(0.01, 0.05, 0.1, 0.25),
      neighbourhood: choice(1, 3, 5),
      neighbours: choice(1, 3, 9),
      blurSigma: choice(0, 2, 4),
    },
    resource: { kind: 'samples', min: 0.25, max: 1 },
  },
});

/** Space for a detector without an entry: its learning rate if it has one; epochs or samples as the resource. */
function genericSpace(defaults: Record<string, unknown>): SearchSpace {
  const params: Record<string, ParamDomain> = {};
  if (typeof defaults.learningRate === 'number') params.learningRate = logFloat(3e-4, 3e-3);
  const resource: ResourceSpec =
    typeof defaults.epochs === 'number' ? { kind: 'epochs', key: 'epochs', min: Math.max(1, Math.round(defaults.epochs / 9)), max: defaults.epochs } : { kind: 'samples', min: 0.25, max: 1 };
  return { params, resource };
}

const domainSchema = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { enum: ['choice', 'int', 'float'] },
    values: { type: 'array', minItems: 1 },
    min: { type: 'number' },
    max: { type: 'number' },
    log: { type: 'boolean' },
  },
  additionalProperties: false,
} as const;

/** Schema of a user's space override (`--space file`, run config `tune.space`): any part of a SearchSpace. */
export const spaceOverrideSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    params: { type: 'object', additionalProperties: { anyOf: [domainSchema, { type: 'null' }] } },
    resource: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'min', 'max'],
      properties: {
        kind: { enum: ['epochs', 'samples'] },
        key: { type: 'string', minLength: 1 },
        min: { type: 'number', exclusiveMinimum: 0 },
        max: { type: 'number', exclusiveMinimum: 0 },
      },
    },
    fixed: { type: 'object' },
  },
} as const;

export interface SpaceOverride {
  /** New or replaced domains; `null` removes a setting from the search. */
  params?: Record<string, ParamDomain | null>;
  resource?: ResourceSpec;
  fixed?: Record<string, JsonValue>;
}

function checkDomain(key: string, d: ParamDomain, where: string): void {
  const bad = (msg: string): never => {
    throw new VigilError('E_CONFIG', `${where}.params.${key}: ${msg}`, { field: `params.${key}` });
  };
  if (d.type === 'choice') {
    if (!Array.isArray(d.values) || d.values.length === 0) bad('a choice needs a non-empty "values" list');
    return;
  }
  if (!Number.isFinite(d.min) || !Number.isFinite(d.max) || d.min > d.max) bad(`min ${d.min} and max ${d.max} must be numbers with min <= max`);
  if (d.log && d.min <= 0) bad(`a log-scaled range needs min > 0 (got ${d.min})`);
  if (d.type === 'int' && (!Number.isInteger(d.min) || !Number.isInteger(d.max))) bad('an int range needs integer min and max');
}

/** Validates a space override (errors name the key). */
export function validateSpaceOverride(raw: unknown, where = 'space'): SpaceOverride {
  const o = validateConfig<SpaceOverride>(spaceOverrideSchema, raw, where);
  for (const [k, d] of Object.entries(o.params ?? {})) if (d) checkDomain(k, d, where);
  if (o.resource && o.resource.min > o.resource.max) {
    throw new VigilError('E_CONFIG', `${where}.resource: min ${o.resource.min} is above max ${o.resource.max}`, { field: 'resource' });
  }
  if (o.resource?.kind === 'samples' && o.resource.max > 1) {
    throw new VigilError('E_CONFIG', `${where}.resource.max: a sample fraction is at most 1 (got ${o.resource.max})`, { field: 'resource.max' });
  }
  return o;
}

export interface ResolvedSpace extends SearchSpace {
  /** Space keys the detector does not have (dropped). */
  dropped: string[];
  /** Whether the space came from SEARCH_SPACES or was derived from the detector's defaults. */
  source: 'declared' | 'generic';
}

/**
 * The space to search for `kind`: the declared one (or a generic one), with `override` applied,
 * settings the user fixed (`fixedByUser`) removed from the search, and keys absent from the
 * detector's `defaults` dropped.
 */
export function resolveSpace(kind: string, defaults: Record<string, unknown>, override: SpaceOverride = {}, fixedByUser: readonly string[] = []): ResolvedSpace {
  const declared = SEARCH_SPACES[kind];
  const base = declared ?? genericSpace(defaults);
  const params: Record<string, ParamDomain> = { ...base.params };
  for (const [k, d] of Object.entries(override.params ?? {})) {
    if (d === null) delete params[k];
    else params[k] = d;
  }
  const dropped: string[] = [];
  for (const k of Object.keys(params)) {
    if (!(k in defaults) || fixedByUser.includes(k)) {
      if (!(k in defaults)) dropped.push(k);
      delete params[k];
    }
  }
  let resource = override.resource ?? base.resource;
  if (resource.kind === 'epochs' && !(resource.key in defaults)) resource = { kind: 'samples', min: 0.25, max: 1 };
  const fixed = { ...(base.fixed ?? {}), ...(override.fixed ?? {}) };
  return { params, resource, fixed, dropped, source: declared ? 'declared' : 'generic' };
}

function roundSignificant(x: number, digits = 3): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  return Number(x.toPrecision(digits));
}

/** One value of a domain, from `rng`. Reals are kept to 3 significant digits. */
export function sampleDomain(d: ParamDomain, next: () => number): JsonValue {
  switch (d.type) {
    case 'choice':
      return structuredClone(d.values[Math.min(d.values.length - 1, Math.floor(next() * d.values.length))]!);
    case 'int': {
      if (d.log) return Math.min(d.max, Math.max(d.min, Math.round(Math.exp(Math.log(d.min) + next() * (Math.log(d.max) - Math.log(d.min))))));
      return d.min + Math.min(d.max - d.min, Math.floor(next() * (d.max - d.min + 1)));
    }
    case 'float': {
      const v = d.log ? Math.exp(Math.log(d.min) + next() * (Math.log(d.max) - Math.log(d.min))) : d.min + next() * (d.max - d.min);
      return roundSignificant(v);
    }
  }
}

/** A configuration drawn from `space` (keys in sorted order, so the draw does not depend on declaration order). */
export function sampleConfig(space: Pick<SearchSpace, 'params'>, seed: number | string): Record<string, JsonValue> {
  const rng = createRng(seed);
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(space.params).sort()) out[key] = sampleDomain(space.params[key]!, () => rng.next());
  return out;
}

/** Canonical JSON (sorted keys) for comparing and hashing configurations. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The `count` configurations of a search, deterministic in `seed`: configuration 0 is the base
 * (the user's or the detector's defaults) unless `includeBase` is false, the rest are random draws.
 * `isValid` (the factory's validation) rejects combinations; a rejected or duplicate draw is redrawn
 * up to 50 times, then E_CONFIG.
 */
export function drawConfigurations(
  space: Pick<SearchSpace, 'params'>,
  count: number,
  seed: number,
  isValid: (settings: Record<string, JsonValue>) => boolean,
  includeBase = true,
): Record<string, JsonValue>[] {
  const out: Record<string, JsonValue>[] = [];
  const seen = new Set<string>();
  if (includeBase && count > 0) {
    out.push({});
    seen.add(canonicalJson({}));
  }
  for (let i = out.length; i < count; i++) {
    let found: Record<string, JsonValue> | null = null;
    for (let attempt = 0; attempt < 50 && !found; attempt++) {
      const c = sampleConfig(space, `${seed}:config:${i}:${attempt}`);
      const key = canonicalJson(c);
      if (!seen.has(key) && isValid(c)) {
        found = c;
        seen.add(key);
      }
    }
    if (!found) {
      // A small space may simply be exhausted: stop at what it holds.
      if (out.length > 0 && Object.keys(space.params).length > 0) break;
      throw new VigilError('E_CONFIG', `search space: no valid configuration found after 50 draws for configuration ${i}; widen the space or check the fixed settings`);
    }
    out.push(found);
  }
  return out;
}
