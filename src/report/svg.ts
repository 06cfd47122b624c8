/**
 * Small, dependency-free SVG charts for reports: line charts (ROC, PR, training curves, series),
 * overlaid histograms with marker lines, a confusion matrix and horizontal bars. Each chart is a
 * standalone `<svg>` string with explicit width/height and a viewBox, so it renders the same inline
 * in HTML and when rasterised to PNG (sharp/librsvg). No scripts, no external fonts or links.
 *
 * Every chart carries `class="chart"` and `data-chart="<name>"`; every data path carries
 * `class="series"` and `data-points="<n>"` (the number of vertices drawn) so tests and readers can
 * check what was drawn.
 */

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];

/** Escapes text for XML/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** About `count` round tick values covering [lo, hi] (1-2-5 steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** Indices of at most `max` points spread over [0, n), always keeping the first and last. */
export function thinIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)));
  return [...new Set(out)];
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  x: (v: number) => number;
  y: (v: number) => number;
}

function frame(width: number, height: number, xDomain: [number, number], yDomain: [number, number], logY = false): Frame {
  const left = 56;
  const right = 14;
  const top = 30;
  const bottom = 42;
  const [x0, x1] = xDomain;
  const [y0, y1] = logY ? [Math.log10(Math.max(yDomain[0], 1e-12)), Math.log10(Math.max(yDomain[1], 1e-12))] : yDomain;
  const sx = (width - left - right) / (x1 - x0 || 1);
  const sy = (height - top - bottom) / (y1 - y0 || 1);
  return {
    width,
    height,
    left,
    right,
    top,
    bottom,
    x: (v) => left + (v - x0) * sx,
    y: (v) => height - bottom - ((logY ? Math.log10(Math.max(v, 1e-12)) : v) - y0) * sy,
  };
}

function open(name: string, width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeXml(name)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">` +
    `<rect class="bg" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>` +
    `<text x="${width / 2}" y="18" text-anchor="middle" font-family="sans-serif" font-size="13" font-weight="bold" fill="#222">${escapeXml(title)}</text>`
  );
}

function axes(f: Frame, xTicks: number[], yTicks: number[], xLabel: string, yLabel: string, yTickText: (v: number) => string = fmt): string {
  const parts: string[] = [];
  const bx = f.height - f.bottom;
  parts.push(`<g class="axes" font-family="sans-serif" font-size="10" fill="#444">`);
  for (const t of yTicks) {
    const y = f.y(t);
    parts.push(`<line x1="${f.left}" x2="${f.width - f.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e6e6e6"/>`);
    parts.push(`<text x="${f.left - 5}" y="${(y + 3).toFixed(1)}" text-anchor="end">${escapeXml(yTickText(t))}</text>`);
  }
  for (const t of xTicks) {
    const x = f.x(t);
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${f.top}" y2="${bx}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${bx + 14}" text-anchor="middle">${escapeXml(fmt(t))}</text>`);
  }
  parts.push(`<rect x="${f.left}" y="${f.top}" width="${f.width - f.left - f.right}" height="${bx - f.top}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${(f.left + f.width - f.right) / 2}" y="${f.height - 8}" text-anchor="middle" font-size="11">${escapeXml(xLabel)}</text>`);
  parts.push(`<text transform="translate(13 ${(f.top + bx) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escapeXml(yLabel)}</text>`);
  parts.push('</g>');
  return parts.join('');
}

function legend(f: Frame, items: { label: string; color: string; dashed?: boolean }[], where: 'right' | 'left' = 'right'): string {
  if (items.length === 0) return '';
  const w = Math.max(...items.map((i) => i.label.length)) * 6 + 30;
  const x = where === 'right' ? f.width - f.right - w - 6 : f.left + 6;
  const y = f.top + 6;
  const rows = items
    .map(
      (it, k) =>
        `<line x1="${x + 6}" x2="${x + 22}" y1="${y + 10 + k * 14}" y2="${y + 10 + k * 14}" stroke="${it.color}" stroke-width="2"${it.dashed ? ' stroke-dasharray="4 3"' : ''}/>` +
        `<text x="${x + 26}" y="${y + 13 + k * 14}">${escapeXml(it.label)}</text>`,
    )
    .join('');
  return `<g class="legend" font-family="sans-serif" font-size="10" fill="#222"><rect x="${x}" y="${y}" width="${w}" height="${items.length * 14 + 6}" fill="#fff" fill-opacity="0.85" stroke="#ccc"/>${rows}</g>`;
}

