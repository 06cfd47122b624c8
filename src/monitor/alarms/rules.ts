/**
 * Alarm rules: when a stream of scores becomes an alarm, and how severe it is.
 *
 * A rule compares each point's raw or normalized score with a threshold (the model's own, or a fixed
 * value). It fires when at least `k` of the last `n` points are at or above the threshold (the
 * condition), the condition has held for `minDurationMs` of event time (measured from the first hit
 * of the window in which it became true), and the last alarm of that rule on that stream is at least
 * `cooldownMs` (event time) old. It fires once per episode: the condition has to clear before the
 * same rule can fire again on that stream. Severity is read from the largest normalized score among
 * the hits, by bands (`min` normalized score → level).
 *
 * Pure: no I/O, no clocks; the time is the points' own timestamps, so replays behave as live data.
 */
import { validateConfig } from '../../core/config.js';
import { VigilError } from '../../core/errors.js';
import type { RuleView, Severity } from '../api-types.js';

export interface SeverityBand {
  /** Lowest normalized score (0..1, threshold at 0.5) of this band. */
  min: number;
  level: Severity;
}

export interface AlarmRule {
  name: string;
  /** Model id, or a glob with `*`. */
  model: string;
  /** Stream id, or a glob with `*`. */
  stream: string;
  on: 'score' | 'normalized';
  /** A fixed threshold, or `model`: the model's threshold (0.5 on the normalized scale). */
  threshold: number | 'model';
  k: number;
  n: number;
  minDurationMs: number;
  cooldownMs: number;
  /** Bands, highest `min` first. */
  severity: SeverityBand[];
}

export const DEFAULT_SEVERITY: readonly SeverityBand[] = Object.freeze([
  { min: 0.9, level: 'critical' },
  { min: 0.75, level: 'major' },
  { min: 0, level: 'warning' },
] as SeverityBand[]);

/**
 * Applies to a stream that no configured rule matches: every point whose normalized score reaches
 * 0.5 (for images and rows: raw score ≥ the model's threshold; for series: the online scorer's
 * decision), 60 s cooldown.
 */
export const DEFAULT_RULE: Readonly<AlarmRule> = Object.freeze({
  name: 'default',
  model: '*',
  stream: '*',
  on: 'normalized',
  threshold: 'model',
  k: 1,
  n: 1,
  minDurationMs: 0,
  cooldownMs: 60_000,
  severity: [...DEFAULT_SEVERITY],
});

const ruleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' },
    model: { type: 'string', minLength: 1, maxLength: 128, default: '*' },
    stream: { type: 'string', minLength: 1, maxLength: 128, default: '*' },
    on: { enum: ['score', 'normalized'], default: 'score' },
    threshold: { anyOf: [{ type: 'number' }, { const: 'model' }], default: 'model' },
    k: { type: 'integer', minimum: 1, maximum: 10000, default: 1 },
    n: { type: 'integer', minimum: 1, maximum: 10000, default: 1 },
    minDurationMs: { type: 'number', minimum: 0, default: 0 },
    cooldownMs: { type: 'number', minimum: 0, default: 60000 },
    severity: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['min', 'level'],
        properties: { min: { type: 'number', minimum: 0, maximum: 1 }, level: { enum: ['warning', 'major', 'critical'] } },
      },
    },
  },
} as const;

const rulesFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: { rules: { type: 'array', maxItems: 1000, items: ruleSchema } },
} as const;

/**
 * Validates a rules document (`{rules: [...]}` or a bare array), fills defaults and checks what a
 * schema cannot (k ≤ n, unique names). Throws E_CONFIG naming the rule and key.
 */
export function parseRules(raw: unknown, where = 'rules'): AlarmRule[] {
  const doc = Array.isArray(raw) ? { rules: raw } : raw;
  const parsed = validateConfig<{ rules: (Omit<AlarmRule, 'severity'> & { severity?: SeverityBand[] })[] }>(rulesFileSchema, doc, where);
  const seen = new Set<string>();
  return parsed.rules.map((r, i) => {
    if (r.k > r.n) throw new VigilError('E_CONFIG', `${where}.rules.${i}: k = ${r.k} is larger than n = ${r.n}`, { field: `rules.${i}.k`, value: r.k });
    if (seen.has(r.name)) throw new VigilError('E_CONFIG', `${where}.rules.${i}: the name "${r.name}" is used twice`, { field: `rules.${i}.name`, value: r.name });
    seen.add(r.name);
    const severity = [...(r.severity ?? DEFAULT_SEVERITY)].sort((a, b) => b.min - a.min);
    return { ...r, severity };
  });
}

