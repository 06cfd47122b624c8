import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { generateTextureDataset } from '../../data/synthetic.js';
import { runEvaluate } from './evaluate.js';
import { runTrain } from './train.js';

interface DemoOptions {
  out: string;
  seed: number;
  epochs: number;
}

/**
 * The end-to-end demo on generated data: textured surfaces with scratches, spots and cracks in the
 * MVTec layout; train a convolutional autoencoder on the good ones, evaluate, write heatmaps.
 */
export async function runDemo(o: DemoOptions, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<void> {
  const t0 = performance.now();
  const out = path.resolve(o.out);
  const data = path.join(out, 'data');
  const model = path.join(out, 'model-conv-ae');
  const maps = path.join(out, 'heatmaps');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  log(`1/3 generating a textured-surface data set (MVTec layout) in ${data}`);
  await generateTextureDataset(data, { count: 300, size: 64, seed: o.seed });
  log('2/3 training a convolutional autoencoder on the normal images');
  await runTrain(data, { detector: 'conv-ae', out: model, epochs: o.epochs, seed: o.seed, set: { loss: 'mse+ssim', aggregate: 'topk', blurSigma: 2, filters: 16 } }, log);
  log('3/3 evaluating on the test split');
  await runEvaluate(model, data, { json: path.join(out, 'evaluation.json'), maps }, log);
  log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s. Results:`);
  log(`  model        ${model}`);
  log(`  metrics      ${path.join(out, 'evaluation.json')}`);
  log(`  heatmaps     ${maps}`);
  log(`  score more:  npx vigil score ${path.relative(process.cwd(), model)} ${path.relative(process.cwd(), path.join(data, 'test'))}/<defect> --maps heatmaps/`);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate a small data set, train, evaluate and write heatmaps (no downloads needed)')
    .option('--out <dir>', 'output folder', 'demo-output')
    .option('--seed <n>', 'random seed', (v) => Number(v), 7)
    .option('--epochs <n>', 'training epochs', (v) => Number(v), 20)
    .action(async (o: DemoOptions) => runDemo(o));
}