export interface LineSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
  dashed?: boolean;
  /** Draw as a step function (ROC/PR staircases). */
  step?: boolean;
}

export interface LineChartOptions {
  name: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  width?: number;
  height?: number;
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Dashed y = x line (ROC chance). */
  diagonal?: boolean;
  /** Horizontal / vertical reference lines. */
  hLines?: { y: number; label: string; color?: string }[];
  vLines?: { x: number; label: string; color?: string }[];
  /** Shaded x ranges (labelled anomalies on a series plot). */
  bands?: { x0: number; x1: number; color?: string }[];
  /** At most this many vertices per series (default 400). */
  maxPoints?: number;
  legendAt?: 'right' | 'left';
}

function extent(values: ArrayLike<number>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (Number.isFinite(x)) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/** Line chart; one `<path class="series">` per series. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 460;
  const height = o.height ?? 320;
  const xd = o.xDomain ?? extent(o.series.map((s) => s.x));
  let yd = o.yDomain ?? extent([...o.series.map((s) => s.y), ...(o.hLines ?? []).map((h) => [h.y])]);
  if (!o.yDomain) {
    const pad = (yd[1] - yd[0]) * 0.05;
    yd = [yd[0] - pad, yd[1] + pad];
  }
  const f = frame(width, height, xd, yd);
  const parts = [open(o.name, width, height, o.title)];
  for (const b of o.bands ?? []) {
    const x0 = Math.max(f.left, f.x(b.x0));
    const x1 = Math.min(width - f.right, f.x(b.x1));
    if (x1 > x0) parts.push(`<rect class="band" x="${x0.toFixed(1)}" y="${f.top}" width="${(x1 - x0).toFixed(1)}" height="${height - f.top - f.bottom}" fill="${b.color ?? '#d62728'}" fill-opacity="0.12"/>`);
  }
  parts.push(axes(f, niceTicks(xd[0], xd[1]), niceTicks(yd[0], yd[1]), o.xLabel, o.yLabel));
  parts.push(`<g class="plot">`);
  if (o.diagonal) {
    parts.push(`<line class="diagonal" x1="${f.x(xd[0])}" y1="${f.y(yd[0])}" x2="${f.x(xd[1])}" y2="${f.y(yd[1])}" stroke="#999" stroke-dasharray="4 4"/>`);
  }
  o.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    const n = Math.min(s.x.length, s.y.length);
    const idx = thinIndices(n, o.maxPoints ?? 400).filter((i) => Number.isFinite(s.x[i]!) && Number.isFinite(s.y[i]!));
    let d = '';
    let vertices = 0;
    idx.forEach((i, j) => {
      const px = f.x(s.x[i]!).toFixed(1);
      const py = f.y(s.y[i]!).toFixed(1);
      if (j === 0) d += `M${px} ${py}`;
      else if (s.step) d += `H${px}V${py}`;
      else d += `L${px} ${py}`;
      vertices++;
    });
    parts.push(
      `<path class="series" data-series="${escapeXml(s.label)}" data-points="${vertices}" d="${d}" fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
  });
  for (const h of o.hLines ?? []) {
    const y = f.y(h.y).toFixed(1);
    parts.push(`<line class="marker" x1="${f.left}" x2="${width - f.right}" y1="${y}" y2="${y}" stroke="${h.color ?? '#000'}" stroke-dasharray="6 3"/>`);
    parts.push(`<text x="${f.left + 4}" y="${Number(y) - 3}" font-family="sans-serif" font-size="10" fill="${h.color ?? '#000'}">${escapeXml(h.label)}</text>`);
  }
  for (const v of o.vLines ?? []) {
    const x = f.x(v.x).toFixed(1);
    parts.push(`<line class="marker" x1="${x}" x2="${x}" y1="${f.top}" y2="${height - f.bottom}" stroke="${v.color ?? '#000'}" stroke-dasharray="6 3"/>`);
  }
  parts.push('</g>');
  parts.push(legend(f, o.series.map((s, k) => ({ label: s.label, color: s.color ?? PALETTE[k % PALETTE.length]!, dashed: s.dashed })), o.legendAt));
  parts.push('</svg>');
  return parts.join('');
}

export interface HistogramGroup {
  label: string;
  values: ArrayLike<number>;
  color?: string;
}

export interface HistogramOptions {
  name: string;
  title: string;
  xLabel: string;
  groups: HistogramGroup[];
  bins?: number;
  /** Vertical marker lines (the threshold). */
  markers?: { x: number; label: string; color?: string }[];
  /** Each group's bars as a share of the group (so unequal group sizes compare); default true. */
  density?: boolean;
  width?: number;
  height?: number;
}

