/**
 * Run configs: one JSON or YAML file that describes a whole CLI run, so that `vigil run <file>`
 * repeats it. Validated once against a schema (src/core/config.ts `validateConfig`, so every error
 * names the key), the detector settings under `config` against the detector's own schema, paths
 * resolved against the file's folder, and the result frozen.
 *
 *   command: tune            # train | evaluate | score | tune | report
 *   dataset: ../data/tiles   # train, evaluate, tune, report
 *   detector: conv-ae        # train, tune
 *   out: ../runs/tiles       # train (model folder), tune (tuning folder), report (HTML file)
 *   model: ../runs/model     # evaluate, score, report
 *   input: ../new-images     # score
 *   config: { height: 64, width: 64 }     # detector settings
 *   threshold: { method: false-alarm-rate, rate: 5, per: thousand }
 *   tune: { budget: 20m, eta: 3, selection: auto }
 *   report: { pngDir: plots }
 */
import path from 'node:path';
import { validateConfig } from '../core/config.js';
import { getDetectorFactory } from '../core/detector.js';
import { isVigilError, VigilError } from '../core/errors.js';
import '../models/index.js';
import { readConfigFile } from '../cli/options.js';
import { ALARM_UNITS, type AlarmUnit } from '../thresholds/false-alarm.js';
import { SELECTION_METRICS, SELECTION_MODES, type SelectionMetric, type SelectionMode } from '../tune/criteria.js';
import { validateSpaceOverride, type SpaceOverride } from '../tune/space.js';
import { IMAGE_ANOMALY_KINDS, type ImageAnomalyKind } from '../tune/synthetic.js';
import type { ThresholdChoice } from '../tune/threshold-choice.js';
import type { TuneBudget } from '../tune/tuner.js';

export const RUN_COMMANDS = ['train', 'evaluate', 'score', 'tune', 'report'] as const;
export type RunCommand = (typeof RUN_COMMANDS)[number];

/** Threshold set after training: a label-free method, F1 on a labelled set, or a false-alarm target. */
export interface ThresholdSection {
  method: 'quantile' | 'spot' | 'f1' | 'false-alarm-rate';
  fpr?: number;
  risk?: number;
  rate?: number;
  per?: AlarmUnit;
  intervalSeconds?: number;
  /** f1 with `train`: data set whose labelled test split the threshold is fitted on. */
  validation?: string;
}

export interface TuneSection {
  budget: TuneBudget;
  eta?: number;
  minResource?: number;
  maxResource?: number;
  selection?: SelectionMode | 'auto';
  metric?: SelectionMetric;
  validation?: string;
  anomalies?: string;
  holdout?: number;
  maxHoldout?: number;
  trialSamples?: number;
  synthetic?: ImageAnomalyKind[];
  includeBase?: boolean;
  fresh?: boolean;
  space?: SpaceOverride;
  fixed?: Record<string, unknown>;
}

export interface RunConfig {
  command: RunCommand;
  dataset?: string;
  detector?: string;
  out?: string;
  model?: string;
  input?: string;
  seed?: number;
  config?: Record<string, unknown>;
  threshold?: ThresholdSection;
  tune?: TuneSection;
  report?: { pngDir?: string; worst?: number; title?: string; intervalSeconds?: number };
  evaluate?: { json?: string; maps?: string };
  score?: { maps?: string; boxes?: boolean };
  /** The file it was read from (absent for in-memory configs). */
  file?: string;
}

const pathString = { type: 'string', minLength: 1 } as const;

/** `required` for one command, in the form ajv's strict mode accepts. */
function requires(command: RunCommand, keys: string[]) {
  return {
    if: { type: 'object', properties: { command: { const: command } } },
    then: { type: 'object', properties: Object.fromEntries(keys.map((k) => [k, true])), required: keys },
  };
}

