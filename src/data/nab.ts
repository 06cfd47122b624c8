/**
 * Reader for the Numenta Anomaly Benchmark corpus (NAB v1.1) laid out as in numenta/NAB:
 *
 *   <root>/data/<group>/<series>.csv          timestamp,value (one channel)
 *   <root>/labels/combined_windows.json       { "<group>/<series>.csv": [["start", "end"], …] }
 *
 * Each series comes back as a {@link Series} (T, 1) with per-step labels (1 inside an anomaly window),
 * its windows in epoch milliseconds (inclusive) and as row ranges, and NAB's probationary length.
 * Eight NAB files repeat timestamps (or step back an hour) at daylight-saving changes: their rows are
 * kept in file order and such timestamps nudged 1 ms past the previous one (counted in
 * `report.nudged`); labels use the file's own timestamps, row by row, as NAB does.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../core/errors.js';
import type { Series } from '../core/types.js';
import { nabProbationaryLength } from '../metrics/nab.js';
import { columnIndex, parseTimestampText, readCsvFile, seriesFromCsv, type SeriesCsvOptions, type SeriesCsvReport } from './csv.js';

export const NAB_WINDOWS_FILE = path.join('labels', 'combined_windows.json');

export interface NabFile {
  /** Key in the windows file, e.g. `realKnownCause/nyc_taxi.csv`. */
  name: string;
  /** (T, 1) with `labels` set from the windows. */
  series: Series;
  /** Anomaly windows [start, end] in epoch ms, inclusive. */
  windows: [number, number][];
  /**
   * The same windows as inclusive row ranges [first, last] (rows whose file timestamp lies in the
   * window, as NAB labels them). Score with row numbers as timestamps: NAB files repeat or step back
   * an hour at daylight-saving changes, which the series' (nudged, increasing) timestamps smooth over.
   */
  windowRows: [number, number][];
  /** Rows NAB does not score: min(floor(0.15 T), 750). */
  probationaryRows: number;
  report: SeriesCsvReport;
}

export interface NabLoadOptions {
  /** Only these series (keys such as `realKnownCause/nyc_taxi.csv`, or substrings of them). */
  only?: readonly string[];
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** True when `dir` has NAB's `data/` folder and `labels/combined_windows.json`. */
export async function isNabCorpus(dir: string): Promise<boolean> {
  return (await exists(path.join(dir, 'data'))) && (await exists(path.join(dir, NAB_WINDOWS_FILE)));
}

/** Parses `combined_windows.json` into epoch-ms windows per series key. */
export function parseNabWindows(json: unknown, source: string): Map<string, [number, number][]> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new VigilError('E_DECODE', `${source}: expected an object of "<group>/<file>.csv": [[start, end], …]`, { file: source });
  const out = new Map<string, [number, number][]>();
  for (const [key, list] of Object.entries(json as Record<string, unknown>)) {
    if (!Array.isArray(list)) throw new VigilError('E_DECODE', `${source}: "${key}" is not a list of windows`, { file: source, series: key });
    out.set(
      key,
      list.map((w, i) => {
        const pair = Array.isArray(w) && w.length === 2 ? w.map((x) => (typeof x === 'string' ? parseTimestampText(x) : null)) : null;
        if (!pair || pair[0] === null || pair[1] === null || pair[0]! > pair[1]!) {
          throw new VigilError('E_DECODE', `${source}: "${key}" window ${i} is ${JSON.stringify(w)}, expected ["start", "end"] timestamps with start <= end`, { file: source, series: key });
        }
        return [pair[0]!, pair[1]!] as [number, number];
      }),
    );
  }
  return out;
}

/** Per-step labels (T): 1 where the timestamp lies in a window [start, end]. */
export function labelsFromWindows(timestamps: ArrayLike<number>, windows: readonly (readonly [number, number])[]): Uint8Array {
  const labels = new Uint8Array(timestamps.length);
  for (const [a, b] of windows) for (let t = 0; t < timestamps.length; t++) if (timestamps[t]! >= a && timestamps[t]! <= b) labels[t] = 1;
  return labels;
}

/** Inclusive row ranges of each window (rows whose timestamp lies in it); E_DECODE for an empty one. */
export function windowRowRanges(timestamps: ArrayLike<number>, windows: readonly (readonly [number, number])[], source: string): [number, number][] {
  return windows.map(([a, b]) => {
    let first = -1;
    let last = -1;
    for (let t = 0; t < timestamps.length; t++) {
      if (timestamps[t]! >= a && timestamps[t]! <= b) {
        if (first < 0) first = t;
        last = t;
      }
    }
    if (first < 0) throw new VigilError('E_DECODE', `${source}: anomaly window [${new Date(a).toISOString()}, ${new Date(b).toISOString()}] holds no row`, { file: source });
    return [first, last] as [number, number];
  });
}

/**
 * Loads every series listed in the windows file (sorted by key), or the `only` subset.
 * E_NOT_FOUND when the corpus layout or a listed file is missing.
 */
export async function loadNabCorpus(root: string, opts: NabLoadOptions = {}): Promise<NabFile[]> {
  const windowsFile = path.join(root, NAB_WINDOWS_FILE);
  let text: string;
  try {
    text = await readFile(windowsFile, 'utf8');
  } catch {
    throw new VigilError('E_NOT_FOUND', `${root}: not a NAB corpus (no ${NAB_WINDOWS_FILE})`, { path: root });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new VigilError('E_DECODE', `${windowsFile}: not valid JSON (${(e as Error).message})`, { file: windowsFile });
  }
  const windows = parseNabWindows(json, windowsFile);
  let keys = [...windows.keys()].sort();
  if (opts.only && opts.only.length > 0) {
    keys = keys.filter((k) => opts.only!.some((o) => k === o || k.includes(o)));
    if (keys.length === 0) throw new VigilError('E_EMPTY', `${root}: no NAB series matches ${opts.only.join(', ')}`, { path: root });
  }
  const out: NabFile[] = [];
  for (const key of keys) {
    const file = path.join(root, 'data', ...key.split('/'));
    if (!(await exists(file))) throw new VigilError('E_NOT_FOUND', `${file}: listed in ${NAB_WINDOWS_FILE} but missing`, { path: file });
    const opts: SeriesCsvOptions = { timestampColumn: 'timestamp', valueColumns: ['value'], labelColumn: null, missing: 'error', order: 'nudge' };
    const csv = await readCsvFile(file);
    const { series, report } = seriesFromCsv(csv, opts);
    const tCol = columnIndex(csv, 'timestamp', 'timestamp');
    const fileTimes = csv.rows.map((r) => parseTimestampText(r[tCol]!)!);
    const w = windows.get(key)!;
    out.push({
      name: key,
      series: { ...series, labels: labelsFromWindows(fileTimes, w) },
      windows: w,
      windowRows: windowRowRanges(fileTimes, w, file),
      probationaryRows: nabProbationaryLength(series.length),
      report,
    });
  }
  return out;
}