/** Overlaid histograms on shared bins; one `<g class="series" data-points="bins">` of `<rect>`s per group. */
export function histogramChart(o: HistogramOptions): string {
  const width = o.width ?? 460;
  const height = o.height ?? 320;
  const bins = o.bins ?? 40;
  const density = o.density ?? true;
  let [lo, hi] = extent(o.groups.map((g) => g.values));
  for (const m of o.markers ?? []) if (Number.isFinite(m.x)) [lo, hi] = [Math.min(lo, m.x), Math.max(hi, m.x)];
  if (hi === lo) hi = lo + 1;
  const w = (hi - lo) / bins;
  const counts = o.groups.map((g) => {
    const c = new Array<number>(bins).fill(0);
    for (let i = 0; i < g.values.length; i++) {
      const v = g.values[i]!;
      if (!Number.isFinite(v)) continue;
      c[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / w)))]!++;
    }
    const total = g.values.length || 1;
    return density ? c.map((x) => x / total) : c;
  });
  const top = Math.max(1e-9, ...counts.flat());
  const f = frame(width, height, [lo, hi], [0, top * 1.08]);
  const parts = [open(o.name, width, height, o.title)];
  parts.push(axes(f, niceTicks(lo, hi), niceTicks(0, top * 1.08, 4), o.xLabel, density ? 'share of samples' : 'samples', (v) => (density ? `${fmt(100 * v)}%` : fmt(v))));
  parts.push('<g class="plot">');
  o.groups.forEach((g, k) => {
    const color = g.color ?? PALETTE[k % PALETTE.length]!;
    const rects = counts[k]!
      .map((c, b) => {
        if (c <= 0) return '';
        const x = f.x(lo + b * w);
        const y = f.y(c);
        return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0.5, f.x(lo + (b + 1) * w) - x - 0.5).toFixed(1)}" height="${(f.y(0) - y).toFixed(1)}"/>`;
      })
      .join('');
    parts.push(`<g class="series" data-series="${escapeXml(g.label)}" data-points="${bins}" data-count="${g.values.length}" fill="${color}" fill-opacity="0.45" stroke="${color}" stroke-width="0.6">${rects}</g>`);
  });
  for (const m of o.markers ?? []) {
    if (!Number.isFinite(m.x)) continue;
    const x = f.x(m.x).toFixed(1);
    parts.push(`<line class="marker" x1="${x}" x2="${x}" y1="${f.top}" y2="${height - f.bottom}" stroke="${m.color ?? '#000'}" stroke-width="1.5" stroke-dasharray="6 3"/>`);
    // Along the line, reading upwards from the x axis, clear of the legend in the top corner.
    parts.push(
      `<text transform="translate(${(Number(x) - 4).toFixed(1)} ${height - f.bottom - 6}) rotate(-90)" font-family="sans-serif" font-size="10" fill="${m.color ?? '#000'}">${escapeXml(m.label)}</text>`,
    );
  }
  parts.push('</g>');
  parts.push(legend(f, o.groups.map((g, k) => ({ label: `${g.label} (${g.values.length})`, color: g.color ?? PALETTE[k % PALETTE.length]! }))));
  parts.push('</svg>');
  return parts.join('');
}

