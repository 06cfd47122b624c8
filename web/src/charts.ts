/**
 * One live uPlot chart per stream: the normalized score (left axis, 0..1, decision line at 0.5) and
 * the raw score (right axis). History comes from the store's buckets (their highest values), live
 * points from the event stream; at most MAX_POINTS are kept per chart and redraws are batched per
 * animation frame.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { EpochView, HistoryBucket } from '../../src/monitor/api-types';
import { fmtNum, h } from './dom';

const MAX_POINTS = 3000;

export class StreamChart {
  readonly el: HTMLElement;
  private readonly plot: uPlot;
  private readonly last: HTMLElement;
  private xs: number[] = [];
  private norm: (number | null)[] = [];
  private raw: (number | null)[] = [];
  private line: number[] = [];
  private pending = false;

  constructor(
    readonly model: string,
    readonly stream: string,
    parent: HTMLElement,
  ) {
    this.last = h('span', { class: 'last' }, '–');
    const body = h('div', { class: 'plot' });
    this.el = h('article', { class: 'card chart', 'data-stream': `${model}/${stream}` }, h('header', {}, h('b', {}, stream), h('small', {}, ` ${model}`), this.last), body);
    parent.append(this.el);
    const width = Math.max(280, body.clientWidth || parent.clientWidth / 2 - 24);
    this.plot = new uPlot(
      {
        width,
        height: 170,
        legend: { show: true, live: true },
        cursor: { drag: { x: true, y: false } },
        // uPlot widens a lone point's time axis by 86400 / ms = 1000 days when x is in seconds: show ±1 min.
        scales: {
          x: { time: true, range: (u, min, max) => (u.data[0].length === 1 ? [u.data[0][0]! - 60, u.data[0][0]! + 60] : [min, max]) },
          n: { range: [0, 1] },
          s: { auto: true },
        },
        series: [
          {},
          { label: 'normalized', scale: 'n', stroke: '#e4572e', width: 1.5, value: (_u, v) => fmtNum(v, 3) },
          { label: 'score', scale: 's', stroke: '#7a8ca3', width: 1, value: (_u, v) => fmtNum(v) },
          { label: 'threshold', scale: 'n', stroke: '#aaa', dash: [4, 4], width: 1, points: { show: false }, value: () => '0.5' },
        ],
        axes: [
          { stroke: '#889', grid: { stroke: '#eee' } },
          { scale: 'n', stroke: '#e4572e', size: 40, grid: { stroke: '#eee' } },
          { scale: 's', side: 1, stroke: '#7a8ca3', size: 50, grid: { show: false }, values: (_u, ticks) => ticks.map((t) => fmtNum(t, 3)) },
        ],
      },
      [[], [], [], []],
      body,
    );
    new ResizeObserver(() => {
      const w = body.clientWidth;
      if (w > 0 && Math.abs(w - this.plot.width) > 4) this.plot.setSize({ width: w, height: 170 });
    }).observe(body);
  }

  /** Seeds the chart from stored history (older than any live point). */
  seed(buckets: HistoryBucket[], bucketMs: number): void {
    const firstLive = this.xs[0] ?? Infinity;
    const xs: number[] = [];
    const norm: (number | null)[] = [];
    const raw: (number | null)[] = [];
    for (const b of buckets) {
      const x = (b.t + bucketMs / 2) / 1000;
      if (x >= firstLive) break;
      xs.push(x);
      norm.push(b.maxNormalized);
      raw.push(b.max);
    }
    this.xs = [...xs, ...this.xs];
    this.norm = [...norm, ...this.norm];
    this.raw = [...raw, ...this.raw];
    this.trim();
    this.redraw();
  }

  append(t: number[], score: number[], normalized: number[]): void {
    for (let i = 0; i < t.length; i++) {
      const x = t[i]! / 1000;
      if (this.xs.length > 0 && x <= this.xs[this.xs.length - 1]!) continue;
      this.xs.push(x);
      this.norm.push(normalized[i]! >= 0 ? normalized[i]! : null);
      this.raw.push(score[i]!);
    }
    const n = normalized.length;
    if (n > 0) this.last.textContent = ` ${fmtNum(normalized[n - 1]! >= 0 ? normalized[n - 1]! : null, 3)}`;
    this.last.classList.toggle('hot', n > 0 && normalized[n - 1]! >= 0.5);
    this.trim();
    this.redraw();
  }

  private trim(): void {
    const extra = this.xs.length - MAX_POINTS;
    if (extra > 0) {
      this.xs.splice(0, extra);
      this.norm.splice(0, extra);
      this.raw.splice(0, extra);
    }
  }

  private redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      if (this.line.length !== this.xs.length) this.line = this.xs.map(() => 0.5);
      this.plot.setData([this.xs, this.norm, this.raw, this.line] as uPlot.AlignedData);
    });
  }
}

/** A model's training loss per epoch (and validation loss when there is one). */
export function lossChart(history: EpochView[], parent: HTMLElement): void {
  if (history.length === 0) return;
  const hasVal = history.some((e) => e.valLoss !== null);
  const series: uPlot.Series[] = [{ label: 'epoch', value: (_u, v) => (v === null || v === undefined ? '–' : String(v)) }, { label: 'loss', stroke: '#3b6ea5', width: 1.5, value: (_u, v) => fmtNum(v) }];
  const data: (number | null)[][] = [history.map((e) => e.epoch), history.map((e) => e.loss)];
  if (hasVal) {
    series.push({ label: 'val', stroke: '#e4572e', width: 1.5, value: (_u, v) => fmtNum(v) });
    data.push(history.map((e) => e.valLoss));
  }
  new uPlot(
    {
      width: Math.max(220, parent.clientWidth || 260),
      height: 110,
      legend: { show: true },
      scales: { x: { time: false } },
      series,
      axes: [{ stroke: '#889', size: 24 }, { stroke: '#889', size: 44, values: (_u, ticks) => ticks.map((t) => fmtNum(t, 2)) }],
    },
    data as uPlot.AlignedData,
    parent,
  );
}
