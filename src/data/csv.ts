/**
 * CSV reading shared by time series and tables: an RFC 4180 tokenizer (quoted fields, `""` escapes,
 * CRLF, a leading BOM), delimiter detection (`,` then `;` then tab), header detection, and strict
 * number / timestamp parsing with errors that name the file, the line and the column.
 *
 * Cell conventions (documented for users):
 * - missing: an empty cell or one of `NaN`, `nan`, `NA`, `N/A`, `null`, `none`, `?` (case-insensitive);
 * - infinite: `inf`, `+inf`, `-inf`, `Infinity` (any case) parse to ±Infinity and are rejected by the
 *   series and table readers (E_VALUE), never silently filled;
 * - timestamps: ISO 8601 style `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.fff…]]` (also with `T` and `/`),
 *   with an optional `Z` or `±HH:MM` zone; without a zone they are read as UTC. Numeric timestamps
 *   (only in a column named like a time) are epoch seconds below 1e11, epoch milliseconds above.
 */
import { readFile } from 'node:fs/promises';
import { VigilError } from '../core/errors.js';
import type { Series } from '../core/types.js';

export interface CsvText {
  source: string;
  delimiter: string;
  /** Column names: the header row, or `col0`, `col1`… when the file has none. */
  columns: string[];
  hasHeader: boolean;
  /** Data rows, each with `columns.length` cells (raw strings, trimmed). */
  rows: string[][];
  /** 1-based line number in the file of each data row, for error messages. */
  lines: number[];
}

export interface CsvParseOptions {
  /** Field separator; detected from the first line when absent. */
  delimiter?: string;
  /** `true`/`false` forces; 'auto' (default) applies {@link looksLikeHeader}. */
  header?: boolean | 'auto';
}

const MISSING = new Set(['', 'nan', 'na', 'n/a', 'null', 'none', '?']);
const INFINITE = /^([+-]?)(inf|infinity)$/i;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const ISO_TIME = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
/** Column names that mark a numeric column as a timestamp column. */
export const TIME_COLUMN_NAMES = /^(timestamp|time|date|datetime|ts|epoch|time_?stamp)$/i;

export function isMissingCell(cell: string): boolean {
  return MISSING.has(cell.trim().toLowerCase());
}

/**
 * The number in a cell: a finite number, ±Infinity for infinity tokens, NaN for a missing cell,
 * `null` when the cell is not a number at all.
 */
export function parseNumberCell(cell: string): number | null {
  const s = cell.trim();
  if (isMissingCell(s)) return Number.NaN;
  if (NUMBER.test(s)) return Number(s);
  const inf = INFINITE.exec(s);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  return null;
}