export const runConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['command'],
  properties: {
    command: { enum: RUN_COMMANDS },
    dataset: pathString,
    detector: { type: 'string', minLength: 1 },
    out: pathString,
    model: pathString,
    input: pathString,
    seed: { type: 'integer' },
    config: { type: 'object' },
    threshold: {
      type: 'object',
      additionalProperties: false,
      required: ['method'],
      properties: {
        method: { enum: ['quantile', 'spot', 'f1', 'false-alarm-rate'] },
        fpr: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        risk: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        rate: { type: 'number', exclusiveMinimum: 0 },
        per: { enum: ALARM_UNITS },
        intervalSeconds: { type: 'number', exclusiveMinimum: 0 },
        validation: pathString,
      },
      allOf: [
        {
          if: { type: 'object', properties: { method: { const: 'false-alarm-rate' } } },
          then: { type: 'object', properties: { rate: true, per: true }, required: ['rate', 'per'] },
        },
      ],
    },
    tune: {
      type: 'object',
      additionalProperties: false,
      required: ['budget'],
      properties: {
        budget: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
        eta: { type: 'integer', minimum: 2, maximum: 10 },
        minResource: { type: 'number', exclusiveMinimum: 0 },
        maxResource: { type: 'number', exclusiveMinimum: 0 },
        selection: { enum: ['auto', ...SELECTION_MODES] },
        metric: { enum: SELECTION_METRICS },
        validation: pathString,
        anomalies: pathString,
        holdout: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        maxHoldout: { type: 'integer', minimum: 2 },
        trialSamples: { type: 'integer', minimum: 2 },
        synthetic: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: IMAGE_ANOMALY_KINDS } },
        includeBase: { type: 'boolean' },
        fresh: { type: 'boolean' },
        space: { type: 'object' },
        fixed: { type: 'object' },
      },
    },
    report: {
      type: 'object',
      additionalProperties: false,
      properties: { pngDir: pathString, worst: { type: 'integer', minimum: 0, maximum: 50 }, title: { type: 'string' }, intervalSeconds: { type: 'number', exclusiveMinimum: 0 } },
    },
    evaluate: { type: 'object', additionalProperties: false, properties: { json: pathString, maps: pathString } },
    score: { type: 'object', additionalProperties: false, properties: { maps: pathString, boxes: { type: 'boolean' } } },
  },
  allOf: [
    requires('train', ['dataset', 'out']),
    requires('evaluate', ['model', 'dataset']),
    requires('score', ['model', 'input']),
    requires('tune', ['dataset', 'detector', 'out', 'tune']),
    requires('report', ['model', 'dataset', 'out']),
  ],
} as const;

/**
 * `30` (trials), `"30"`, `"20m"` / `"90s"` / `"1.5h"` (time), or `"30,20m"` (both: whichever runs
 * out first). E_CONFIG naming `field` otherwise.
 */
export function parseBudget(value: string | number, field = 'budget'): TuneBudget {
  const bad = (): never => {
    throw new VigilError('E_CONFIG', `${field}: ${JSON.stringify(value)} is not a budget: give a number of trials (30), a time (20m, 90s, 1.5h) or both (30,20m)`, {
      field,
      value,
    });
  };
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1 ? { trials: value } : bad();
  const out: TuneBudget = {};
  for (const part of value.split(',').map((p) => p.trim())) {
    const m = /^(\d+(?:\.\d+)?)\s*(s|m|min|h)?$/i.exec(part);
    if (!m) return bad();
    const n = Number(m[1]);
    const unit = m[2]?.toLowerCase();
    if (!unit) {
      if (!Number.isInteger(n) || n < 1 || out.trials !== undefined) return bad();
      out.trials = n;
    } else {
      if (!(n > 0) || out.seconds !== undefined) return bad();
      out.seconds = n * (unit === 's' ? 1 : unit === 'h' ? 3600 : 60);
    }
  }
  return out;
}

/** `2/day`, `0.5/hour`, `5/thousand` (also `5/1000`, `5/1k`). E_CONFIG naming `field`. */
export function parseFalseAlarms(value: string, field = '--false-alarms'): { rate: number; per: AlarmUnit } {
  const m = /^\s*(\d+(?:\.\d+)?(?:e-?\d+)?)\s*(?:\/|per\s+)\s*(day|d|hour|h|thousand|1000|1k)\s*$/i.exec(value);
  if (!m || !(Number(m[1]) > 0)) {
    throw new VigilError('E_CONFIG', `${field}: "${value}" is not a false-alarm rate such as 2/day, 1/hour or 5/thousand`, { field, value });
  }
  const u = m[2]!.toLowerCase();
  const per: AlarmUnit = u === 'day' || u === 'd' ? 'day' : u === 'hour' || u === 'h' ? 'hour' : 'thousand';
  return { rate: Number(m[1]), per };
}

/** The threshold section as a tuning choice. */
export function thresholdChoiceOf(t: ThresholdSection): ThresholdChoice {
  switch (t.method) {
    case 'quantile':
      return { method: 'quantile', fpr: t.fpr ?? 0.01 };
    case 'spot':
      return { method: 'spot', risk: t.risk ?? 1e-3 };
    case 'f1':
      return { method: 'f1' };
    case 'false-alarm-rate':
      return t.intervalSeconds !== undefined ? { method: 'false-alarm-rate', rate: t.rate!, per: t.per!, intervalSeconds: t.intervalSeconds } : { method: 'false-alarm-rate', rate: t.rate!, per: t.per! };
  }
}

