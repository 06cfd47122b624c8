/**
 * `vigil report`: load a model, score a data set's labelled test split, write the HTML page and,
 * optionally, PNG versions of its charts (SVG rasterised by sharp).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { loadDetector } from '../core/detector.js';
import { VigilError } from '../core/errors.js';
import type { ProgressSink } from '../core/types.js';
import '../models/index.js';
import '../pipeline/adapters.js';
import { inputAdapter } from '../pipeline/inputs.js';
import { buildReport, type ReportData } from './build.js';
import { renderReport } from './html.js';

export interface WriteReportOptions {
  /** HTML file to write. */
  out: string;
  /** Also write each chart as `<name>.png` here. */
  pngDir?: string;
  title?: string;
  worst?: number;
  intervalSeconds?: number;
  progress?: ProgressSink;
}

export interface WrittenReport {
  html: string;
  pngs: string[];
  data: ReportData;
}

/** Rasterises SVG charts to PNG files (2x resolution); returns the files written. */
export async function writeChartPngs(charts: Record<string, string>, dir: string): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new VigilError('E_IO', `${dir}: cannot create the PNG folder (${(e as Error).message})`, { path: dir });
  }
  const files: string[] = [];
  for (const [name, svg] of Object.entries(charts)) {
    const file = path.join(dir, `${name}.png`);
    try {
      await sharp(Buffer.from(svg), { density: 144 }).png().toFile(file);
    } catch (e) {
      throw new VigilError('E_IO', `${file}: cannot rasterise the ${name} chart (${(e as Error).message})`, { path: file });
    }
    files.push(file);
  }
  return files;
}

/** Scores `dataset`'s labelled test split with the model in `modelDir` and writes the report. */
export async function writeReport(modelDir: string, dataset: string, o: WriteReportOptions): Promise<WrittenReport> {
  const detector = await loadDetector(modelDir);
  try {
    const samples = await inputAdapter(detector.inputKind).loadTest(dataset, detector.summary().input, o.progress);
    const results = await detector.score(samples);
    const data = await buildReport(detector, samples, results, { modelDir, dataset, title: o.title, worst: o.worst, intervalSeconds: o.intervalSeconds });
    const { html, charts } = renderReport(data);
    try {
      await mkdir(path.dirname(path.resolve(o.out)), { recursive: true });
      await writeFile(o.out, html);
    } catch (e) {
      throw new VigilError('E_IO', `${o.out}: cannot write the report (${(e as Error).message})`, { path: o.out });
    }
    const pngs = o.pngDir ? await writeChartPngs(charts, o.pngDir) : [];
    return { html: o.out, pngs, data };
  } finally {
    detector.dispose();
  }
}
