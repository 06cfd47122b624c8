/**
 * A synthetic multivariate sensor series for demos and tests: a machine's temperature and vibration
 * sampled every 5 minutes, with a daily cycle, noise and, optionally, a fault (vibration rises and
 * temperature drifts for a few hours). Deterministic for a seed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Series } from '../core/types.js';
import { createRng } from './random.js';

export interface SensorSeriesOptions {
  /** Days of data (288 steps a day). */
  days: number;
  seed?: number;
  /** Epoch ms of the first step (default 2026-01-01T00:00Z). */
  start?: number;
  /** Steps [from, to) that carry the fault; none when omitted. */
  fault?: { from: number; to: number };
}

export const SENSOR_STEP_MS = 5 * 60 * 1000;

export function sensorSeries(o: SensorSeriesOptions): Series {
  const rng = createRng(o.seed ?? 0);
  const length = Math.round(o.days * 288);
  const start = o.start ?? Date.UTC(2026, 0, 1);
  const timestamps = new Float64Array(length);
  const values = new Float32Array(length * 2);
  const labels = new Uint8Array(length);
  for (let t = 0; t < length; t++) {
    timestamps[t] = start + t * SENSOR_STEP_MS;
    const day = (2 * Math.PI * t) / 288;
    let temperature = 60 + 6 * Math.sin(day - 1) + rng.normal(0, 0.4);
    let vibration = 1 + 0.3 * Math.sin(2 * day) + rng.normal(0, 0.05);
    if (o.fault && t >= o.fault.from && t < o.fault.to) {
      const k = (t - o.fault.from) / (o.fault.to - o.fault.from);
      vibration += 0.6 + 0.4 * Math.sin(40 * k) ;
      temperature += 4 * k;
      labels[t] = 1;
    }
    values[2 * t] = temperature;
    values[2 * t + 1] = vibration;
  }
  return { source: 'synthetic-sensor', columns: ['temperature', 'vibration'], timestamps, values, length, channels: 2, labels };
}

/** Writes `timestamp,temperature,vibration[,label]` CSV with ISO timestamps. */
export async function writeSeriesCsv(file: string, s: Series, withLabels = false): Promise<void> {
  const lines = [['timestamp', ...s.columns, ...(withLabels ? ['label'] : [])].join(',')];
  for (let t = 0; t < s.length; t++) {
    const row = [new Date(s.timestamps[t]!).toISOString()];
    for (let c = 0; c < s.channels; c++) row.push(s.values[t * s.channels + c]!.toFixed(4));
    if (withLabels) row.push(String(s.labels?.[t] ?? 0));
    lines.push(row.join(','));
  }
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, lines.join('\n') + '\n');
}