/** Epoch milliseconds of an ISO-style date/time string, or `null` if it is not one. */
export function parseTimestampText(cell: string): number | null {
  const m = ISO_TIME.exec(cell.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const base = Date.UTC(Number(y), month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 February over into March: reject such dates.
  if (new Date(base).getUTCDate() !== day) return null;
  let ms = base + (frac ? Math.round(Number(frac) * 1000) : 0);
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
}

/** Epoch milliseconds of a numeric timestamp: seconds below 1e11, milliseconds from there on. */
export function epochMillis(n: number): number {
  return Math.abs(n) < 1e11 ? n * 1000 : n;
}

function detectDelimiter(firstLine: string): string {
  for (const d of [',', ';', '\t']) if (firstLine.includes(d)) return d;
  return ',';
}

/** Splits text into records of raw fields, honouring quotes; returns each record's first line number. */
function tokenize(text: string, delimiter: string, source: string): { records: string[][]; lines: number[] } {
  const records: string[][] = [];
  const lines: number[] = [];
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  let fieldQuoted = false;
  const endRecord = () => {
    record.push(fieldQuoted ? field : field.trim());
    // Skip blank lines (a single empty unquoted field).
    if (!(record.length === 1 && record[0] === '' && !fieldQuoted)) {
      records.push(record);
      lines.push(recordLine);
    }
    record = [];
    field = '';
    fieldQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field.trim() === '') {
      inQuotes = true;
      fieldQuoted = true;
      field = '';
    } else if (ch === delimiter) {
      record.push(fieldQuoted ? field : field.trim());
      field = '';
      fieldQuoted = false;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += ch;
    }
  }
  if (inQuotes) throw new VigilError('E_DECODE', `${source}: line ${recordLine}: a quoted field is never closed`, { file: source, line: recordLine });
  if (field !== '' || record.length > 0 || fieldQuoted) endRecord();
  return { records, lines };
}

/** A cell that is data (a number, a missing marker or a timestamp) rather than a column name. */
function isDataCell(cell: string): boolean {
  return parseNumberCell(cell) !== null || parseTimestampText(cell) !== null;
}

/**
 * Header detection: the first row is a header when one of its cells is neither a number, a missing
 * marker nor a timestamp (e.g. `timestamp,value`; `2014-07-01 00:00:00,10844` is data).
 */
export function looksLikeHeader(first: string[]): boolean {
  return first.some((c) => !isDataCell(c));
}

/** Parses CSV text into named columns of raw cells. E_DECODE on ragged rows or unclosed quotes. */
export function parseCsvText(text: string, source: string, opts: CsvParseOptions = {}): CsvText {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const nl = body.search(/\r|\n/);
  const firstLine = nl < 0 ? body : body.slice(0, nl);
  const delimiter = opts.delimiter ?? detectDelimiter(firstLine);
  const { records, lines } = tokenize(body, delimiter, source);
  if (records.length === 0) throw new VigilError('E_EMPTY', `${source}: the CSV file is empty`, { file: source });
  const hasHeader = opts.header === undefined || opts.header === 'auto' ? looksLikeHeader(records[0]!) : opts.header;
  const width = records[0]!.length;
  let columns: string[];
  if (hasHeader) {
    columns = records[0]!.map((c, i) => c || `col${i}`);
    const seen = new Set<string>();
    for (const c of columns) {
      if (seen.has(c)) throw new VigilError('E_DECODE', `${source}: line ${lines[0]}: column name "${c}" appears twice in the header`, { file: source, column: c });
      seen.add(c);
    }
  } else {
    columns = Array.from({ length: width }, (_, i) => `col${i}`);
  }
  const start = hasHeader ? 1 : 0;
  const rows = records.slice(start);
  const rowLines = lines.slice(start);
  rows.forEach((r, i) => {
    if (r.length !== width) {
      throw new VigilError('E_DECODE', `${source}: line ${rowLines[i]}: ${r.length} field(s), the ${hasHeader ? 'header has' : 'first row has'} ${width}`, {
        file: source,
        line: rowLines[i],
      });
    }
  });
  return { source, delimiter, columns, hasHeader, rows, lines: rowLines };
}

/** Reads and parses a CSV file (E_NOT_FOUND when it does not exist). */
export async function readCsvFile(file: string, opts: CsvParseOptions = {}): Promise<CsvText> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new VigilError('E_NOT_FOUND', `${file}: no such file`, { path: file });
    throw new VigilError('E_DECODE', `${file}: cannot read (${(e as Error).message})`, { path: file });
  }
  return parseCsvText(text, file, opts);
}

/**
 * Index of a column given by name (exact, then case-insensitive) or 0-based position.
 * E_SHAPE naming the file and the columns it has when absent.
 */
export function columnIndex(csv: CsvText, column: string | number, role: string): number {
  if (typeof column === 'number') {
    if (Number.isInteger(column) && column >= 0 && column < csv.columns.length) return column;
  } else {
    const exact = csv.columns.indexOf(column);
    if (exact >= 0) return exact;
    const lower = csv.columns.findIndex((c) => c.toLowerCase() === column.toLowerCase());
    if (lower >= 0) return lower;
  }
  throw new VigilError('E_SHAPE', `${csv.source}: no ${role} column "${column}" (columns: ${csv.columns.join(', ')})`, {
    file: csv.source,
    column: String(column),
  });
}

/** A 0/1 label cell (`0`, `1`, `true`, `false`, `yes`, `no`, `anomaly`, `normal`); E_VALUE otherwise. */
export function parseLabelCell(csv: CsvText, row: number, col: number): 0 | 1 {
  const raw = csv.rows[row]![col]!.trim().toLowerCase();
  if (raw === '1' || raw === '1.0' || raw === 'true' || raw === 'yes' || raw === 'anomaly' || raw === 'anomalous' || raw === 'outlier') return 1;
  if (raw === '0' || raw === '0.0' || raw === 'false' || raw === 'no' || raw === 'normal' || raw === 'inlier' || raw === '') return 0;
  throw new VigilError('E_VALUE', `${csv.source}: line ${csv.lines[row]}, column "${csv.columns[col]}": label "${csv.rows[row]![col]}" is not 0/1`, {
    file: csv.source,
    line: csv.lines[row],
    column: csv.columns[col],
    value: csv.rows[row]![col],
  });
}

/** Column names that are read as a 0/1 label column when no label column is named. */
export const LABEL_COLUMN_NAMES = /^(label|labels|is_?anomaly|anomaly|outlier|is_?outlier)$/i;

