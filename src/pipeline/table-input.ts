/**
 * Table input for the CLI, the benchmarks and the service: a `.csv` table (optional 0/1 label
 * column), an ODDS-style `.mat` file (X, y), or a folder of such files with the same columns; rows
 * come back as {@link TableRow} samples (`<file>#<row>`), in the columns a model was trained on.
 * For training, rows labelled anomalous are handed over as labelled anomalies (semi-supervised);
 * an unlabelled table is all "normal" (the unsupervised protocol).
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../core/errors.js';
import type { ProgressSink, Table } from '../core/types.js';
import { readTableFile, selectTableColumns, tableRows, type TableRow } from '../data/tables.js';
import { registerInputAdapter, type InputAdapter, type InputDescription } from './inputs.js';

export interface TableInput {
  /** The model's feature columns; empty = every column but the label. */
  columns: string[];
  labelColumn: string | null;
}

export function tableInput(input: InputDescription): TableInput {
  const i = input as Partial<TableInput>;
  return {
    columns: Array.isArray(i.columns) ? i.columns.filter((c): c is string => typeof c === 'string') : [],
    labelColumn: typeof i.labelColumn === 'string' && i.labelColumn ? i.labelColumn : null,
  };
}

async function kindOf(p: string): Promise<'file' | 'dir'> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'file';
  } catch {
    throw new VigilError('E_NOT_FOUND', `${p}: no such file or folder`, { path: p });
  }
}

/** Tables from a file or a folder of `.csv` / `.mat` files, in the model's columns. */
export async function loadTables(p: string, input: TableInput, progress?: ProgressSink): Promise<Table[]> {
  const files = (await kindOf(p)) === 'dir' ? (await readdir(p)).filter((f) => /\.(csv|mat)$/i.test(f)).sort().map((f) => path.join(p, f)) : [p];
  if (files.length === 0) throw new VigilError('E_EMPTY', `${p}: no .csv or .mat tables in this folder`, { path: p });
  const tables: Table[] = [];
  progress?.start(files.length, 'read');
  for (const [i, f] of files.entries()) {
    const t = await readTableFile(f, input.labelColumn ? { labelColumn: input.labelColumn } : {});
    tables.push(input.columns.length > 0 ? selectTableColumns(t, input.columns) : t);
    progress?.update(i + 1);
  }
  progress?.stop();
  const first = tables[0]!;
  for (const t of tables) {
    if (t.columns.join('\u0000') !== first.columns.join('\u0000')) {
      throw new VigilError('E_SHAPE', `${t.source}: columns (${t.columns.join(', ')}) differ from ${first.source} (${first.columns.join(', ')})`, { file: t.source });
    }
  }
  return tables;
}

async function rowsOf(p: string, input: InputDescription, progress?: ProgressSink): Promise<TableRow[]> {
  return (await loadTables(p, tableInput(input), progress)).flatMap((t) => tableRows(t));
}

export const tableAdapter: InputAdapter<TableRow> = {
  kind: 'table',
  async loadTrain(p, input, progress) {
    const rows = await rowsOf(p, input, progress);
    const normal = rows.filter((r) => r.label !== 1);
    const anomalies = rows.filter((r) => r.label === 1);
    if (normal.length === 0) throw new VigilError('E_EMPTY', `${p}: every row is labelled anomalous; nothing to learn normal behaviour from`, { path: p });
    return { normal, anomalies, layout: anomalies.length > 0 ? 'labelled table' : 'table' };
  },
  async loadTest(p, input, progress) {
    const rows = await rowsOf(p, input, progress);
    if (rows.some((r) => r.label === undefined)) throw new VigilError('E_VALUE', `${p}: no label column (label, is_anomaly, outlier…) to evaluate against`, { path: p });
    return rows;
  },
  async loadForScoring(p, input, progress) {
    return rowsOf(p, input, progress);
  },
};

registerInputAdapter(tableAdapter);
