import path from 'node:path';
import type { Command } from 'commander';
import { getDetectorFactory, listDetectors } from '../../core/detector.js';
import { VigilError } from '../../core/errors.js';
import { parseBudget, parseFalseAlarms } from '../../config/run-config.js';
import '../../models/index.js';
import '../../pipeline/adapters.js';
import { inputAdapter } from '../../pipeline/inputs.js';
import { SELECTION_METRICS, SELECTION_MODES, type SelectionMetric, type SelectionMode } from '../../tune/criteria.js';
import type { TrialRecord } from '../../tune/journal.js';
import { validateSpaceOverride } from '../../tune/space.js';
import { DEFAULT_IMAGE_ANOMALIES, IMAGE_ANOMALY_KINDS, type ImageAnomalyKind } from '../../tune/synthetic.js';
import { describeChoice, type ThresholdChoice } from '../../tune/threshold-choice.js';
import { tune, type TuneBudget, type TuneResult } from '../../tune/tuner.js';
import { collectSetting, parseInteger, parseNumber, parseSize, readConfigFile } from '../options.js';
import { terminalProgress } from '../progress.js';
import { splitLabelledAnomalies } from './train.js';

export interface TuneCliOptions {
  detector: string;
  out: string;
  budget: TuneBudget;
  selection?: SelectionMode | 'auto';
  metric?: SelectionMetric;
  validation?: string;
  anomalies?: string;
  eta?: number;
  minResource?: number;
  maxResource?: number;
  holdout?: number;
  maxHoldout?: number;
  trialSamples?: number;
  synthetic?: ImageAnomalyKind[];
  seed?: number;
  size?: { height: number; width: number };
  channels?: number;
  /** Base settings file (JSON/YAML): configuration 0 and the value of every setting not searched. */
  config?: string;
  /** Base settings as an object (run configs). */
  base?: Record<string, unknown>;
  /** Settings held fixed (--set key=value): left out of the search. */
  set?: Record<string, unknown>;
  space?: string | Record<string, unknown>;
  falseAlarms?: { rate: number; per: 'day' | 'hour' | 'thousand' };
  interval?: number;
  threshold?: ThresholdChoice;
  includeBase?: boolean;
  fresh?: boolean;
  quiet?: boolean;
}

function formatSettings(s: Record<string, unknown>): string {
  const parts = Object.entries(s).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return parts.length ? parts.join(' ') : '(base settings)';
}

function formatTrial(r: TrialRecord): string {
  if (r.status !== 'ok') return `failed: ${r.error}`;
  return `${r.criterion!.toFixed(4)}`;
}