function globToRegExp(glob: string): RegExp {
  const body = glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`);
}

const globCache = new Map<string, RegExp>();
function globMatch(glob: string, value: string): boolean {
  if (glob === '*') return true;
  if (!glob.includes('*')) return glob === value;
  let re = globCache.get(glob);
  if (!re) {
    re = globToRegExp(glob);
    if (globCache.size < 1000) globCache.set(glob, re);
  }
  return re.test(value);
}

/** Every rule that applies to (model, stream); the default rule when none does. */
export function rulesFor(rules: readonly AlarmRule[], model: string, stream: string): readonly AlarmRule[] {
  const matched = rules.filter((r) => globMatch(r.model, model) && globMatch(r.stream, stream));
  return matched.length > 0 ? matched : [DEFAULT_RULE];
}

/** Severity of a normalized score by bands (highest `min` first); NaN reads as the lowest band. */
export function severityFor(normalized: number, bands: readonly SeverityBand[]): Severity {
  for (const b of bands) if (normalized >= b.min) return b.level;
  return bands[bands.length - 1]?.level ?? 'warning';
}

export function ruleView(r: AlarmRule): RuleView {
  return { ...r, severity: r.severity.map((b) => ({ ...b })) };
}

/** One scored point as the rules see it. */
export interface RulePoint {
  t: number;
  score: number;
  /** In [0, 1], threshold at 0.5; NaN when the model has no fitted normalisation. */
  normalized: number;
}

/** What a rule reports when it fires. */
export interface Firing {
  rule: AlarmRule;
  threshold: number;
  startedAt: number;
  firedAt: number;
  hits: number;
  durationMs: number;
  peakNormalized: number;
  peakScore: number;
  severity: Severity;
}

/** The state of one rule on one stream: the last n points and the current episode. */
export class RuleState {
  private readonly hit: Uint8Array;
  private readonly times: Float64Array;
  private readonly scores: Float64Array;
  private readonly norms: Float64Array;
  private next = 0;
  private filled = 0;
  private hits = 0;
  private episodeStart: number | null = null;
  private firedThisEpisode = false;
  private lastFiredAt: number | null = null;

  constructor(readonly rule: AlarmRule) {
    this.hit = new Uint8Array(rule.n);
    this.times = new Float64Array(rule.n);
    this.scores = new Float64Array(rule.n);
    this.norms = new Float64Array(rule.n);
  }

  /** The threshold this rule compares with, given the model's raw threshold (null: none fitted). */
  effectiveThreshold(modelThreshold: number | null): number | null {
    if (this.rule.threshold !== 'model') return this.rule.threshold;
    return this.rule.on === 'normalized' ? 0.5 : modelThreshold;
  }

  /** Feeds one point (in time order); returns the firing when this point raises an alarm. */
  observe(p: RulePoint, modelThreshold: number | null): Firing | null {
    const thr = this.effectiveThreshold(modelThreshold);
    const { n, k } = this.rule;
    const value = this.rule.on === 'score' ? p.score : p.normalized;
    const isHit = thr !== null && value >= thr ? 1 : 0;
    if (this.filled === n) this.hits -= this.hit[this.next]!;
    else this.filled++;
    this.hit[this.next] = isHit;
    this.times[this.next] = p.t;
    this.scores[this.next] = p.score;
    this.norms[this.next] = p.normalized;
    this.hits += isHit;
    this.next = (this.next + 1) % n;

    if (this.hits < k || thr === null) {
      this.episodeStart = null;
      this.firedThisEpisode = false;
      return null;
    }
    let firstHit = p.t;
    let peakNormalized = -Infinity;
    let peakScore = -Infinity;
    for (let j = 0; j < this.filled; j++) {
      if (!this.hit[j]) continue;
      if (this.times[j]! < firstHit) firstHit = this.times[j]!;
      if (this.norms[j]! > peakNormalized) peakNormalized = this.norms[j]!;
      if (this.scores[j]! > peakScore) peakScore = this.scores[j]!;
    }
    this.episodeStart ??= firstHit;
    if (this.firedThisEpisode) return null;
    const durationMs = p.t - this.episodeStart;
    if (durationMs < this.rule.minDurationMs) return null;
    if (this.lastFiredAt !== null && p.t - this.lastFiredAt < this.rule.cooldownMs) return null;
    this.firedThisEpisode = true;
    this.lastFiredAt = p.t;
    const peakN = Number.isFinite(peakNormalized) ? peakNormalized : Number.NaN;
    return {
      rule: this.rule,
      threshold: thr,
      startedAt: this.episodeStart,
      firedAt: p.t,
      hits: this.hits,
      durationMs,
      peakNormalized: peakN,
      peakScore,
      severity: severityFor(peakN, this.rule.severity),
    };
  }
}

/** Rule states for every (rule, model, stream) seen; the rules can be replaced at run time. */
export class RuleBook {
  private states = new Map<string, RuleState[]>();

  constructor(private rules: readonly AlarmRule[] = []) {}

  get list(): readonly AlarmRule[] {
    return this.rules;
  }

  /** Replaces the rules; every stream's rule state starts afresh. */
  replace(rules: readonly AlarmRule[]): void {
    this.rules = rules;
    this.states.clear();
  }

  observe(model: string, stream: string, p: RulePoint, modelThreshold: number | null): Firing[] {
    const key = `${model}\u0000${stream}`;
    let states = this.states.get(key);
    if (!states) {
      states = rulesFor(this.rules, model, stream).map((r) => new RuleState(r));
      this.states.set(key, states);
    }
    const out: Firing[] = [];
    for (const s of states) {
      const f = s.observe(p, modelThreshold);
      if (f) out.push(f);
    }
    return out;
  }

  /** Forgets a stream's rule state (the stream was evicted or its model reloaded). */
  forget(model: string, stream?: string): void {
    if (stream !== undefined) {
      this.states.delete(`${model}\u0000${stream}`);
      return;
    }
    for (const key of this.states.keys()) if (key.startsWith(`${model}\u0000`)) this.states.delete(key);
  }
}
