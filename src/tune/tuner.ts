/**
 * Hyper-parameter search for any registered detector: random configurations from the detector's
 * search space (space.ts), successive halving over the trial resource (schedule.ts), judged by a
 * selection criterion for the label situation at hand (criteria.ts), with the threshold method
 * chosen per trial (threshold-choice.ts). Trials are journalled (journal.ts) so that a search can be
 * interrupted and resumed; the best configuration is then refitted on all the training data exactly
 * as `vigil train` fits it and saved with its configuration. The base configuration (the detector's
 * settings without search) always competes at the full resource, so a search never returns what its
 * own criterion rates below the base.
 *
 * Output folder:
 *   trials.jsonl      the journal (header, plan, one line per finished trial)
 *   model/            the best model (a vigil model folder: score, evaluate, report take it)
 *   best-config.json  its full detector settings: `vigil train <data> -d <kind> --config best-config.json`
 *   best-run.json     the same as a run config: `vigil run best-run.json`
 *   summary.json      plan, costs, leaderboard and the chosen threshold
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { getDetectorFactory, type Detector, type DetectorFactory } from '../core/detector.js';
import { VigilError, isVigilError } from '../core/errors.js';
import type { FitReport, InputKind, ProgressSink } from '../core/types.js';
import { createRng } from '../data/random.js';
import { evaluateTrial, lastLoss, type SelectionMetric, type SelectionMode, type SelectionSet } from './criteria.js';
import { TrialJournal, trialId, type PlanRecord, type TrialRecord } from './journal.js';
import { compareTrials, halvingPlan, maxRungs, planForBudget, promote, type HalvingPlan, type PlanLimits } from './schedule.js';
import { canonicalJson, drawConfigurations, resolveSpace, type JsonValue, type ResolvedSpace, type SpaceOverride } from './space.js';
import { holdOut, rankedScores, syntheticAnomalies, type ImageAnomalyKind, type SyntheticOptions } from './synthetic.js';
import { applyThresholdChoice, chooseThreshold, describeChoice, thresholdSpecOf, type ThresholdChoice, type ThresholdDecision } from './threshold-choice.js';

/** A number of trials, or a wall-clock time in seconds (or both: whichever runs out first). */
export interface TuneBudget {
  trials?: number;
  seconds?: number;
}

/** The data a search works on, as the input adapters deliver it. */
export interface TuneData<S> {
  /** Every normal training sample (what `vigil train` would train on). */
  normal: S[];
  /**
   * Labelled anomalies the final refit trains on, and those it fits the threshold with, split as
   * `vigil train` splits a data set's train/<defect> images (`splitLabelledAnomalies`), so that the
   * refit is the model `vigil train --config best-config.json` gives. Trials do not use them.
   */
  trainAnomalies?: S[];
  thresholdAnomalies?: S[];
  /** A few labelled anomalies for selection (case b). */
  anomalies?: S[];
  /** A labelled validation set (case c). */
  validation?: S[];
}

export interface TuneEvents {
  log?(line: string): void;
  planned?(plan: HalvingPlan, sizing: string): void;
  trialStart?(t: { id: string; rung: number; done: number; total: number; configIndex: number; resource: number; settings: Record<string, JsonValue> }): void;
  trialEnd?(r: TrialRecord, o: { resumed: boolean; best: TrialRecord | null; done: number; total: number }): void;
  rungEnd?(rung: number, promoted: number[]): void;
  /** The search is over; the winner is being refitted on all the training data. */
  refitStart?(winner: TrialRecord): void;
  /** Progress of each training run (a terminal bar in the CLI). */
  training?: ProgressSink;
}