function prefixed(e: unknown, where: string): never {
  if (isVigilError(e)) throw new VigilError(e.code, `${where}: ${e.message}`, e.details, { cause: e });
  throw e;
}

/**
 * Validates a run config object. `where` names it in errors (the file name); relative paths are
 * resolved against `baseDir` (the file's folder). Returns a frozen copy.
 */
export function validateRunConfig(raw: unknown, where = 'run config', baseDir = process.cwd()): Readonly<RunConfig> {
  let cfg: RunConfig;
  try {
    cfg = structuredClone(validateConfig<RunConfig>(runConfigSchema, raw, where)) as RunConfig;
  } catch (e) {
    if (isVigilError(e) && e.details.field === '/command') throw new VigilError('E_CONFIG', `${e.message}; expected one of ${RUN_COMMANDS.join(', ')}`, e.details);
    throw e;
  }
  const budgetRaw = (raw as { tune?: { budget?: string | number } }).tune?.budget;
  if (cfg.tune) cfg.tune = { ...cfg.tune, budget: parseBudget(budgetRaw!, `${where}: tune.budget`) };
  if (cfg.tune?.space) {
    try {
      cfg.tune.space = validateSpaceOverride(cfg.tune.space, 'tune.space');
    } catch (e) {
      prefixed(e, where);
    }
  }
  if (cfg.threshold?.intervalSeconds === undefined && cfg.threshold?.method === 'false-alarm-rate' && cfg.threshold.per !== 'thousand') {
    throw new VigilError('E_CONFIG', `${where}: threshold.intervalSeconds: alarms per ${cfg.threshold.per} need the sampling interval in seconds`, { field: 'threshold.intervalSeconds' });
  }
  if (cfg.command === 'train' && cfg.threshold?.method === 'f1' && !cfg.threshold.validation) {
    throw new VigilError('E_CONFIG', `${where}: threshold.validation: an f1 threshold after training needs a labelled data set to fit on`, { field: 'threshold.validation' });
  }
  if (cfg.command === 'tune' && cfg.threshold && cfg.threshold.method === 'f1' && cfg.tune?.selection !== 'labelled' && !cfg.tune?.validation) {
    throw new VigilError('E_CONFIG', `${where}: threshold.method: f1 needs tune.validation (a labelled validation set)`, { field: 'threshold.method' });
  }
  // The detector settings, checked by the detector's own schema (which names the key).
  if (cfg.command === 'train' || cfg.command === 'tune') {
    const kind = cfg.detector ?? 'conv-ae';
    try {
      const factory = getDetectorFactory(kind);
      const settings = { ...(cfg.config ?? {}), ...(cfg.tune?.fixed ?? {}) };
      if (cfg.seed !== undefined) settings.seed = cfg.seed;
      factory.create(settings).dispose();
    } catch (e) {
      prefixed(e, where);
    }
  }
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(baseDir, p));
  for (const key of ['dataset', 'out', 'model', 'input'] as const) if (cfg[key] !== undefined) cfg[key] = resolve(cfg[key]);
  if (cfg.threshold?.validation) cfg.threshold.validation = resolve(cfg.threshold.validation);
  if (cfg.tune?.validation) cfg.tune.validation = resolve(cfg.tune.validation);
  if (cfg.tune?.anomalies) cfg.tune.anomalies = resolve(cfg.tune.anomalies);
  if (cfg.report?.pngDir) cfg.report.pngDir = resolve(cfg.report.pngDir);
  if (cfg.evaluate?.json) cfg.evaluate.json = resolve(cfg.evaluate.json);
  if (cfg.evaluate?.maps) cfg.evaluate.maps = resolve(cfg.evaluate.maps);
  if (cfg.score?.maps) cfg.score.maps = resolve(cfg.score.maps);
  return deepFreeze(cfg);
}

/** Reads and validates a JSON or YAML run config; paths resolve against its folder. */
export async function loadRunConfig(file: string): Promise<Readonly<RunConfig>> {
  const raw = await readConfigFile(file);
  const cfg = validateRunConfig(raw, file, path.dirname(path.resolve(file)));
  return Object.freeze({ ...cfg, file: path.resolve(file) });
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
