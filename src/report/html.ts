/**
 * The report page: one self-contained HTML file (inline CSS and SVG, images as data URIs, no
 * scripts, no external requests), rendered from ReportData.
 */
import { formatAlarmRate } from '../thresholds/false-alarm.js';
import type { ReportData, WorstCase } from './build.js';
import { barChart, confusionChart, escapeXml, histogramChart, lineChart } from './svg.js';

export interface RenderedReport {
  html: string;
  /** The page's main charts by name (roc, pr, histogram, confusion, per-class, training), as SVG. */
  charts: Record<string, string>;
}

const pct = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(digits)}%`);
const num = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : String(Number(v.toPrecision(5))));

const CSS = `
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d1f23}
header{background:#1f2a44;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;opacity:.85;font-size:13px}
main{padding:18px 28px;max-width:1400px}
section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px 18px;margin:0 0 16px}
section h2{margin:0 0 10px;font-size:17px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#f0f3f8;border-radius:6px;padding:8px 12px;min-width:130px}
.card b{display:block;font-size:20px}
.card span{font-size:12px;color:#555}
.charts{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 10px;text-align:right}
th:first-child,td:first-child{text-align:left}
.cases{display:flex;flex-wrap:wrap;gap:12px}
.case{border:1px solid #dde1e7;border-radius:6px;padding:8px;font-size:12px;background:#fafbfc;max-width:520px}
.case img{width:128px;height:auto;image-rendering:pixelated;border:1px solid #ccc;margin-right:4px}
.case .src{word-break:break-all;color:#444;max-width:270px}
.case .reason{color:#555;font-style:italic;max-width:480px;margin:2px 0 4px}
pre{background:#f3f4f6;padding:10px;border-radius:6px;font-size:12px;overflow:auto;max-height:320px}
.note{font-size:12px;color:#555}
`;

function cards(items: [string, string][]): string {
  return `<div class="cards">${items.map(([v, l]) => `<div class="card"><b>${escapeXml(v)}</b><span>${escapeXml(l)}</span></div>`).join('')}</div>`;
}

function caseCard(c: WorstCase, d: ReportData, kind: 'fp' | 'fn'): string {
  const head = `<div><b>${kind === 'fp' ? 'false positive' : 'false negative'}</b> · score ${escapeXml(num(c.score))} (threshold ${escapeXml(num(d.model.threshold))})${c.category ? ` · ${escapeXml(c.category)}` : ''}</div><div class="src">${escapeXml(c.source)}</div>`;
  let body = c.reason ? `<div class="reason">${escapeXml(c.reason)}</div>` : '';
  if (c.imageUri) {
    body += `<div><img class="case-image" alt="input" src="${c.imageUri}"/>${c.heatmapUri ? `<img class="case-heatmap" alt="anomaly heatmap" src="${c.heatmapUri}"/>` : ''}</div>`;
  }
  if (c.plot) {
    const p = c.plot;
    const bands: { x0: number; x1: number }[] = [];
    p.labels.forEach((l, k) => {
      if (l && (k === 0 || !p.labels[k - 1])) bands.push({ x0: p.steps[k]!, x1: p.steps[k]! });
      if (l) bands[bands.length - 1]!.x1 = p.steps[k]! + 1;
    });
    body += lineChart({
      name: 'case-series',
      title: 'values',
      xLabel: 'step',
      yLabel: 'value',
      width: 500,
      height: 200,
      series: p.channels.map((ch) => ({ label: ch.name, x: p.steps, y: ch.values })),
      bands,
    });
    body += lineChart({
      name: 'case-scores',
      title: 'step score',
      xLabel: 'step',
      yLabel: 'score',
      width: 500,
      height: 180,
      series: [{ label: 'score', x: p.steps, y: p.scores, color: '#d62728' }],
      hLines: [{ y: d.model.threshold, label: 'threshold' }],
      bands,
    });
  }
  return `<div class="case ${kind}">${head}${body}</div>`;
}

/** Renders the report page and its charts. */
export function renderReport(d: ReportData): RenderedReport {
  const e = d.evaluation;
  const i = e.image;
  const unitPlural = `${d.unit}s`;
  const charts: Record<string, string> = {};
  charts.roc = lineChart({
    name: 'roc',
    title: `ROC curve (AUROC ${pct(i.auroc)})`,
    xLabel: 'false-positive rate',
    yLabel: 'true-positive rate',
    xDomain: [0, 1],
    yDomain: [0, 1],
    diagonal: true,
    series: [{ label: d.model.kind, x: d.roc.fpr, y: d.roc.tpr }],
    legendAt: 'right',
  });
  const base = i.anomalies / i.samples;
  charts.pr = lineChart({
    name: 'pr',
    title: `Precision-recall (AUPRC ${pct(i.auprc)})`,
    xLabel: 'recall',
    yLabel: 'precision',
    xDomain: [0, 1],
    yDomain: [0, 1],
    series: [{ label: d.model.kind, x: d.pr.recall, y: d.pr.precision }],
    hLines: [{ y: base, label: `chance (${pct(base)})`, color: '#999' }],
    legendAt: 'left',
  });
  charts.histogram = histogramChart({
    name: 'histogram',
    title: 'Score distributions',
    xLabel: 'anomaly score',
    groups: [
      { label: 'normal', values: d.scores.normal, color: '#1f77b4' },
      { label: 'anomalous', values: d.scores.anomalous, color: '#d62728' },
    ],
    markers: [{ x: d.model.threshold, label: `threshold ${num(d.model.threshold)}` }],
  });
  charts.confusion = confusionChart(i.confusion, `Confusion matrix at the threshold (${unitPlural})`);
  const cats = Object.entries(e.perCategory).filter(([, c]) => c.auroc !== null);
  if (cats.length > 0) {
    charts['per-class'] = barChart({
      name: 'per-class',
      title: d.unit === 'step' ? 'AUROC per series (its steps vs its labels)' : `AUROC per class (vs the normal ${unitPlural})`,
      bars: cats.map(([name, c]) => ({ label: name, value: c.auroc })),
      domain: [0, 1],
      format: (v) => pct(v),
    });
  }
  if (d.history.length > 0) {
    const epochs = d.history.map((h) => h.epoch);
    const series = [{ label: 'training loss', x: epochs, y: d.history.map((h) => h.loss) }];
    if (d.history.some((h) => h.valLoss !== null)) series.push({ label: 'validation loss', x: epochs, y: d.history.map((h) => h.valLoss ?? Number.NaN) });
    charts.training = lineChart({ name: 'training', title: 'Training curves', xLabel: 'epoch', yLabel: 'loss', series });
  }

  const fa = d.falseAlarms;
  const what = d.unit === 'image' ? 'images' : d.unit === 'row' ? 'rows' : 'steps';
  const faText = (v: number | null) => (v === null ? 'unknown (sampling interval not known)' : formatAlarmRate(v, fa.unit, what));
  const pp = d.model;
  const thresholdLine = `${num(pp.threshold)} by ${pp.method ?? 'unknown method'}${Object.keys(pp.params).length ? ` (${Object.entries(pp.params).map(([k, v]) => `${k} ${num(v)}`).join(', ')})` : ''}`;
  const labelsText = pp.labelsUsed === 0 ? 'none: the threshold is label-free (held-out normal scores only)' : `${pp.labelsUsed} labelled samples`;
  const perCat = Object.entries(e.perCategory)
    .map(([name, c]) => `<tr><td>${escapeXml(name)}</td><td>${c.samples}</td><td>${pct(c.auroc)}</td><td>${num(c.meanScore)}</td><td>${c.detected}</td><td>${pct(c.detected / c.samples)}</td></tr>`)
    .join('');
  const fps = d.worst.falsePositives.map((c) => caseCard(c, d, 'fp')).join('') || `<p class="note">No false positives at this threshold.</p>`;
  const fns = d.worst.falseNegatives.map((c) => caseCard(c, d, 'fn')).join('') || `<p class="note">No false negatives at this threshold.</p>`;

  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(d.title)}</title><style>${CSS}</style></head>
<body>
<header><h1>${escapeXml(d.title)}</h1><p>model ${escapeXml(d.modelDir)} · data ${escapeXml(d.dataset)} · ${d.samples} samples${d.unit === 'step' ? ` (${i.samples} steps)` : ''} · generated ${escapeXml(d.generatedAt)}</p></header>
<main>
<section id="summary"><h2>Summary</h2>
${cards([
  [pct(i.auroc), 'AUROC'],
  [pct(i.auprc), 'AUPRC'],
  [pct(i.f1), 'F1 at the threshold'],
  [pct(i.precision), 'precision'],
  [pct(i.recall), 'recall'],
  [pct(i.bestF1.f1), 'best F1 (any threshold)'],
  ...(e.pixel ? ([[pct(e.pixel.auroc), 'pixel AUROC'], [pct(e.pixel.pro), 'PRO (30% FPR)']] as [string, string][]) : []),
  [`${i.samples - i.anomalies} / ${i.anomalies}`, `normal / anomalous ${unitPlural}`],
])}
<table style="margin-top:12px">
<tr><td>detector</td><td>${escapeXml(pp.kind)}</td></tr>
<tr><td>threshold</td><td>${escapeXml(thresholdLine)}</td></tr>
<tr><td>labels the threshold rests on</td><td id="labels-used" data-labels-used="${pp.labelsUsed}">${escapeXml(labelsText)}</td></tr>
<tr><td>expected false alarms at the threshold</td><td id="false-alarms" data-per="${fa.unit}" data-expected="${fa.nominal ?? fa.expectedFromValidation ?? ''}">${escapeXml(
    fa.nominal !== null ? `${faText(fa.nominal)} by the ${pp.method} method's design` : faText(fa.expectedFromValidation),
  )}${fa.expectedFromValidation !== null ? escapeXml(`; measured on ${fa.validationScores} held-out normal training scores: ${faText(fa.expectedFromValidation)}`) : ''}</td></tr>
<tr><td>false alarms on this data's normal ${unitPlural}</td><td>${escapeXml(faText(fa.observedOnTest))}</td></tr>
${fa.target ? `<tr><td>false-alarm target</td><td>${escapeXml(formatAlarmRate(fa.target.rate, fa.target.per, what))}</td></tr>` : ''}
${fa.intervalSeconds ? `<tr><td>sampling interval</td><td>${num(fa.intervalSeconds)} s</td></tr>` : ''}
<tr><td>training samples</td><td>${pp.trainSamples ?? '–'} (+ ${pp.validationSamples ?? 0} held out)</td></tr>
</table>
</section>
<section id="curves"><h2>Ranking</h2><div class="charts">${charts.roc}${charts.pr}</div></section>
<section id="scores"><h2>Scores and threshold</h2><div class="charts">${charts.histogram}${charts.confusion}</div>
<p class="note">Histograms show each class's share of its own ${unitPlural}; the dashed line is the model's threshold (flag iff score ≥ threshold).</p></section>
<section id="per-class"><h2>${d.unit === 'step' ? 'Per series' : 'Per class'}</h2><div class="charts">${charts['per-class'] ?? ''}
<table><tr><th>${d.unit === 'step' ? 'series' : 'class'}</th><th>${unitPlural}</th><th>AUROC</th><th>mean score</th><th>flagged</th><th>flagged %</th></tr>${perCat}</table></div></section>
<section id="worst"><h2>Worst false positives</h2><div class="cases">${fps}</div>
<h2 style="margin-top:14px">Worst false negatives</h2><div class="cases">${fns}</div></section>
<section id="training"><h2>Training</h2>${charts.training ?? '<p class="note">The model has no training history.</p>'}</section>
<section id="config"><h2>Model configuration</h2><pre>${escapeXml(JSON.stringify({ kind: pp.kind, config: pp.config, input: pp.input }, null, 2))}</pre></section>
</main></body></html>
`;
  return { html, charts };
}
