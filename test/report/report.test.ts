import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { getDetectorFactory, loadDetector } from '../../src/core/detector.js';
import type { Series } from '../../src/core/types.js';
import { loadRunConfig } from '../../src/config/run-config.js';
import { executeRunConfig } from '../../src/cli/commands/run.js';
import { createRng } from '../../src/data/random.js';
import { generateTextureDataset } from '../../src/data/synthetic.js';
import '../../src/models/index.js';
import { buildReport } from '../../src/report/build.js';
import { renderReport } from '../../src/report/html.js';
import { injectSeriesAnomaly } from '../../src/tune/synthetic.js';
import { tempDir } from '../data/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface PageFacts {
  charts: { name: string; width: number; height: number }[];
  paths: Record<string, { points: number; commands: number }[]>;
  histogramGroups: number;
  histogramRects: number;
  cells: Record<string, string>;
  bars: number;
  images: { loaded: number; total: number };
  labelsUsed: string | null;
  falseAlarms: { per: string | null; expected: string | null; text: string };
  external: string[];
}

/** Opens an HTML file in headless Chromium and reads what was drawn. */
async function inspect(file: string): Promise<PageFacts> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  try {
    const page = await browser.newPage();
    const external: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://') || url.startsWith('data:')) return route.continue();
      external.push(url);
      return route.abort();
    });
    await page.goto(`file://${path.resolve(file)}`, { waitUntil: 'load' });
    const facts = await page.evaluate(() => {
      const charts = [...document.querySelectorAll('svg.chart')].map((s) => {
        const r = s.getBoundingClientRect();
        return { name: s.getAttribute('data-chart') ?? '', width: r.width, height: r.height };
      });
      const paths: Record<string, { points: number; commands: number }[]> = {};
      for (const svg of document.querySelectorAll('svg.chart')) {
        const name = svg.getAttribute('data-chart')!;
        for (const p of svg.querySelectorAll('path.series')) {
          const d = p.getAttribute('d') ?? '';
          (paths[name] ??= []).push({ points: Number(p.getAttribute('data-points')), commands: (d.match(/[ML]/g) ?? []).length + (d.match(/H/g) ?? []).length });
        }
      }
      const hist = document.querySelector('svg[data-chart="histogram"]');
      const cells: Record<string, string> = {};
      for (const c of document.querySelectorAll('svg[data-chart="confusion"] rect.cell')) cells[c.getAttribute('data-cell')!] = c.nextElementSibling?.textContent ?? '';
      const imgs = [...document.querySelectorAll('img')] as HTMLImageElement[];
      const fa = document.querySelector('#false-alarms');
      return {
        charts,
        paths,
        histogramGroups: hist?.querySelectorAll('g.series').length ?? 0,
        histogramRects: hist?.querySelectorAll('g.series rect').length ?? 0,
        cells,
        bars: document.querySelectorAll('svg[data-chart="per-class"] rect.bar').length,
        images: { loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length, total: imgs.length },
        labelsUsed: document.querySelector('#labels-used')?.getAttribute('data-labels-used') ?? null,
        falseAlarms: { per: fa?.getAttribute('data-per') ?? null, expected: fa?.getAttribute('data-expected') ?? null, text: fa?.textContent ?? '' },
      };
    });
    return { ...facts, external };
  } finally {
    await browser.close();
  }
}