/** Runs `vigil tune`; resolves with the result (interrupted searches set process.exitCode 130). */
export async function runTune(dataset: string, o: TuneCliOptions, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<TuneResult> {
  const factory = getDetectorFactory(o.detector);
  const base: Record<string, unknown> = { ...(o.base ?? {}), ...(o.config ? await readConfigFile(o.config) : {}) };
  if (o.size) Object.assign(base, o.size);
  if (o.channels !== undefined) base.channels = o.channels;
  const fixed = { ...(o.set ?? {}) };
  const probe = factory.create({ ...base, ...fixed });
  const input = probe.summary().input;
  probe.dispose();
  const adapter = inputAdapter(factory.inputKind);
  const bar = o.quiet ? undefined : terminalProgress();
  const data = await adapter.loadTrain(dataset, input, bar);
  const anomalies = o.anomalies ? (await adapter.loadForScoring(o.anomalies, input, bar)).map((s) => ({ ...s, label: 1 as const })) : data.anomalies;
  const validation = o.validation ? await adapter.loadTest(o.validation, input, bar) : undefined;
  // The final refit uses the data set's labelled anomalies exactly as `vigil train` does.
  const labelled = splitLabelledAnomalies(data.anomalies, 0.3, 0);
  let threshold = o.threshold;
  if (o.falseAlarms) {
    if (o.falseAlarms.per !== 'thousand' && o.interval === undefined) {
      throw new VigilError('E_CONFIG', `--false-alarms ${o.falseAlarms.rate}/${o.falseAlarms.per} needs --interval <seconds> (the sampling interval of the stream)`, { field: 'interval' });
    }
    threshold = { method: 'false-alarm-rate', ...o.falseAlarms, ...(o.interval !== undefined ? { intervalSeconds: o.interval } : {}) };
  }
  const space = o.space === undefined ? undefined : validateSpaceOverride(typeof o.space === 'string' ? await readConfigFile(o.space) : o.space, typeof o.space === 'string' ? o.space : 'tune.space');
  log(
    `tuning ${factory.kind} on ${data.normal.length} normal samples (${data.layout} layout)` +
      `${validation ? `, ${validation.length} labelled validation samples` : ''}${anomalies.length ? `, ${anomalies.length} labelled anomalies` : ''}; output in ${o.out}`,
  );
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      log('\ninterrupt: stopping after the current step; finished trials are kept in the journal (Ctrl-C again to quit now)');
      controller.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  const t0 = performance.now();
  try {
    const result = await tune(
      {
        detector: factory.kind,
        out: o.out,
        budget: o.budget,
        dataset: path.resolve(dataset),
        validationDataset: o.validation,
        base,
        fixed,
        seed: o.seed,
        eta: o.eta,
        minResource: o.minResource,
        maxResource: o.maxResource,
        selection: o.selection,
        metric: o.metric,
        holdout: o.holdout,
        maxHoldout: o.maxHoldout,
        trialSamples: o.trialSamples,
        synthetic: o.synthetic,
        space,
        includeBase: o.includeBase,
        threshold,
        fresh: o.fresh,
        signal: controller.signal,
        events: {
          log,
          training: bar,
          planned: (plan, sizing) =>
            log(`plan (${sizing}): ${plan.rungs.map((r) => `${r.configs} x ${r.resource}`).join(' -> ')} = ${plan.trials} trials, eta ${plan.eta}`),
          trialStart: (t) => {
            if (!o.quiet) log(`[${String(t.done + 1).padStart(3)}/${t.total || '?'}] rung ${t.rung} c${t.configIndex} @${t.resource}  ${formatSettings(t.settings)}${t.total ? '' : '  (timing the first trial to size the plan)'}`);
          },
          trialEnd: (r, s) => {
            if (o.quiet) return;
            const b = s.best ? ` (best c${s.best.configIndex}@${s.best.resource} ${s.best.criterion!.toFixed(4)})` : '';
            const eta = s.total > s.done && !s.resumed ? `, ~${(((performance.now() - t0) / 1000 / Math.max(1, s.done)) * (s.total - s.done) / 60).toFixed(1)} min left` : '';
            log(`${s.resumed ? `[${String(s.done).padStart(3)}/${s.total}] resumed c${r.configIndex}@${r.resource}: ` : '        -> '}${formatTrial(r)}${b}  ${r.seconds.toFixed(1)} s${eta}`);
          },
          rungEnd: (rung, promoted) => log(`rung ${rung} done: promoting ${promoted.map((c) => `c${c}`).join(', ') || 'none'}`),
        },
      },
      { normal: data.normal, trainAnomalies: labelled.train, thresholdAnomalies: labelled.threshold, anomalies, validation },
    );
    if (result.interrupted) {
      log(`interrupted after ${result.trials.length} trial(s); run the same command again to resume (journal: ${path.join(o.out, 'trials.jsonl')})`);
      process.exitCode = 130;
      return result;
    }
    const best = result.best!;
    log(
      `searched ${result.trials.length} trial(s) in ${(result.searchSeconds / 60).toFixed(1)} min${result.resumedTrials ? ` (${result.resumedTrials} resumed)` : ''}` +
        `${result.stoppedByBudget ? ', stopped by the time budget' : ''}; refit ${(result.refitSeconds / 60).toFixed(1)} min`,
    );
    log(`best: c${best.configIndex}@${best.resource} ${formatSettings(best.settings)}  ${result.selection} criterion ${best.criterion!.toFixed(4)}`);
    log(`threshold: ${describeChoice(result.threshold!.choice)} (F1 ${result.threshold!.f1.toFixed(3)} on the selection set)`);
    log(`model: ${result.modelDir}`);
    log(`reproduce: vigil train ${dataset} -d ${factory.kind} --config ${path.join(o.out, 'best-config.json')} -o <model-dir>   (or: vigil run ${path.join(o.out, 'best-run.json')})`);
    return result;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function parseKinds(v: string): ImageAnomalyKind[] {
  const kinds = v.split(',').map((k) => k.trim()) as ImageAnomalyKind[];
  const bad = kinds.filter((k) => !IMAGE_ANOMALY_KINDS.includes(k));
  if (bad.length > 0 || kinds.length === 0) throw new VigilError('E_CONFIG', `--synthetic: "${v}" is not a list of ${IMAGE_ANOMALY_KINDS.join(', ')}`, { field: 'synthetic', value: v });
  return kinds;
}

function choice<T extends string>(name: string, allowed: readonly T[]) {
  return (v: string): T => {
    if (!allowed.includes(v as T)) throw new VigilError('E_CONFIG', `${name}: "${v}" is not one of ${allowed.join(', ')}`, { field: name, value: v });
    return v as T;
  };
}

export function registerTune(program: Command): void {
  program
    .command('tune')
    .description('search a detector\'s settings (random search + successive halving), save the best model with its config; resumable')
    .argument('<dataset>', 'training data set (as for vigil train)')
    .requiredOption('-o, --out <dir>', 'tuning folder: trials.jsonl, model/, best-config.json, best-run.json, summary.json')
    .requiredOption('-b, --budget <N|time>', 'number of trials (30), wall time (20m, 90s, 1.5h) or both (30,20m)', (v) => parseBudget(v, '--budget'))
    .option('-d, --detector <kind>', `detector (${listDetectors().map((f) => f.kind).join(', ')})`, 'conv-ae')
    .option('--selection <mode>', `how trials are judged: auto, ${SELECTION_MODES.join(', ')}`, choice('--selection', ['auto', ...SELECTION_MODES] as const), 'auto')
    .option('--metric <name>', `with a labelled validation set: ${SELECTION_METRICS.join(', ')}`, choice('--metric', SELECTION_METRICS))
    .option('--validation <dataset>', 'labelled validation set (its test split) to select on')
    .option('--anomalies <path>', 'a few labelled anomalies (file or folder) to select on')
    .option('--eta <n>', 'successive-halving factor: keep the best 1/eta of each rung', parseInteger('--eta'))
    .option('--min-resource <n>', 'smallest trial resource (epochs; sample fraction for feature-bank detectors)', parseNumber('--min-resource'))
    .option('--max-resource <n>', 'largest trial resource', parseNumber('--max-resource'))
    .option('--holdout <fraction>', 'normal training data held out for selection (default 0.2)', parseNumber('--holdout'))
    .option('--max-holdout <n>', 'at most this many held-out samples (default 250)', parseInteger('--max-holdout'))
    .option('--trial-samples <n>', 'train trials on at most n samples (the refit uses all, for as many steps as the winner took)', parseInteger('--trial-samples'))
    .option('--synthetic <kinds>', `synthetic image anomalies for label-free selection, comma-separated: ${IMAGE_ANOMALY_KINDS.join(', ')} (default ${DEFAULT_IMAGE_ANOMALIES.join(',')})`, parseKinds)
    .option('--seed <n>', 'random seed of the search and of every model', parseInteger('--seed'))
    .option('--size <HxW>', 'input size the images are resized to', parseSize)
    .option('--channels <n>', '1 (grey) or 3 (RGB)', parseInteger('--channels'))
    .option('-c, --config <file>', 'base detector settings (JSON/YAML): the first configuration tried')
    .option('--set <key=value>', 'hold a setting fixed, out of the search (repeatable)', collectSetting)
    .option('--space <file>', 'search-space override (JSON/YAML: {params: {key: {type, values|min,max}}, resource})')
    .option('--false-alarms <rate>', 'threshold for an expected false-alarm rate, e.g. 5/thousand or 2/day', (v) => parseFalseAlarms(v))
    .option('--interval <seconds>', 'sampling interval of a stream (for --false-alarms per day/hour)', parseNumber('--interval'))
    .option('--no-include-base', 'do not try the base settings as configuration 0')
    .option('--fresh', 'discard an existing journal in --out instead of resuming it')
    .option('-q, --quiet', 'no progress output')
    .action(async (dataset: string, o: TuneCliOptions) => {
      await runTune(dataset, o);
    });
}
