import type { Command } from 'commander';
import { writeReport, type WrittenReport } from '../../report/report.js';
import { parseInteger, parseNumber } from '../options.js';
import { terminalProgress } from '../progress.js';

export interface ReportCliOptions {
  out: string;
  pngDir?: string;
  title?: string;
  worst?: number;
  interval?: number;
}

export async function runReport(modelDir: string, dataset: string, o: ReportCliOptions, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<WrittenReport> {
  const r = await writeReport(modelDir, dataset, { out: o.out, pngDir: o.pngDir, title: o.title, worst: o.worst, intervalSeconds: o.interval, progress: terminalProgress() });
  const i = r.data.evaluation.image;
  log(`report written to ${r.html}: AUROC ${(100 * i.auroc).toFixed(1)}%, F1 ${(100 * i.f1).toFixed(1)}% at threshold ${r.data.model.threshold.toPrecision(5)} (${r.data.model.method}, ${r.data.model.labelsUsed} labels)`);
  if (r.pngs.length) log(`charts as PNG: ${r.pngs.join(', ')}`);
  return r;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report of a model on a labelled data set: ROC/PR, score histograms, confusion, worst cases, training curves')
    .argument('<model-dir>', 'a model folder written by vigil train or vigil tune')
    .argument('<dataset>', 'data set folder with a labelled test split')
    .requiredOption('-o, --out <file>', 'HTML file to write')
    .option('--png-dir <dir>', 'also write each chart as a PNG in this folder')
    .option('--title <text>', 'page title')
    .option('--worst <n>', 'worst false positives / negatives shown (default 6)', parseInteger('--worst'))
    .option('--interval <seconds>', 'sampling interval of series, for alarms per day (default: from the timestamps)', parseNumber('--interval'))
    .action(async (modelDir: string, dataset: string, o: ReportCliOptions) => {
      await runReport(modelDir, dataset, o);
    });
}