// ---------------------------------------------------------------------------------------------
// Time series from CSV
// ---------------------------------------------------------------------------------------------

/**
 * What to do with missing values (empty / NaN cells) in a series: `ffill` (default) carries the
 * previous value forward (values before the first present one take that first value) and counts
 * every filled cell in the report; `error` rejects the file at the first missing cell.
 */
export type MissingPolicy = 'ffill' | 'error';

export interface SeriesCsvOptions extends CsvParseOptions {
  /**
   * Timestamp column (name or position). Default: the first column named like a time
   * (`timestamp`, `time`, `date`…) or whose first cell is an ISO date; `null` forces none, and then
   * the row index (0, 1, 2…) serves as the timestamp.
   */
  timestampColumn?: string | number | null;
  /** Value columns in order. Default: every column that is neither the timestamp nor the label. */
  valueColumns?: readonly string[];
  /** 0/1 label column. Default: a column named `label`, `is_anomaly`, `anomaly`…; `null` forces none. */
  labelColumn?: string | null;
  missing?: MissingPolicy;
  /**
   * Timestamps that do not increase: `error` (default) rejects the file naming the row; `nudge` keeps
   * the row order and moves such a timestamp to 1 ms after the previous one, counting it in
   * `report.nudged` (for corpora such as NAB whose files repeat an hour at daylight-saving changes).
   */
  order?: 'error' | 'nudge';
}

export interface SeriesCsvReport {
  source: string;
  rows: number;
  hasHeader: boolean;
  timestampColumn: string | null;
  valueColumns: string[];
  labelColumn: string | null;
  /** Missing cells forward-filled, per value column (only columns with at least one). */
  filled: Record<string, number>;
  filledTotal: number;
  /** Timestamps moved forward under `order: 'nudge'`. */
  nudged: number;
  /** Median time step (ms), null with fewer than two rows. */
  medianStepMs: number | null;
  /** Steps that differ from the median step by more than 1% (irregular sampling, gaps). */
  irregularSteps: number;
  largestStepMs: number | null;
}

function cellError(csv: CsvText, row: number, col: number, what: string): VigilError {
  return new VigilError('E_VALUE', `${csv.source}: line ${csv.lines[row]}, column "${csv.columns[col]}": ${what}`, {
    file: csv.source,
    line: csv.lines[row],
    row: row + 1,
    column: csv.columns[col],
    value: csv.rows[row]![col],
  });
}

function findTimestampColumn(csv: CsvText): number | null {
  const byName = csv.columns.findIndex((c) => TIME_COLUMN_NAMES.test(c.trim()));
  if (byName >= 0) return byName;
  const first = csv.rows[0];
  if (!first) return null;
  const byValue = first.findIndex((c) => parseTimestampText(c) !== null);
  return byValue >= 0 ? byValue : null;
}

function timestampOf(csv: CsvText, row: number, col: number): number {
  const cell = csv.rows[row]![col]!;
  const iso = parseTimestampText(cell);
  if (iso !== null) return iso;
  const n = parseNumberCell(cell);
  if (n !== null && Number.isFinite(n)) return epochMillis(n);
  throw cellError(csv, row, col, `timestamp "${cell}" is neither an ISO date/time (YYYY-MM-DD[ HH:MM[:SS]]) nor an epoch number`);
}

/** Median and irregularity of the time steps. */
function stepStats(t: Float64Array): Pick<SeriesCsvReport, 'medianStepMs' | 'irregularSteps' | 'largestStepMs'> {
  if (t.length < 2) return { medianStepMs: null, irregularSteps: 0, largestStepMs: null };
  const d = new Float64Array(t.length - 1);
  for (let i = 1; i < t.length; i++) d[i - 1] = t[i]! - t[i - 1]!;
  const sorted = d.slice().sort();
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const tol = Math.max(1, 0.01 * median);
  let irregular = 0;
  for (const v of d) if (Math.abs(v - median) > tol) irregular++;
  return { medianStepMs: median, irregularSteps: irregular, largestStepMs: sorted[sorted.length - 1]! };
}

/**
 * A {@link Series} (T, C) from parsed CSV. Errors (E_VALUE / E_SHAPE) name the file, line, column and
 * value: a non-numeric or infinite value, a missing value under `missing: 'error'`, a column with no
 * value at all, a timestamp that is unparseable, duplicated or earlier than the row before it.
 */