export interface TuneOptions {
  /** Detector kind. */
  detector: string;
  /** Output folder (journal, model/, best-config.json ...). */
  out: string;
  budget: TuneBudget;
  /** What the data is called in the journal and the run config (the data set path for the CLI). */
  dataset: string;
  /** Path of the labelled validation set, for best-run.json when the threshold is fitted on it (f1). */
  validationDataset?: string;
  /** Starting settings: configuration 0 of the search and the value of every setting not searched. */
  base?: Record<string, unknown>;
  /** Settings held fixed: applied to every trial and left out of the search. */
  fixed?: Record<string, unknown>;
  seed?: number;
  /** Successive-halving factor (default 3). */
  eta?: number;
  /** Resource range (epochs, or sample fraction), default the space's. */
  minResource?: number;
  maxResource?: number;
  /** 'auto' (default): labelled with a validation set, few-labels with anomalies, else label-free. */
  selection?: SelectionMode | 'auto';
  /** Case (c) metric (default auroc). */
  metric?: SelectionMetric;
  /** Fraction of the normal training data held out for selection (default 0.2). */
  holdout?: number;
  /** At most this many held-out samples (default 250). */
  maxHoldout?: number;
  /** Synthetic image anomalies for label-free selection (default DEFAULT_IMAGE_ANOMALIES). */
  synthetic?: readonly ImageAnomalyKind[];
  /**
   * Train trials on at most this many samples (a seeded subset) to make them cheaper; the refit
   * uses all the samples, with its epochs scaled down so that it takes as many optimisation steps
   * as the winning trial did.
   */
  trialSamples?: number;
  space?: SpaceOverride;
  /** Configuration 0 is the base settings (default true): the search starts from the default. */
  includeBase?: boolean;
  /** A threshold method to use instead of choosing one (e.g. a false-alarm target). */
  threshold?: ThresholdChoice;
  /** Discard an existing journal. */
  fresh?: boolean;
  signal?: AbortSignal;
  events?: TuneEvents;
}

export interface TuneResult {
  /** The search stopped on a signal before it finished; run it again to resume. */
  interrupted: boolean;
  /** The time budget ran out before the plan was done. */
  stoppedByBudget: boolean;
  plan: HalvingPlan | null;
  trials: TrialRecord[];
  best: TrialRecord | null;
  /** The full settings of the saved model (null when interrupted). */
  bestConfig: Record<string, unknown> | null;
  threshold: ThresholdDecision | null;
  modelDir: string | null;
  searchSeconds: number;
  refitSeconds: number;
  resumedTrials: number;
  selection: SelectionMode;
  space: ResolvedSpace;
}

const DEFAULT_ETA = 3;

function isCancelled(e: unknown, signal?: AbortSignal): boolean {
  return !!signal?.aborted && (isVigilError(e) || (e as Error)?.name === 'AbortError');
}

/** Evenly spread seeded subset of at most `n` items (all when fewer). */
function subset<S>(items: S[], n: number, seed: string): S[] {
  if (items.length <= n) return items;
  const idx = createRng(seed).shuffle(Array.from({ length: items.length }, (_, i) => i)).slice(0, n).sort((a, b) => a - b);
  return idx.map((i) => items[i]!);
}

function resolveSelection(o: TuneOptions, data: TuneData<unknown>): SelectionMode {
  const mode = o.selection ?? 'auto';
  const haveValidation = (data.validation?.length ?? 0) > 0;
  const haveAnomalies = (data.anomalies?.length ?? 0) > 0;
  if (mode === 'auto') return haveValidation ? 'labelled' : haveAnomalies ? 'few-labels' : 'label-free';
  if (mode === 'labelled' && !haveValidation) throw new VigilError('E_CONFIG', 'selection "labelled" needs a labelled validation set (--validation <dataset>)', { field: 'selection' });
  if (mode === 'few-labels' && !haveAnomalies) throw new VigilError('E_CONFIG', 'selection "few-labels" needs labelled anomalies (--anomalies <path>, or train/<defect> folders in the data set)', { field: 'selection' });
  return mode;
}

/** Length of the held-out series chunks: the largest window the search can draw, at least 64 steps. */
function seriesChunk(space: ResolvedSpace, defaults: Record<string, unknown>): number {
  const w = space.params.window;
  let largest = typeof defaults.window === 'number' ? defaults.window : 64;
  if (w?.type === 'choice') largest = Math.max(largest, ...w.values.filter((v): v is number => typeof v === 'number'));
  else if (w) largest = Math.max(largest, w.max);
  return Math.max(64, largest);
}

function buildSelectionSet<S>(kind: InputKind, mode: SelectionMode, metric: SelectionMetric, heldOut: S[], data: TuneData<S>, seed: number, synthetic: SyntheticOptions): SelectionSet<S> {
  if (mode === 'labelled') {
    const validation = data.validation!;
    const stepLevel = kind === 'series' && validation.every((s) => (s as { labels?: Uint8Array }).labels !== undefined);
    const labels = validation.map((s, i) => {
      const l = (s as { label?: number }).label;
      if (!stepLevel && l !== 0 && l !== 1) throw new VigilError('E_VALUE', `validation sample ${i} (${(s as { source?: string }).source}) has no 0/1 label`);
      return l ?? 0;
    });
    return { mode, metric, normal: [], synthetic: [], labelled: validation, labelledLabels: labels, stepLevel };
  }
  let made: S[] = [];
  try {
    made = syntheticAnomalies(kind, heldOut, seed, synthetic);
  } catch (e) {
    if (mode === 'label-free' || (isVigilError(e) && e.code === 'E_CONFIG')) throw e;
  }
  const anomalies = mode === 'few-labels' ? data.anomalies! : [];
  return { mode, metric, normal: heldOut, synthetic: made, labelled: anomalies, labelledLabels: anomalies.map(() => 1), stepLevel: false };
}

