import type { Command } from 'commander';
import { getDetectorFactory, listDetectors } from '../../core/detector.js';
import '../../models/index.js';
import '../../pipeline/adapters.js';
import { inputAdapter } from '../../pipeline/inputs.js';
import { trainValidationSplit } from '../../data/split.js';
import { collectSetting, parseInteger, parseNumber, parseSize, readConfigFile } from '../options.js';
import { lineProgress, terminalProgress } from '../progress.js';

export interface TrainCliOptions {
  detector: string;
  out: string;
  epochs?: number;
  size?: { height: number; width: number };
  channels?: number;
  seed?: number;
  fpr?: number;
  /** Pretrained backbone (folder, model.json or http(s) URL) for padim / patchcore / feature-ae. */
  backbone?: string;
  config?: string;
  set?: Record<string, unknown>;
  /** Extra labelled anomalies (file or folder) for semi-supervised training and the threshold. */
  anomalies?: string;
  /** Fraction of the labelled anomalies kept out of training to set the threshold. */
  anomalyHoldout?: number;
  quiet?: boolean;
}

/**
 * Splits labelled anomalies: a seeded `fraction` (rounded down) is held out for the threshold, the
 * rest trains. A single labelled anomaly always goes to training.
 */
export function splitLabelledAnomalies<T>(items: T[], fraction: number, seed: number): { train: T[]; threshold: T[] } {
  const held = Math.floor(items.length * fraction);
  if (held === 0) return { train: items, threshold: [] };
  const split = trainValidationSplit(items, held / items.length, seed);
  return { train: split.train, threshold: split.validation };
}

/** Detector config from a config file, then --set pairs, then the dedicated flags (last wins). */
export async function detectorConfig(o: TrainCliOptions): Promise<Record<string, unknown>> {
  const fromFile = o.config ? await readConfigFile(o.config) : {};
  const cfg: Record<string, unknown> = { ...fromFile, ...(o.set ?? {}) };
  if (o.epochs !== undefined) cfg.epochs = o.epochs;
  if (o.seed !== undefined) cfg.seed = o.seed;
  if (o.size) Object.assign(cfg, o.size);
  if (o.channels !== undefined) cfg.channels = o.channels;
  if (o.fpr !== undefined) cfg.threshold = { ...((cfg.threshold as object) ?? {}), fpr: o.fpr };
  if (o.backbone !== undefined) cfg.backbone = o.backbone;
  return cfg;
}

export async function runTrain(dataset: string, o: TrainCliOptions, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<void> {
  const factory = getDetectorFactory(o.detector);
  const detector = factory.create(await detectorConfig(o));
  const progress = o.quiet ? undefined : (terminalProgress() ?? lineProgress(log, 0.2));
  try {
    const adapter = inputAdapter(factory.inputKind);
    const data = await adapter.loadTrain(dataset, detector.summary().input, progress);
    const extra = o.anomalies ? await adapter.loadForScoring(o.anomalies, detector.summary().input) : [];
    const labelled = splitLabelledAnomalies([...data.anomalies, ...extra], o.anomalyHoldout ?? 0.3, o.seed ?? 0);
    log(
      `training ${factory.kind} on ${data.normal.length} normal samples (${data.layout} layout)` +
        (labelled.train.length + labelled.threshold.length > 0
          ? `, ${labelled.train.length} labelled anomalies in training, ${labelled.threshold.length} held out for the threshold`
          : ''),
    );
    const report = await detector.fit(data.normal, { progress, anomalies: labelled.train, validationAnomalies: labelled.threshold });
    await detector.save(o.out);
    const last = report.history.at(-1);
    log(
      `trained ${report.epochs} epoch(s) in ${report.trainSeconds.toFixed(1)} s` +
        (last ? `, loss ${last.loss.toPrecision(4)}${last.valLoss !== null ? `, validation ${last.valLoss.toPrecision(4)}` : ''}` : '') +
        (report.stoppedEarly ? ` (stopped early, best epoch ${report.bestEpoch})` : ''),
    );
    const pp = detector.postprocess.state;
    log(`threshold ${pp.threshold?.toPrecision(5)} (${pp.method}${pp.labelsUsed ? `, resting on ${pp.labelsUsed} labelled anomalies` : ''}); model saved to ${o.out}`);
  } finally {
    detector.dispose();
  }
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a detector on the normal data of a data set and save it')
    .argument('<dataset>', 'data set folder (MVTec layout, magnetic-tile layout, or a folder of normal images)')
    .requiredOption('-o, --out <model-dir>', 'where to save the model')
    .option('-d, --detector <kind>', `detector (${listDetectors().map((f) => f.kind).join(', ')})`, 'conv-ae')
    .option('--epochs <n>', 'training epochs', parseInteger('--epochs'))
    .option('--size <HxW>', 'input size the images are resized to', parseSize)
    .option('--channels <n>', '1 (grey) or 3 (RGB)', parseInteger('--channels'))
    .option('--seed <n>', 'random seed (same seed, same model)', parseInteger('--seed'))
    .option('--fpr <rate>', 'target false-positive rate of the label-free threshold', parseNumber('--fpr'))
    .option('--backbone <dir-or-url>', 'pretrained CNN (TF.js layers model folder or URL) for padim / patchcore / feature-ae; default: the shared MobileNet v1')
    .option('-c, --config <file>', 'detector settings from a JSON or YAML file')
    .option('--set <key=value>', 'one detector setting (repeatable), e.g. --set latent=32', collectSetting)
    .option('--anomalies <path>', 'labelled anomalies (image or folder) for semi-supervised training and the threshold')
    .option('--anomaly-holdout <fraction>', 'fraction of labelled anomalies kept for the threshold (default 0.3)', parseNumber('--anomaly-holdout'))
    .option('-q, --quiet', 'no progress output')
    .action(async (dataset: string, o: TrainCliOptions) => runTrain(dataset, o));
}