export function seriesFromCsv(csv: CsvText, opts: SeriesCsvOptions = {}): { series: Series; report: SeriesCsvReport } {
  const src = csv.source;
  const T = csv.rows.length;
  if (T === 0) throw new VigilError('E_EMPTY', `${src}: no data rows after the header`, { file: src });
  const tCol = opts.timestampColumn === null ? null : opts.timestampColumn !== undefined ? columnIndex(csv, opts.timestampColumn, 'timestamp') : findTimestampColumn(csv);
  let lCol: number | null = null;
  if (opts.labelColumn !== null) {
    if (opts.labelColumn !== undefined) lCol = columnIndex(csv, opts.labelColumn, 'label');
    else {
      const i = csv.columns.findIndex((c, k) => k !== tCol && LABEL_COLUMN_NAMES.test(c.trim()));
      lCol = i >= 0 ? i : null;
    }
  }
  const vCols = opts.valueColumns
    ? opts.valueColumns.map((c) => columnIndex(csv, c, 'value'))
    : csv.columns.map((_, i) => i).filter((i) => i !== tCol && i !== lCol);
  if (vCols.length === 0) throw new VigilError('E_SHAPE', `${src}: no value column (columns: ${csv.columns.join(', ')})`, { file: src });
  const C = vCols.length;
  const missing = opts.missing ?? 'ffill';

  const timestamps = new Float64Array(T);
  let nudged = 0;
  for (let r = 0; r < T; r++) {
    timestamps[r] = tCol === null ? r : timestampOf(csv, r, tCol);
    if (r > 0 && timestamps[r]! <= timestamps[r - 1]! && opts.order === 'nudge') {
      timestamps[r] = timestamps[r - 1]! + 1;
      nudged++;
    } else if (r > 0 && timestamps[r]! <= timestamps[r - 1]!) {
      const same = timestamps[r] === timestamps[r - 1];
      throw cellError(
        csv,
        r,
        tCol!,
        same
          ? `timestamp "${csv.rows[r]![tCol!]}" is duplicated (same as line ${csv.lines[r - 1]})`
          : `timestamp "${csv.rows[r]![tCol!]}" is out of order (earlier than "${csv.rows[r - 1]![tCol!]}" on line ${csv.lines[r - 1]}); timestamps must increase`,
      );
    }
  }

  const values = new Float32Array(T * C);
  const filled: Record<string, number> = {};
  let filledTotal = 0;
  for (let c = 0; c < C; c++) {
    const col = vCols[c]!;
    let last = Number.NaN;
    let leading = 0;
    let count = 0;
    for (let r = 0; r < T; r++) {
      const cell = csv.rows[r]![col]!;
      const v = parseNumberCell(cell);
      if (v === null) throw cellError(csv, r, col, `value "${cell}" is not a number`);
      if (v === Infinity || v === -Infinity) throw cellError(csv, r, col, `value "${cell}" is infinite (only finite numbers or empty/NaN for missing are accepted)`);
      if (Number.isNaN(v)) {
        if (missing === 'error') throw cellError(csv, r, col, `value is missing ("${cell}") and the missing-value policy is "error"`);
        count++;
        if (Number.isNaN(last)) leading++;
        else values[r * C + c] = last;
        continue;
      }
      if (Number.isNaN(last) && leading > 0) for (let k = 0; k < leading; k++) values[k * C + c] = v;
      last = v;
      values[r * C + c] = v;
    }
    if (Number.isNaN(last)) throw new VigilError('E_VALUE', `${src}: column "${csv.columns[col]}" has no value in any row`, { file: src, column: csv.columns[col] });
    if (count > 0) {
      filled[csv.columns[col]!] = count;
      filledTotal += count;
    }
  }

  let labels: Uint8Array | undefined;
  if (lCol !== null) {
    labels = new Uint8Array(T);
    for (let r = 0; r < T; r++) labels[r] = parseLabelCell(csv, r, lCol);
  }
  const columns = vCols.map((i) => csv.columns[i]!);
  const series: Series = { source: src, columns, timestamps, values, length: T, channels: C, ...(labels ? { labels } : {}) };
  return {
    series,
    report: {
      source: src,
      rows: T,
      hasHeader: csv.hasHeader,
      timestampColumn: tCol === null ? null : csv.columns[tCol]!,
      valueColumns: columns,
      labelColumn: lCol === null ? null : csv.columns[lCol]!,
      filled,
      filledTotal,
      nudged,
      ...stepStats(timestamps),
    },
  };
}

/** Reads a time-series CSV file; see {@link seriesFromCsv}. */
export async function readSeriesCsv(file: string, opts: SeriesCsvOptions = {}): Promise<{ series: Series; report: SeriesCsvReport }> {
  return seriesFromCsv(await readCsvFile(file, opts), opts);
}