/** 2 x 2 confusion matrix (rows: actual, columns: predicted), cells shaded by their share of the row. */
export function confusionChart(c: { tp: number; fp: number; tn: number; fn: number }, title = 'Confusion matrix', width = 320, height = 260): string {
  const parts = [open('confusion', width, height, title)];
  const x0 = 110;
  const y0 = 60;
  const cw = (width - x0 - 16) / 2;
  const ch = (height - y0 - 20) / 2;
  const cells = [
    { r: 0, col: 0, v: c.tn, name: 'TN', good: true },
    { r: 0, col: 1, v: c.fp, name: 'FP', good: false },
    { r: 1, col: 0, v: c.fn, name: 'FN', good: false },
    { r: 1, col: 1, v: c.tp, name: 'TP', good: true },
  ];
  const rowTotal = [c.tn + c.fp, c.fn + c.tp];
  parts.push('<g class="plot" font-family="sans-serif">');
  parts.push(`<text x="${x0 + cw}" y="${y0 - 22}" text-anchor="middle" font-size="11" fill="#444">predicted</text>`);
  parts.push(`<text x="${x0 + cw / 2}" y="${y0 - 6}" text-anchor="middle" font-size="11">normal</text><text x="${x0 + 1.5 * cw}" y="${y0 - 6}" text-anchor="middle" font-size="11">anomalous</text>`);
  parts.push(`<text x="${x0 - 8}" y="${y0 + ch / 2 + 4}" text-anchor="end" font-size="11">actual normal</text><text x="${x0 - 8}" y="${y0 + 1.5 * ch + 4}" text-anchor="end" font-size="11">actual anomalous</text>`);
  for (const cell of cells) {
    const share = rowTotal[cell.r]! > 0 ? cell.v / rowTotal[cell.r]! : 0;
    const fill = cell.good ? `rgba(44,160,44,${(0.1 + 0.7 * share).toFixed(2)})` : `rgba(214,39,40,${(0.1 + 0.7 * share).toFixed(2)})`;
    const x = x0 + cell.col * cw;
    const y = y0 + cell.r * ch;
    parts.push(`<rect class="cell" data-cell="${cell.name}" x="${x}" y="${y}" width="${cw - 2}" height="${ch - 2}" fill="${fill}" stroke="#666"/>`);
    parts.push(`<text x="${x + cw / 2}" y="${y + ch / 2}" text-anchor="middle" font-size="16" font-weight="bold">${cell.v}</text>`);
    parts.push(`<text x="${x + cw / 2}" y="${y + ch / 2 + 16}" text-anchor="middle" font-size="10" fill="#333">${cell.name} · ${(100 * share).toFixed(1)}%</text>`);
  }
  parts.push('</g></svg>');
  return parts.join('');
}

/** Horizontal bars with value labels (per-class AUROC, say); one `<rect class="bar">` per bar. */
export function barChart(o: { name: string; title: string; bars: { label: string; value: number | null }[]; domain?: [number, number]; width?: number; format?: (v: number) => string }): string {
  const width = o.width ?? 460;
  const rowH = 20;
  const height = 40 + o.bars.length * rowH + 16;
  const [lo, hi] = o.domain ?? [0, Math.max(1e-9, ...o.bars.map((b) => b.value ?? 0))];
  const left = Math.min(180, 12 + Math.max(4, ...o.bars.map((b) => b.label.length)) * 6.2);
  const right = 56;
  const scale = (width - left - right) / (hi - lo || 1);
  const parts = [open(o.name, width, height, o.title), '<g class="plot" font-family="sans-serif" font-size="11">'];
  o.bars.forEach((b, k) => {
    const y = 32 + k * rowH;
    parts.push(`<text x="${left - 6}" y="${y + 13}" text-anchor="end">${escapeXml(b.label)}</text>`);
    if (b.value === null || !Number.isFinite(b.value)) {
      parts.push(`<text x="${left + 4}" y="${y + 13}" fill="#888">n/a</text>`);
      return;
    }
    const w = Math.max(1, (Math.min(hi, Math.max(lo, b.value)) - lo) * scale);
    parts.push(`<rect class="bar" x="${left}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 5}" fill="${PALETTE[0]}"/>`);
    parts.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + 13}">${escapeXml(o.format ? o.format(b.value) : fmt(b.value))}</text>`);
  });
  parts.push('</g></svg>');
  return parts.join('');
}