/** Runs (or resumes) a search and saves the best model. */
export async function tune<S>(o: TuneOptions, data: TuneData<S>): Promise<TuneResult> {
  const factory = getDetectorFactory(o.detector) as DetectorFactory<S>;
  const seed = o.seed ?? (typeof o.base?.seed === 'number' ? o.base.seed : 0);
  const eta = o.eta ?? DEFAULT_ETA;
  const base = { ...(o.base ?? {}) };
  const fixed = { ...(o.fixed ?? {}) };
  const log = o.events?.log ?? (() => undefined);
  if (data.normal.length === 0) throw new VigilError('E_EMPTY', 'tune: no normal training samples');

  // The detector's full default settings are the reference for which keys exist.
  const probe = factory.create({ ...base, ...fixed, seed });
  const defaults = probe.summary().config;
  probe.dispose();
  const space = resolveSpace(factory.kind, defaults, o.space, Object.keys(fixed));
  if (space.dropped.length > 0) log(`search space: ${factory.kind} has no setting(s) ${space.dropped.join(', ')}; left out`);
  const res = space.resource;
  const limits: PlanLimits = {
    eta,
    minResource: o.minResource ?? res.min,
    maxResource: o.maxResource ?? res.max,
    integer: res.kind === 'epochs',
  };
  maxRungs(limits); // validates the limits
  const selection = resolveSelection(o, data as TuneData<unknown>);
  const metric = o.metric ?? 'auroc';

  // What trials train on, and what judges them.
  const holdoutFraction = o.holdout ?? 0.2;
  let trainPart = data.normal;
  let heldOut: S[] = [];
  if (selection !== 'labelled') {
    const split = holdOut(factory.inputKind, data.normal, { fraction: holdoutFraction, seed, max: o.maxHoldout ?? 250, chunk: seriesChunk(space, defaults) });
    trainPart = split.train;
    heldOut = split.heldOut;
  }
  if (o.trialSamples !== undefined && factory.inputKind !== 'series') trainPart = subset(trainPart, o.trialSamples, `${seed}:trial-samples`);
  const selectionSet = buildSelectionSet(factory.inputKind, selection, metric, heldOut, data, seed, { imageKinds: o.synthetic });

  const budget = o.budget;
  if (!budget.trials && !budget.seconds) throw new VigilError('E_CONFIG', 'budget: give a number of trials or minutes', { field: 'budget' });
  const identity = {
    detector: factory.kind,
    dataset: o.dataset,
    seed,
    eta,
    selection,
    metric,
    fingerprint: canonicalJson({
      params: space.params,
      resource: space.resource,
      spaceFixed: space.fixed,
      base,
      fixed,
      limits,
      budget,
      holdout: holdoutFraction,
      maxHoldout: o.maxHoldout ?? 250,
      trialSamples: o.trialSamples ?? null,
      synthetic: o.synthetic ?? null,
      includeBase: o.includeBase ?? true,
      threshold: o.threshold ?? null,
    }),
  };
  const journal = await TrialJournal.open(o.out, identity, { fresh: o.fresh });
  const spentBefore = journal.secondsSpent;
  const started = performance.now();
  const elapsed = () => spentBefore + (performance.now() - started) / 1000;

  const fullConfig = (settings: Record<string, JsonValue>, resource: number | null): Record<string, unknown> => {
    const c: Record<string, unknown> = { ...base, ...(space.fixed ?? {}), ...settings, ...fixed, seed };
    if (resource !== null && res.kind === 'epochs') c[res.key] = resource;
    return c;
  };
  const isValid = (settings: Record<string, JsonValue>): boolean => {
    try {
      factory.create(fullConfig(settings, limits.maxResource)).dispose();
      return true;
    } catch (e) {
      if (isVigilError(e) && e.code === 'E_CONFIG') return false;
      throw e;
    }
  };
  let configs: Record<string, JsonValue>[] = [];
  const configsUpTo = (n: number) => {
    if (configs.length < n) configs = drawConfigurations(space, n, seed, isValid, o.includeBase ?? true);
    return configs;
  };

  const trials: TrialRecord[] = [];
  let resumedTrials = 0;
  /** Trials run by this session (not resumed from an earlier one). */
  const ranHere = new Set<string>();
  let best: TrialRecord | null = null;
  let done = 0;
  let plannedTotal = 0;
  const noteBest = (r: TrialRecord) => {
    if (r.status !== 'ok') return;
    // The best is judged within the highest rung reached.
    if (!best || r.rung > best.rung || (r.rung === best.rung && compareTrials(rankOf(r), rankOf(best)) < 0)) best = r;
  };

  /** Runs one trial (or takes it from the journal). Returns null when interrupted. */
  const runTrial = async (rung: number, configIndex: number, resource: number): Promise<TrialRecord | null> => {
    const id = trialId(configIndex, resource);
    const settings = configsUpTo(configIndex + 1)[configIndex]!;
    const previous = journal.get(id);
    if (previous) {
      const r = { ...previous, rung };
      trials.push(r);
      done++;
      noteBest(r);
      if (!ranHere.has(id)) {
        resumedTrials++;
        o.events?.trialEnd?.(r, { resumed: true, best, done, total: plannedTotal });
      }
      return r;
    }
    if (o.signal?.aborted) return null;
    o.events?.trialStart?.({ id, rung, done, total: plannedTotal, configIndex, resource, settings });
    const tStart = performance.now();
    let detector: Detector<S> | null = null;
    let record: TrialRecord;
    try {
      detector = factory.create(fullConfig(settings, resource));
      const trainSet = res.kind === 'samples' ? subset(trainPart, Math.max(2, Math.round(trainPart.length * resource)), `${seed}:samples:${resource}`) : trainPart;
      const report: FitReport = await detector.fit(trainSet, { signal: o.signal, progress: o.events?.training });
      const ev = await evaluateTrial(detector, selectionSet);
      const decision = chooseThreshold({ validationScores: report.validationScores, ranked: ev.ranked, labelled: selection === 'labelled', fixed: o.threshold });
      record = {
        type: 'trial',
        id,
        rung,
        configIndex,
        resource,
        settings,
        status: 'ok',
        criterion: ev.criterion,
        tieBreak: Number.isFinite(ev.tieBreak) ? ev.tieBreak : null,
        metrics: { ...ev.metrics, loss: lastLoss(report) },
        seconds: (performance.now() - tStart) / 1000,
        trainSeconds: report.trainSeconds,
        epochs: report.epochs,
        threshold: decision,
        finishedAt: new Date().toISOString(),
      };
    } catch (e) {
      if (isCancelled(e, o.signal)) return null;
      if (!isVigilError(e)) throw e;
      record = {
        type: 'trial',
        id,
        rung,
        configIndex,
        resource,
        settings,
        status: 'failed',
        criterion: null,
        tieBreak: null,
        metrics: {},
        seconds: (performance.now() - tStart) / 1000,
        trainSeconds: 0,
        epochs: 0,
        error: `${e.code}: ${e.message}`,
        finishedAt: new Date().toISOString(),
      };
    } finally {
      detector?.dispose();
    }
    await journal.add(record);
    ranHere.add(id);
    trials.push(record);
    done++;
    noteBest(record);
    o.events?.trialEnd?.(record, { resumed: false, best, done, total: plannedTotal });
    return record;
  };

  const result = (extra: Partial<TuneResult>): TuneResult => ({
    interrupted: false,
    stoppedByBudget: false,
    plan: journal.plan?.plan ?? null,
    trials,
    best,
    bestConfig: null,
    threshold: null,
    modelDir: null,
    searchSeconds: elapsed(),
    refitSeconds: 0,
    resumedTrials,
    selection,
    space,
    ...extra,
  });

  // The plan: from the journal when resuming, else sized from the budget.
  let planRecord: PlanRecord | null = journal.plan;
  if (!planRecord) {
    if (budget.seconds) {
      // Measure one trial (configuration 0 at the smallest rung's resource), then size the plan.
      const rungs = maxRungs(limits);
      const r0 = halvingPlan(eta ** (rungs - 1), rungs, limits).rungs[0]!.resource;
      plannedTotal = 0; // not known until this trial is timed
      const first = await runTrial(0, 0, r0);
      if (!first) return result({ interrupted: true });
      const perUnit = first.trainSeconds / r0;
      const overhead = Math.max(0, first.seconds - first.trainSeconds);
      const cost = (r: number) => overhead + perUnit * r;
      let plan = planForBudget(budget.seconds, limits, cost);
      if (budget.trials) {
        const byTrials = planForBudget(budget.trials, limits);
        if (byTrials.trials < plan.trials) plan = byTrials;
      }
      planRecord = {
        type: 'plan',
        plan,
        sizing: `${(budget.seconds / 60).toFixed(1)} min budget; first trial ${first.seconds.toFixed(1)} s (${perUnit.toFixed(2)} s per ${res.kind === 'epochs' ? 'epoch' : 'unit of sample fraction'} + ${overhead.toFixed(1)} s scoring)`,
      };
    } else {
      planRecord = { type: 'plan', plan: planForBudget(budget.trials!, limits), sizing: `${budget.trials} trials` };
    }
    await journal.setPlan(planRecord);
  }
  const plan = planRecord.plan;
  plannedTotal = plan.trials;
  o.events?.planned?.(plan, planRecord.sizing);
  // Trials already counted above (the measuring trial) are found again in the journal below.
  trials.length = 0;
  resumedTrials = 0;
  done = 0;
  best = null;

  let stoppedByBudget = false;
  let survivors = Array.from({ length: plan.rungs[0]!.configs }, (_, i) => i);
  configsUpTo(survivors.length);
  survivors = survivors.filter((i) => i < configs.length);
  const costEstimate = (() => {
    const first = journal.records.find((r) => r.status === 'ok');
    if (!first) return null;
    const perUnit = first.trainSeconds / first.resource;
    return (r: number) => Math.max(0, first.seconds - first.trainSeconds) + perUnit * r;
  })();
  for (const rung of plan.rungs) {
    const rungResults: TrialRecord[] = [];
    for (const configIndex of survivors) {
      const id = trialId(configIndex, rung.resource);
      if (!journal.has(id) && budget.seconds) {
        const need = costEstimate ? costEstimate(rung.resource) : 0;
        if (elapsed() + need > budget.seconds * 1.1) {
          stoppedByBudget = true;
          break;
        }
      }
      const r = await runTrial(rung.index, configIndex, rung.resource);
      if (!r) return result({ interrupted: true, stoppedByBudget });
      rungResults.push(r);
    }
    if (stoppedByBudget) break;
    const next = plan.rungs[rung.index + 1];
    if (!next) break;
    survivors = promote(rungResults.map(rankOf), next.configs);
    o.events?.rungEnd?.(rung.index, survivors);
    if (survivors.length === 0) break;
  }
  // The base configuration (0: the detector's settings before any search) also runs at the full
  // resource when halving dropped it early, so the search never returns a configuration that its
  // own criterion rates below the base at the same resource.
  const lastRung = plan.rungs.at(-1)!;
  const baseFailed = journal.records.some((r) => r.configIndex === 0 && r.status !== 'ok');
  if (!stoppedByBudget && plan.rungs.length > 1 && !survivors.includes(0) && !baseFailed && !o.signal?.aborted) {
    const need = costEstimate ? costEstimate(lastRung.resource) : 0;
    if (budget.seconds && elapsed() + need > budget.seconds * 1.1) {
      log(`note: no time left to train the base configuration at ${lastRung.resource}; the winner is compared with the other finalists only`);
    } else {
      plannedTotal++;
      const r = await runTrial(lastRung.index, 0, lastRung.resource);
      if (!r) return result({ interrupted: true, stoppedByBudget });
    }
  }
  const searchSeconds = elapsed();
  const winner = best as TrialRecord | null;
  if (!winner) {
    throw new VigilError('E_VALUE', `tune: every trial failed (${trials[0]?.error ?? 'no trial ran'}); see ${journal.file}`);
  }
  if (o.signal?.aborted) return result({ interrupted: true, stoppedByBudget });

  if (winner.resource < lastRung.resource) {
    log(`note: the budget ran out before rung ${lastRung.index} (${lastRung.resource}); the winner was judged, and is refitted, at ${winner.resource}; a larger --budget lets it train longer`);
  }
  // Refit the winner on all the training data, as `vigil train` would.
  const tRefit = performance.now();
  const decision = winner.threshold!;
  let refitResource: number | null = res.kind === 'epochs' ? winner.resource : null;
  if (refitResource !== null && trainPart.length < data.normal.length && o.trialSamples !== undefined) {
    // Trials saw a subset: keep the number of optimisation steps the winner was judged with.
    refitResource = Math.max(1, Math.round((refitResource * trainPart.length) / data.normal.length));
    log(`trials trained on ${trainPart.length} samples: the refit on ${data.normal.length} runs ${refitResource} epochs, the same number of steps as ${winner.resource} epochs there`);
  }
  const config = fullConfig(winner.settings, refitResource);
  const spec = thresholdSpecOf(decision.choice);
  if (spec) config.threshold = spec;
  log(`refitting ${winner.id} on all ${data.normal.length} normal samples; threshold: ${describeChoice(decision.choice)}`);
  o.events?.refitStart?.(winner);
  const detector = factory.create(config);
  let bestConfig: Record<string, unknown>;
  const modelDir = path.join(o.out, 'model');
  try {
    await detector.fit(data.normal, { anomalies: data.trainAnomalies, validationAnomalies: data.thresholdAnomalies, signal: o.signal, progress: o.events?.training });
    if (decision.choice.method === 'f1') {
      const v = data.validation!;
      const ranked = rankedScores(v, await detector.score(v), selectionSet.labelledLabels, selectionSet.stepLevel);
      applyThresholdChoice(detector, decision.choice, ranked);
    } else if (decision.choice.method === 'false-alarm-rate') {
      applyThresholdChoice(detector, decision.choice);
    }
    bestConfig = detector.summary().config;
    await detector.save(modelDir);
  } catch (e) {
    if (isCancelled(e, o.signal)) return result({ interrupted: true, stoppedByBudget, searchSeconds });
    throw e;
  } finally {
    detector.dispose();
  }
  const refitSeconds = (performance.now() - tRefit) / 1000;
  const final = result({ stoppedByBudget, best: winner, bestConfig, threshold: decision, modelDir, searchSeconds, refitSeconds });
  await writeOutputs(o, final, factory.inputKind, planRecord);
  log(`best ${winner.id}: criterion ${winner.criterion?.toFixed(4)}; model saved to ${modelDir}`);
  return final;
}