test('report: a run config trains with a false-alarm target, the report renders in Chromium, PNGs are written', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is absent: install it (apt-get install -y chromium) to check that reports render`);
    return;
  }
  const { dir, cleanup } = await tempDir('report');
  try {
    const data = path.join(dir, 'data');
    await generateTextureDataset(data, { count: 70, size: 16, seed: 8 });
    // Train through a run config: a target of 50 false alarms per 1,000 images.
    const trainCfg = path.join(dir, 'train.yaml');
    await writeFile(
      trainCfg,
      'command: train\ndataset: data\ndetector: conv-ae\nout: model\nconfig: { height: 16, width: 16, depth: 2, filters: 4, latent: 16, epochs: 3, batchSize: 16, validationSplit: 0.3, aggregate: topk, topk: 0.05 }\nthreshold: { method: false-alarm-rate, rate: 50, per: thousand }\n',
    );
    await executeRunConfig(await loadRunConfig(trainCfg), () => undefined);
    const model = await loadDetector(path.join(dir, 'model'));
    assert.equal(model.postprocess.state.method, 'false-alarm-rate');
    assert.equal(model.postprocess.state.params.fpr, 0.05);
    model.dispose();
    const reportCfg = path.join(dir, 'report.yaml');
    await writeFile(reportCfg, 'command: report\nmodel: model\ndataset: data\nout: out/report.html\nreport: { pngDir: out/png, worst: 4 }\n');
    await executeRunConfig(await loadRunConfig(reportCfg), () => undefined);

    const html = await readFile(path.join(dir, 'out/report.html'), 'utf8');
    assert.ok(!/<script|<link|https?:\/\//i.test(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')), 'no scripts, links or external URLs');
    const facts = await inspect(path.join(dir, 'out/report.html'));
    assert.deepEqual(facts.external, []);
    const names = facts.charts.map((c) => c.name);
    for (const n of ['roc', 'pr', 'histogram', 'confusion', 'per-class', 'training']) assert.ok(names.includes(n), `chart ${n} is on the page (${names.join(', ')})`);
    for (const c of facts.charts) assert.ok(c.width > 100 && c.height > 40, `${c.name} renders at ${c.width}x${c.height}`);
    // ROC: one curve with every tie-grouped point (the test split is small), drawn vertex for vertex.
    assert.equal(facts.paths.roc!.length, 1);
    assert.ok(facts.paths.roc![0]!.points > 5);
    assert.equal(facts.paths.roc![0]!.commands, facts.paths.roc![0]!.points);
    assert.equal(facts.paths.pr!.length, 1);
    assert.equal(facts.paths.training!.length, 2, 'training and validation loss');
    assert.equal(facts.paths.training![0]!.points, 3, 'one point per epoch');
    assert.equal(facts.histogramGroups, 2);
    assert.ok(facts.histogramRects > 4);
    assert.deepEqual(Object.keys(facts.cells).sort(), ['FN', 'FP', 'TN', 'TP']);
    const counts = Object.values(facts.cells).map(Number);
    assert.equal(counts.reduce((a, b) => a + b, 0), 21, 'the 21 test images');
    assert.equal(facts.bars, 3, 'one AUROC bar per defect class');
    assert.ok(facts.images.total > 0 && facts.images.loaded === facts.images.total, `images ${facts.images.loaded}/${facts.images.total}`);
    assert.equal(facts.labelsUsed, '0');
    assert.equal(facts.falseAlarms.per, 'thousand');
    assert.equal(Number(facts.falseAlarms.expected), 50);
    assert.match(facts.falseAlarms.text, /50\.0 per 1,000 images/);
    // PNG copies at twice the SVG size.
    for (const n of ['roc', 'pr', 'histogram', 'confusion', 'training']) {
      const meta = await sharp(path.join(dir, 'out/png', `${n}.png`)).metadata();
      assert.ok(meta.format === 'png' && meta.width! >= 600, `${n}.png ${meta.width}x${meta.height}`);
    }
  } finally {
    await cleanup();
  }
});

test('report on series: step-level figures, worst cases as plots with the labelled steps shaded', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is absent: install it (apt-get install -y chromium) to check that reports render`);
    return;
  }
  const rng = createRng(1);
  const T = 800;
  const make = (source: string, phase: number): Series => ({
    source,
    columns: ['value'],
    timestamps: Float64Array.from({ length: T }, (_, k) => Date.UTC(2024, 0, 1) + k * 60_000),
    values: Float32Array.from({ length: T }, (_, k) => Math.sin(k / 8 + phase) + 0.05 * rng.normal()),
    length: T,
    channels: 1,
  });
  const det = getDetectorFactory('conv1d-ae').create({ window: 32, depth: 1, filters: 4, latent: 4, epochs: 2, stride: 4, seed: 1 });
  const { dir, cleanup } = await tempDir('report-series');
  try {
    await det.fit([make('train', 0)]);
    const test1 = injectSeriesAnomaly(make('test-a', 1), createRng(2), 'level-shift');
    const test2 = injectSeriesAnomaly(make('test-b', 2), createRng(3), 'spike');
    const results = await det.score([test1, test2]);
    const data = await buildReport(det, [test1, test2], results, { modelDir: 'model', dataset: 'generated series', worst: 2 });
    assert.equal(data.unit, 'step');
    assert.equal(data.evaluation.image.samples, 2 * T);
    assert.equal(data.falseAlarms.unit, 'day');
    assert.equal(data.falseAlarms.intervalSeconds, 60, 'the interval comes from the timestamps');
    const { html } = renderReport(data);
    const file = path.join(dir, 'series.html');
    await writeFile(file, html);
    const facts = await inspect(file);
    assert.deepEqual(facts.external, []);
    for (const c of facts.charts) assert.ok(c.width > 100 && c.height > 40, `${c.name} renders at ${c.width}x${c.height}`);
    const plots = (facts.paths['case-series'] ?? []).length + (facts.paths['case-scores'] ?? []).length;
    const cases = data.worst.falsePositives.length + data.worst.falseNegatives.length;
    assert.equal(plots, 2 * cases, 'each worst case has a value plot and a score plot');
    assert.match(facts.falseAlarms.text, /per day/);
  } finally {
    det.dispose();
    await cleanup();
  }
});
