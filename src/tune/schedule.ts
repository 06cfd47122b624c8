/**
 * Successive halving (Jamieson & Talwalkar 2016; one bracket of Hyperband, Li et al. 2018): n_0
 * configurations are trained with a small resource r_0; the best 1/eta of each rung are promoted
 * and trained again with eta times the resource, until the last rung trains the survivors with the
 * full resource R:
 *     rung i:  n_i = max(1, floor(n_0 / eta^i)) configurations,  r_i = R / eta^(s - i)   (s = rungs - 1)
 * so every rung costs about the same (n_i r_i ~ n_0 r_0) and the search costs about
 * (s + 1) n_0 r_0 resource units instead of n_0 R for plain random search.
 *
 * Trials are trained from scratch at each rung (no warm start), which keeps every trial
 * reproducible on its own and lets an interrupted search resume trial by trial.
 */
import { VigilError } from '../core/errors.js';

export interface Rung {
  index: number;
  /** Configurations trained in this rung. */
  configs: number;
  /** Resource of each trial (epochs, or a fraction of the training samples). */
  resource: number;
}

export interface HalvingPlan {
  eta: number;
  rungs: Rung[];
  /** Trials over all rungs. */
  trials: number;
}

export interface PlanLimits {
  eta: number;
  minResource: number;
  maxResource: number;
  /** Round resources to integers (epochs). */
  integer: boolean;
  /** At most this many rungs (default: as many as min..max allows). */
  maxRungs?: number;
}

function checkLimits(l: PlanLimits): void {
  if (!Number.isInteger(l.eta) || l.eta < 2) throw new VigilError('E_CONFIG', `eta: ${l.eta} must be an integer of at least 2`, { field: 'eta', value: l.eta });
  if (!(l.minResource > 0) || !(l.maxResource >= l.minResource)) {
    throw new VigilError('E_CONFIG', `resource range ${l.minResource}..${l.maxResource} must be positive with min <= max`, { field: 'resource' });
  }
}

/** How many rungs fit between the minimum and maximum resource: floor(log_eta(max / min)) + 1. */
export function maxRungs(l: PlanLimits): number {
  checkLimits(l);
  const r = Math.floor(Math.log(l.maxResource / l.minResource) / Math.log(l.eta) + 1e-9) + 1;
  return Math.max(1, Math.min(r, l.maxRungs ?? r));
}

/** The plan for `configs` configurations over `rungs` rungs. */
export function halvingPlan(configs: number, rungs: number, l: PlanLimits): HalvingPlan {
  checkLimits(l);
  if (!Number.isInteger(configs) || configs < 1) throw new VigilError('E_CONFIG', `configs: ${configs} must be a positive integer`, { field: 'configs' });
  const out: Rung[] = [];
  for (let i = 0; i < rungs; i++) {
    let resource = l.maxResource / l.eta ** (rungs - 1 - i);
    resource = Math.max(l.minResource, l.integer ? Math.max(1, Math.round(resource)) : Number(resource.toPrecision(4)));
    out.push({ index: i, configs: Math.max(1, Math.floor(configs / l.eta ** i + 1e-9)), resource });
  }
  return { eta: l.eta, rungs: out, trials: out.reduce((s, r) => s + r.configs, 0) };
}

/** Resource units a plan spends (sum of n_i r_i). */
export function planCost(plan: HalvingPlan, costOf: (resource: number) => number = (r) => r): number {
  return plan.rungs.reduce((s, r) => s + r.configs * costOf(r.resource), 0);
}

/**
 * The largest plan whose cost fits `budget`: as many rungs as the resource range allows (each rung
 * needs at least eta^i configurations so that promotion selects), then as many configurations as fit.
 * `costOf(resource)` is the cost of one trial; with the default a trial costs 1 (a budget in trials).
 */
export function planForBudget(budget: number, l: PlanLimits, costOf: (resource: number) => number = () => 1): HalvingPlan {
  if (!(budget > 0)) throw new VigilError('E_CONFIG', `budget: ${budget} must be positive`, { field: 'budget', value: budget });
  for (let rungs = maxRungs(l); rungs >= 1; rungs--) {
    let n = l.eta ** (rungs - 1);
    if (planCost(halvingPlan(n, rungs, l), costOf) > budget) continue;
    // Grow n_0 while the plan still fits (the cost is monotone in n_0).
    while (planCost(halvingPlan(n + 1, rungs, l), costOf) <= budget) n++;
    return halvingPlan(n, rungs, l);
  }
  // Not even one trial at the smallest resource fits: run one anyway, at the minimum resource.
  const one = halvingPlan(1, 1, { ...l, maxResource: l.minResource });
  return one;
}

export interface RankedTrial {
  configIndex: number;
  /** Higher is better. */
  criterion: number;
  /** Second key, higher is better, for equal criteria. */
  tieBreak?: number;
}

/** Orders trials best first: criterion, then tie-break (both descending), then configuration index. */
export function compareTrials(a: RankedTrial, b: RankedTrial): number {
  const ca = Number.isFinite(a.criterion) ? a.criterion : -Infinity;
  const cb = Number.isFinite(b.criterion) ? b.criterion : -Infinity;
  if (ca !== cb) return cb - ca;
  const ta = Number.isFinite(a.tieBreak) ? a.tieBreak! : -Infinity;
  const tb = Number.isFinite(b.tieBreak) ? b.tieBreak! : -Infinity;
  if (ta !== tb) return tb > ta ? 1 : -1;
  return a.configIndex - b.configIndex;
}

/**
 * The configurations promoted from a finished rung: the best `count` in rank order. Failed trials
 * (non-finite criterion: diverged, invalid) are never promoted, so a rung may promote fewer.
 */
export function promote(results: readonly RankedTrial[], count: number): number[] {
  const ranked = [...results].sort(compareTrials);
  return ranked
    .filter((r) => Number.isFinite(r.criterion))
    .slice(0, count)
    .map((r) => r.configIndex);
}
