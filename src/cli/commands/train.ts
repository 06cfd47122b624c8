import type { Command } from 'commander';
import { getDetectorFactory, listDetectors } from '../../core/detector.js';
import '../../models/index.js';
import '../../pipeline/image-input.js';
import { inputAdapter } from '../../pipeline/inputs.js';
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
  config?: string;
  set?: Record<string, unknown>;
  quiet?: boolean;
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
  return cfg;
}

export async function runTrain(dataset: string, o: TrainCliOptions, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<void> {
  const factory = getDetectorFactory(o.detector);
  const detector = factory.create(await detectorConfig(o));
  const progress = o.quiet ? undefined : (terminalProgress() ?? lineProgress(log, 0.2));
  try {
    const data = await inputAdapter(factory.inputKind).loadTrain(dataset, detector.summary().input, progress);
    log(`training ${factory.kind} on ${data.normal.length} normal samples${data.anomalies.length ? ` and ${data.anomalies.length} labelled anomalies` : ''} (${data.layout} layout)`);
    const report = await detector.fit(data.normal, { progress, anomalies: data.anomalies });
    await detector.save(o.out);
    const last = report.history.at(-1);
    log(
      `trained ${report.epochs} epoch(s) in ${report.trainSeconds.toFixed(1)} s` +
        (last ? `, loss ${last.loss.toPrecision(4)}${last.valLoss !== null ? `, validation ${last.valLoss.toPrecision(4)}` : ''}` : '') +
        (report.stoppedEarly ? ` (stopped early, best epoch ${report.bestEpoch})` : ''),
    );
    log(`threshold ${detector.postprocess.threshold?.toPrecision(5)} (${detector.postprocess.state.method}); model saved to ${o.out}`);
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
    .option('-c, --config <file>', 'detector settings from a JSON or YAML file')
    .option('--set <key=value>', 'one detector setting (repeatable), e.g. --set latent=32', collectSetting)
    .option('-q, --quiet', 'no progress output')
    .action(async (dataset: string, o: TrainCliOptions) => runTrain(dataset, o));
}
