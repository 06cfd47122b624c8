import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { generateTextureDataset } from '../../data/synthetic.js';
import { sensorSeries, writeSeriesCsv } from '../../data/synthetic-series.js';
import { runUntilSignalled } from '../../monitor/lifecycle.js';
import { replaySeries } from '../../monitor/replay.js';
import { createService } from '../../monitor/server.js';
import { parseInteger } from '../options.js';
import { runEvaluate } from './evaluate.js';
import { runTrain } from './train.js';

interface DemoOptions {
  out: string;
  seed: number;
  epochs: number;
  port: number;
  /** false: stop after the replay even on a terminal. */
  serve: boolean;
}

/**
 * The end-to-end demo on generated data, no downloads: textured surfaces with scratches, spots and
 * cracks in the MVTec layout (train a convolutional autoencoder, evaluate, heatmaps), then a sensor
 * series (train a 1D convolutional autoencoder on normal days), then the monitoring service on both
 * models with a replayed faulty day raising alarms on the live dashboard.
 */
export async function runDemo(o: DemoOptions, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<void> {
  const t0 = performance.now();
  const out = path.resolve(o.out);
  const data = path.join(out, 'data');
  const imageModel = path.join(out, 'model-conv-ae');
  const seriesModel = path.join(out, 'model-conv1d-ae');
  const maps = path.join(out, 'heatmaps');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  log(`1/5 generating a textured-surface data set (MVTec layout) in ${data}`);
  await generateTextureDataset(data, { count: 300, size: 64, seed: o.seed });
  log('2/5 training a convolutional autoencoder on the normal images');
  await runTrain(data, { detector: 'conv-ae', out: imageModel, epochs: o.epochs, seed: o.seed, set: { loss: 'mse+ssim', aggregate: 'topk', blurSigma: 2, filters: 16 } }, log);
  log('3/5 evaluating on the test split');
  await runEvaluate(imageModel, data, { json: path.join(out, 'evaluation.json'), maps }, log);

  log('4/5 training a 1D convolutional autoencoder on four normal days of a sensor series (temperature, vibration)');
  const trainCsv = path.join(out, 'sensor-train.csv');
  const liveCsv = path.join(out, 'sensor-live.csv');
  await writeSeriesCsv(trainCsv, sensorSeries({ days: 4, seed: o.seed }));
  const live = sensorSeries({ days: 2, seed: o.seed + 1, start: Date.UTC(2026, 0, 5), fault: { from: 380, to: 440 } });
  await writeSeriesCsv(liveCsv, live, true);
  await runTrain(trainCsv, { detector: 'conv1d-ae', out: seriesModel, epochs: 15, seed: o.seed, set: { window: 32 }, quiet: true }, log);

  log('5/5 starting the monitoring service on both models and replaying two live days with a fault');
  const start = async (port: number) => {
    const service = await createService({
      models: [
        { id: 'surface', dir: imageModel },
        { id: 'sensor', dir: seriesModel },
      ],
      storeFile: path.join(out, 'monitor.db'),
      host: '127.0.0.1',
      port,
      logger: false,
      alarmLog: null,
    });
    try {
      return { service, url: await service.listen() };
    } catch (e) {
      await service.close();
      throw e;
    }
  };
  // When the port is taken, let the system pick a free one.
  const { service, url } = await start(o.port).catch(() => start(0));
  const interactive = o.serve && process.stdout.isTTY === true;
  log(`    dashboard: ${url}/`);
  const report = await replaySeries(live, {
    to: url,
    model: 'sensor',
    stream: 'machine-7',
    // On a terminal, slow enough to watch the chart move; otherwise as fast as the service answers.
    speed: interactive ? 3000 : 0,
    rebase: true,
    onAlarm: (a) => log(`    alarm ${a.severity}: ${a.reason.summary}`),
  });
  log(`    replayed ${report.sent} points, ${report.accepted} accepted`);
  log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s. Results:`);
  log(`  image model   ${imageModel}`);
  log(`  metrics       ${path.join(out, 'evaluation.json')}`);
  log(`  heatmaps      ${maps}`);
  log(`  series model  ${seriesModel}`);
  log(`  score more:   npx vigil score ${path.relative(process.cwd(), imageModel)} ${path.relative(process.cwd(), path.join(data, 'test'))} --maps heatmaps/`);
  if (interactive) {
    log(`  dashboard     ${url}/  (Ctrl-C to stop)`);
    await runUntilSignalled(service, service.app.log).done;
  } else {
    await service.close();
    log(`  dashboard     the service has stopped (not a terminal); start it with: npx vigil serve --model surface=${path.relative(process.cwd(), imageModel)} --model sensor=${path.relative(process.cwd(), seriesModel)}`);
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate data, train image and series models, evaluate, write heatmaps, then serve them with a live dashboard (no downloads needed)')
    .option('--out <dir>', 'output folder', 'demo-output')
    .option('--seed <n>', 'random seed', parseInteger('--seed'), 7)
    .option('--epochs <n>', 'training epochs of the image model', parseInteger('--epochs'), 20)
    .option('--port <n>', 'port of the monitoring service', parseInteger('--port'), 8080)
    .option('--no-serve', 'stop after the replay instead of keeping the dashboard up')
    .action(async (o: DemoOptions) => runDemo(o));
}
