import type { Command } from 'commander';
import { getDetectorFactory, loadDetector } from '../../core/detector.js';
import { VigilError } from '../../core/errors.js';
import { loadRunConfig, thresholdChoiceOf, type RunConfig } from '../../config/run-config.js';
import '../../models/index.js';
import '../../pipeline/adapters.js';
import { inputAdapter } from '../../pipeline/inputs.js';
import { rankedScores } from '../../tune/synthetic.js';
import { applyThresholdChoice, describeChoice, thresholdSpecOf } from '../../tune/threshold-choice.js';
import { runEvaluate } from './evaluate.js';
import { runReport } from './report.js';
import { runScore } from './score.js';
import { runTrain } from './train.js';
import { runTune } from './tune.js';

/** Sets a post-training threshold (f1 on a labelled set, or a false-alarm target) on a saved model. */
async function applyThresholdToSaved(cfg: Readonly<RunConfig>, log: (line: string) => void): Promise<void> {
  const t = cfg.threshold!;
  const choice = thresholdChoiceOf(t);
  const detector = await loadDetector(cfg.out!);
  try {
    if (choice.method === 'f1') {
      const validation = await inputAdapter(detector.inputKind).loadTest(t.validation!, detector.summary().input);
      const stepLevel = detector.inputKind === 'series';
      const labels = validation.map((s) => (s as { label?: number }).label ?? 0);
      applyThresholdChoice(detector, choice, rankedScores(validation, await detector.score(validation), labels, stepLevel));
    } else {
      applyThresholdChoice(detector, choice);
    }
    await detector.save(cfg.out!);
    log(`threshold ${detector.postprocess.threshold?.toPrecision(5)} (${describeChoice(choice)}, ${detector.postprocess.state.labelsUsed} labels); model saved to ${cfg.out}`);
  } finally {
    detector.dispose();
  }
}

/** Executes a validated run config. */
export async function executeRunConfig(cfg: Readonly<RunConfig>, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<void> {
  switch (cfg.command) {
    case 'train': {
      const settings: Record<string, unknown> = { ...(cfg.config ?? {}) };
      if (cfg.seed !== undefined) settings.seed = cfg.seed;
      const spec = cfg.threshold ? thresholdSpecOf(thresholdChoiceOf(cfg.threshold)) : null;
      if (spec) settings.threshold = spec;
      await runTrain(cfg.dataset!, { detector: cfg.detector ?? 'conv-ae', out: cfg.out!, set: settings }, log);
      if (cfg.threshold && !spec) await applyThresholdToSaved(cfg, log);
      return;
    }
    case 'evaluate':
      await runEvaluate(cfg.model!, cfg.dataset!, { json: cfg.evaluate?.json, maps: cfg.evaluate?.maps });
      return;
    case 'score':
      await runScore(cfg.model!, cfg.input!, { maps: cfg.score?.maps, boxes: cfg.score?.boxes });
      return;
    case 'tune': {
      const t = cfg.tune!;
      await runTune(
        cfg.dataset!,
        {
          detector: cfg.detector!,
          out: cfg.out!,
          budget: t.budget,
          base: cfg.config ? { ...cfg.config } : undefined,
          set: t.fixed ? { ...t.fixed } : undefined,
          seed: cfg.seed,
          eta: t.eta,
          minResource: t.minResource,
          maxResource: t.maxResource,
          selection: t.selection,
          metric: t.metric,
          validation: t.validation,
          anomalies: t.anomalies,
          holdout: t.holdout,
          maxHoldout: t.maxHoldout,
          trialSamples: t.trialSamples,
          synthetic: t.synthetic ? [...t.synthetic] : undefined,
          includeBase: t.includeBase,
          fresh: t.fresh,
          space: t.space ? structuredClone(t.space) as Record<string, unknown> : undefined,
          threshold: cfg.threshold ? thresholdChoiceOf(cfg.threshold) : undefined,
        },
        log,
      );
      return;
    }
    case 'report':
      await runReport(cfg.model!, cfg.dataset!, { out: cfg.out!, pngDir: cfg.report?.pngDir, worst: cfg.report?.worst, title: cfg.report?.title, interval: cfg.report?.intervalSeconds }, log);
      return;
    default:
      throw new VigilError('E_CONFIG', `command: ${String((cfg as RunConfig).command)} cannot be run`, { field: 'command' });
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the command a JSON or YAML run config describes (train, evaluate, score, tune, report)')
    .argument('<config>', 'run config file (.json, .yaml, .yml); relative paths in it resolve against its folder')
    .option('--check', 'only validate the file and print the resolved config')
    .action(async (file: string, o: { check?: boolean }) => {
      const cfg = await loadRunConfig(file);
      if (o.check) {
        if (cfg.detector) getDetectorFactory(cfg.detector);
        process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
        return;
      }
      await executeRunConfig(cfg);
    });
}
