/** Hyper-parameter search: spaces, successive halving, selection criteria, journal, the tuner. */
export { tune, type TuneBudget, type TuneData, type TuneEvents, type TuneOptions, type TuneResult } from './tuner.js';
export {
  canonicalJson,
  drawConfigurations,
  resolveSpace,
  sampleConfig,
  SEARCH_SPACES,
  validateSpaceOverride,
  type JsonValue,
  type ParamDomain,
  type ResolvedSpace,
  type ResourceSpec,
  type SearchSpace,
  type SpaceOverride,
} from './space.js';
export { compareTrials, halvingPlan, maxRungs, planCost, planForBudget, promote, type HalvingPlan, type PlanLimits, type RankedTrial, type Rung } from './schedule.js';
export { JOURNAL_FILE, parseJournal, TrialJournal, trialId, type JournalEntry, type SearchIdentity, type TrialRecord } from './journal.js';
export {
  evaluateTrial,
  pairedWinRate,
  separation,
  SELECTION_METRICS,
  SELECTION_MODES,
  type SelectionMetric,
  type SelectionMode,
  type SelectionSet,
  type TrialEvaluation,
} from './criteria.js';
export { holdOut, injectSeriesAnomaly, rankedScores, syntheticAnomalies, type HeldOut, type Ranked } from './synthetic.js';
export {
  applyThresholdChoice,
  chooseThreshold,
  crossFittedF1,
  describeChoice,
  f1At,
  LABEL_FREE_CANDIDATES,
  labelFreeThreshold,
  thresholdSpecOf,
  type ThresholdChoice,
  type ThresholdDecision,
} from './threshold-choice.js';
