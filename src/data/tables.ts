/**
 * Tables of numeric feature vectors: CSV tables with an optional 0/1 label column, ODDS `.mat`
 * tables (see mat.ts), the per-row samples tabular detectors take, and feature standardisation.
 *
 * Shapes: a {@link Table} is row-major (N, D); a {@link TableRow} is one row (D).
 * Missing cells (empty / NaN) in a table are an error naming the line and column (rows are
 * independent samples, there is no "previous value" to carry forward); so are infinities and text.
 */
import { VigilError } from '../core/errors.js';
import type { Table } from '../core/types.js';
import { columnIndex, LABEL_COLUMN_NAMES, parseLabelCell, parseNumberCell, readCsvFile, type CsvParseOptions, type CsvText } from './csv.js';
import { loadOddsTable } from './mat.js';
import type { ChannelStats } from './series.js';

/** One row of a table: the sample type of tabular detectors. */
export interface TableRow {
  /** `<file>#<row>` (1-based data row), used in every report line. */
  source: string;
  /** Feature values (D), in the table's column order. */
  values: Float32Array;
  /** Names of the D values (one array shared by every row of a table). */
  columns?: readonly string[];
  label?: 0 | 1;
}

export interface TableCsvOptions extends CsvParseOptions {
  /** 0/1 label column. Default: a column named `label`, `is_anomaly`, `outlier`…; `null` forces none. */
  labelColumn?: string | null;
  /** Feature columns in order. Default: every column except the label. */
  featureColumns?: readonly string[];
}

/** A table from parsed CSV; E_VALUE names file, line, column and value of any bad cell. */
export function tableFromCsv(csv: CsvText, opts: TableCsvOptions = {}): Table {
  const src = csv.source;
  const N = csv.rows.length;
  if (N === 0) throw new VigilError('E_EMPTY', `${src}: no data rows`, { file: src });
  let lCol: number | null = null;
  if (opts.labelColumn !== null) {
    if (opts.labelColumn !== undefined) lCol = columnIndex(csv, opts.labelColumn, 'label');
    else {
      const i = csv.columns.findIndex((c) => LABEL_COLUMN_NAMES.test(c.trim()));
      lCol = i >= 0 ? i : null;
    }
  }
  const fCols = opts.featureColumns ? opts.featureColumns.map((c) => columnIndex(csv, c, 'feature')) : csv.columns.map((_, i) => i).filter((i) => i !== lCol);
  if (fCols.length === 0) throw new VigilError('E_SHAPE', `${src}: no feature column (columns: ${csv.columns.join(', ')})`, { file: src });
  const D = fCols.length;
  const values = new Float32Array(N * D);
  for (let r = 0; r < N; r++) {
    for (let j = 0; j < D; j++) {
      const col = fCols[j]!;
      const cell = csv.rows[r]![col]!;
      const v = parseNumberCell(cell);
      if (v === null || !Number.isFinite(v)) {
        const what = v === null ? 'is not a number' : Number.isNaN(v) ? 'is missing (tables need every feature of every row)' : 'is infinite';
        throw new VigilError('E_VALUE', `${src}: line ${csv.lines[r]}, column "${csv.columns[col]}": value "${cell}" ${what}`, {
          file: src,
          line: csv.lines[r],
          column: csv.columns[col],
          value: cell,
        });
      }
      values[r * D + j] = v;
    }
  }
  let labels: Uint8Array | undefined;
  if (lCol !== null) {
    labels = new Uint8Array(N);
    for (let r = 0; r < N; r++) labels[r] = parseLabelCell(csv, r, lCol);
  }
  return { source: src, columns: fCols.map((i) => csv.columns[i]!), values, rows: N, features: D, ...(labels ? { labels } : {}) };
}

export async function readTableCsv(file: string, opts: TableCsvOptions = {}): Promise<Table> {
  return tableFromCsv(await readCsvFile(file, opts), opts);
}

/** A table from a `.csv` or an ODDS-style `.mat` (X, y) file, by extension. */
export async function readTableFile(file: string, opts: TableCsvOptions = {}): Promise<Table> {
  return /\.mat$/i.test(file) ? loadOddsTable(file) : readTableCsv(file, opts);
}

/** The table's rows as samples (copies). */
export function tableRows(t: Table): TableRow[] {
  const columns = [...t.columns];
  return Array.from({ length: t.rows }, (_, i) => ({
    source: `${t.source}#${i + 1}`,
    values: t.values.slice(i * t.features, (i + 1) * t.features),
    columns,
    ...(t.labels ? { label: (t.labels[i] ? 1 : 0) as 0 | 1 } : {}),
  }));
}

/**
 * The table restricted to, and reordered as, `columns` (a model's training columns).
 * E_SHAPE naming the missing column(s).
 */
export function selectTableColumns(t: Table, columns: readonly string[]): Table {
  if (columns.length === t.columns.length && columns.every((c, i) => c === t.columns[i])) return t;
  const idx = columns.map((c) => t.columns.indexOf(c));
  const missing = columns.filter((_, i) => idx[i]! < 0);
  if (missing.length > 0) {
    throw new VigilError('E_SHAPE', `${t.source}: missing column(s) ${missing.map((m) => `"${m}"`).join(', ')} that the model was trained on (the file has: ${t.columns.join(', ')})`, {
      file: t.source,
      missing,
    });
  }
  const D = columns.length;
  const values = new Float32Array(t.rows * D);
  for (let r = 0; r < t.rows; r++) for (let j = 0; j < D; j++) values[r * D + j] = t.values[r * t.features + idx[j]!]!;
  return { ...t, columns: [...columns], values, features: D };
}

/** Per-feature mean and standard deviation of rows (N, D); constant features get std 1. */
export function fitFeatureStats(rows: readonly TableRow[], features: number): ChannelStats {
  if (rows.length === 0) throw new VigilError('E_EMPTY', 'no rows to fit the standardisation on');
  const sum = new Float64Array(features);
  const sq = new Float64Array(features);
  for (const r of rows) for (let j = 0; j < features; j++) sum[j] += r.values[j]!;
  const mean = Array.from(sum, (s) => s / rows.length);
  for (const r of rows) for (let j = 0; j < features; j++) sq[j] += (r.values[j]! - mean[j]!) ** 2;
  const std = Array.from(sq, (s) => {
    const sd = Math.sqrt(s / rows.length);
    return sd > 1e-8 ? sd : 1;
  });
  return { mean, std };
}