function rankOf(r: TrialRecord) {
  return { configIndex: r.configIndex, criterion: r.criterion ?? Number.NaN, tieBreak: r.tieBreak ?? undefined };
}

/** best-config.json, best-run.json and summary.json. */
async function writeOutputs(o: TuneOptions, r: TuneResult, inputKind: InputKind, plan: PlanRecord): Promise<void> {
  await mkdir(o.out, { recursive: true });
  const write = (name: string, value: unknown) => writeFile(path.join(o.out, name), JSON.stringify(value, null, 2) + '\n');
  await write('best-config.json', r.bestConfig);
  const threshold = r.threshold!.choice;
  const run: Record<string, unknown> = {
    command: 'train',
    dataset: path.resolve(o.dataset),
    detector: o.detector,
    out: path.resolve(o.out, 'model'),
    config: r.bestConfig,
  };
  if (threshold.method === 'false-alarm-rate') run.threshold = threshold;
  if (threshold.method === 'f1' && o.validationDataset) run.threshold = { method: 'f1', validation: path.resolve(o.validationDataset) };
  await write('best-run.json', run);
  const ok = r.trials.filter((t) => t.status === 'ok');
  const leaderboard = [...ok].sort((a, b) => b.rung - a.rung || compareTrials(rankOf(a), rankOf(b))).slice(0, 15);
  await write('summary.json', {
    detector: o.detector,
    inputKind,
    dataset: o.dataset,
    selection: r.selection,
    metric: o.metric ?? 'auroc',
    seed: r.bestConfig?.seed ?? o.seed ?? 0,
    plan: plan.plan,
    sizing: plan.sizing,
    trials: r.trials.length,
    failedTrials: r.trials.length - ok.length,
    resumedTrials: r.resumedTrials,
    stoppedByBudget: r.stoppedByBudget,
    searchSeconds: r.searchSeconds,
    refitSeconds: r.refitSeconds,
    droppedSettings: r.space.dropped,
    best: r.best,
    threshold: r.threshold,
    bestConfig: r.bestConfig,
    leaderboard: leaderboard.map((t) => ({ id: t.id, rung: t.rung, resource: t.resource, criterion: t.criterion, metrics: t.metrics, settings: t.settings })),
  });
}
