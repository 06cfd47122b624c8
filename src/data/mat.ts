/**
 * MATLAB level-5 MAT-file reader for the subset that numeric data sets (ODDS) use: the 128-byte
 * header (either byte order), miCOMPRESSED elements (zlib, via node:zlib) and miMATRIX elements of
 * real, non-sparse numeric classes (double, single, (u)int8/16/32/64, logical), in any numeric
 * storage type. Cells, structs, sparse, complex and char arrays are listed as skipped, not decoded.
 * (npm's `mat-for-js` reads more of the format but is untyped and unmaintained since 2021; this
 * subset is small and checked against the ODDS files.)
 *
 * Layout reference: MathWorks, "MAT-File Format", version 5 (each element: an 8-byte tag of type and
 * byte count, or a 4-byte "small element" tag packing both, data padded to 8 bytes).
 */
import { readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { VigilError } from '../core/errors.js';
import type { Table } from '../core/types.js';

/** A real numeric matrix as stored: `dims` (MATLAB order), `data` column-major (first index fastest). */
export interface MatArray {
  name: string;
  dims: number[];
  /** MATLAB class name, e.g. 'double', 'uint8', 'logical'. */
  className: string;
  data: Float64Array;
}

export interface MatFile {
  source: string;
  /** Header text, e.g. "MATLAB 5.0 MAT-file, Platform: MACI64, …". */
  description: string;
  arrays: Map<string, MatArray>;
  /** Variables present but not decoded, with why (e.g. `"names": cell array`). */
  skipped: string[];
}

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16 } as const;
const CLASS_NAMES: Record<number, string> = {
  1: 'cell',
  2: 'struct',
  3: 'object',
  4: 'char',
  5: 'sparse',
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};
const NUMERIC_CLASSES = new Set([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
const ELEMENT_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8 };

class Reader {
  constructor(
    readonly view: DataView,
    readonly le: boolean,
    readonly source: string,
  ) {}

  fail(offset: number, what: string): never {
    throw new VigilError('E_DECODE', `${this.source}: byte ${offset}: ${what} (not a MATLAB v5 MAT-file this reader supports)`, { file: this.source, offset });
  }

  /** Tag at `offset`: element type, byte count, data offset, and the offset after the (padded) element. */
  tag(offset: number): { type: number; bytes: number; data: number; next: number } {
    if (offset + 8 > this.view.byteLength) this.fail(offset, 'truncated element tag');
    const first = this.view.getUint32(offset, this.le);
    const small = first >>> 16;
    if (small !== 0) {
      // Small data element: 2 bytes count, 2 bytes type, up to 4 bytes of data.
      return { type: first & 0xffff, bytes: small, data: offset + 4, next: offset + 8 };
    }
    const bytes = this.view.getUint32(offset + 4, this.le);
    const data = offset + 8;
    if (data + bytes > this.view.byteLength) this.fail(offset, `element of ${bytes} bytes runs past the end of the data`);
    return { type: first, bytes, data, next: data + Math.ceil(bytes / 8) * 8 };
  }

  numbers(type: number, offset: number, bytes: number): Float64Array {
    const size = ELEMENT_SIZE[type];
    if (!size) this.fail(offset, `unsupported numeric storage type ${type}`);
    const n = Math.floor(bytes / size);
    const out = new Float64Array(n);
    const v = this.view;
    const le = this.le;
    for (let i = 0; i < n; i++) {
      const o = offset + i * size;
      switch (type) {
        case MI.INT8: out[i] = v.getInt8(o); break;
        case MI.UINT8: out[i] = v.getUint8(o); break;
        case MI.INT16: out[i] = v.getInt16(o, le); break;
        case MI.UINT16: out[i] = v.getUint16(o, le); break;
        case MI.INT32: out[i] = v.getInt32(o, le); break;
        case MI.UINT32: out[i] = v.getUint32(o, le); break;
        case MI.SINGLE: out[i] = v.getFloat32(o, le); break;
        case MI.DOUBLE: out[i] = v.getFloat64(o, le); break;
        case MI.INT64: out[i] = Number(v.getBigInt64(o, le)); break;
        case MI.UINT64: out[i] = Number(v.getBigUint64(o, le)); break;
      }
    }
    return out;
  }

  text(offset: number, bytes: number): string {
    return new TextDecoder('latin1').decode(new Uint8Array(this.view.buffer, this.view.byteOffset + offset, bytes));
  }
}

/** Decodes one miMATRIX element's payload; returns the array, or a reason it was skipped. */
function readMatrix(r: Reader, start: number, end: number): MatArray | { name: string; skipped: string } {
  const flagsTag = r.tag(start);
  if (flagsTag.type !== MI.UINT32 || flagsTag.bytes < 8) r.fail(start, 'matrix without array flags');
  const flags = r.view.getUint32(flagsTag.data, r.le);
  const cls = flags & 0xff;
  const complex = (flags & 0x0800) !== 0;
  const logical = (flags & 0x0200) !== 0;
  const dimsTag = r.tag(flagsTag.next);
  if (dimsTag.type !== MI.INT32) r.fail(flagsTag.next, 'matrix without dimensions');
  const dims = Array.from(r.numbers(MI.INT32, dimsTag.data, dimsTag.bytes));
  const nameTag = r.tag(dimsTag.next);
  if (nameTag.type !== MI.INT8 && nameTag.type !== MI.UTF8) r.fail(dimsTag.next, 'matrix without a name');
  const name = r.text(nameTag.data, nameTag.bytes);
  const className = logical ? 'logical' : CLASS_NAMES[cls] ?? `class ${cls}`;
  if (!NUMERIC_CLASSES.has(cls)) return { name, skipped: `${className} array` };
  if (complex) return { name, skipped: 'complex array' };
  const realTag = r.tag(nameTag.next);
  if (realTag.next > end + 8) r.fail(nameTag.next, `variable "${name}": data runs past its matrix element`);
  const data = r.numbers(realTag.type, realTag.data, realTag.bytes);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) r.fail(realTag.data, `variable "${name}": ${data.length} values for dimensions ${dims.join('x')}`);
  return { name, dims, className, data };
}

function readElements(r: Reader, start: number, end: number, file: MatFile): void {
  let offset = start;
  while (offset + 8 <= end) {
    const t = r.tag(offset);
    if (t.type === MI.COMPRESSED) {
      let inflated: Buffer;
      try {
        inflated = inflateSync(new Uint8Array(r.view.buffer, r.view.byteOffset + t.data, t.bytes));
      } catch (e) {
        r.fail(offset, `compressed element does not inflate (${(e as Error).message})`);
      }
      const inner = new Reader(new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength), r.le, r.source);
      readElements(inner, 0, inflated.byteLength, file);
      // Compressed elements are not padded.
      offset = t.data + t.bytes;
      continue;
    }
    if (t.type === MI.MATRIX) {
      if (t.bytes > 0) {
        const m = readMatrix(r, t.data, t.data + t.bytes);
        if ('skipped' in m) file.skipped.push(`"${m.name}": ${m.skipped}`);
        else file.arrays.set(m.name, m);
      }
    } else {
      file.skipped.push(`element of type ${t.type} at byte ${offset}`);
    }
    offset = t.next;
  }
}

/** Parses a MAT-file held in memory. */
export function parseMat(bytes: Uint8Array, source: string): MatFile {
  if (bytes.byteLength < 128) throw new VigilError('E_DECODE', `${source}: ${bytes.byteLength} bytes, too short for a MAT-file header`, { file: source });
  const description = new TextDecoder('latin1').decode(bytes.subarray(0, 116)).replace(/[\s\0]+$/, '');
  const endian = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (!description.startsWith('MATLAB 5.0 MAT-file') || (endian !== 'IM' && endian !== 'MI')) {
    const hint = description.startsWith('MATLAB 7.3') ? ' (v7.3 files are HDF5; save with -v7 or -v6)' : '';
    throw new VigilError('E_DECODE', `${source}: not a MATLAB level-5 MAT-file${hint}`, { file: source });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(view, endian === 'IM', source);
  const file: MatFile = { source, description, arrays: new Map(), skipped: [] };
  readElements(r, 128, bytes.byteLength, file);
  return file;
}

export async function readMat(file: string): Promise<MatFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new VigilError('E_NOT_FOUND', `${file}: no such file`, { path: file });
  }
  return parseMat(bytes, file);
}

/** A variable that must be present and 2-D (a vector is (n, 1) or (1, n)). */
export function matMatrix(m: MatFile, name: string): { rows: number; cols: number; data: Float64Array } {
  const a = m.arrays.get(name);
  if (!a) {
    throw new VigilError('E_DECODE', `${m.source}: no numeric variable "${name}" (has: ${[...m.arrays.keys()].join(', ') || 'none'}${m.skipped.length ? `; skipped ${m.skipped.join(', ')}` : ''})`, {
      file: m.source,
      variable: name,
    });
  }
  if (a.dims.length !== 2) throw new VigilError('E_SHAPE', `${m.source}: "${name}" has ${a.dims.length} dimensions (${a.dims.join('x')}), expected 2`, { file: m.source, variable: name });
  return { rows: a.dims[0]!, cols: a.dims[1]!, data: a.data };
}

/**
 * An ODDS data set as a {@link Table}: `X` (n x d) becomes row-major values (N, D) named `x0…`,
 * `y` (n x 1, 1 = outlier) the labels. E_DECODE / E_SHAPE / E_VALUE on a missing variable, a size
 * mismatch, a non-finite feature or a label other than 0/1.
 */
export async function loadOddsTable(file: string): Promise<Table> {
  const m = await readMat(file);
  const X = matMatrix(m, 'X');
  const y = matMatrix(m, 'y');
  if (y.rows * y.cols !== X.rows || Math.min(y.rows, y.cols) !== 1) {
    throw new VigilError('E_SHAPE', `${file}: y is ${y.rows}x${y.cols}, expected ${X.rows}x1 to match X (${X.rows}x${X.cols})`, { file });
  }
  const N = X.rows;
  const D = X.cols;
  const values = new Float32Array(N * D);
  for (let j = 0; j < D; j++) {
    for (let i = 0; i < N; i++) {
      const v = X.data[j * N + i]!;
      if (!Number.isFinite(v)) throw new VigilError('E_VALUE', `${file}: X(${i + 1}, ${j + 1}) is ${v}`, { file, row: i + 1, column: j + 1 });
      values[i * D + j] = v;
    }
  }
  const labels = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    const v = y.data[i]!;
    if (v !== 0 && v !== 1) throw new VigilError('E_VALUE', `${file}: y(${i + 1}) is ${v}, expected 0 or 1`, { file, row: i + 1 });
    labels[i] = v;
  }
  return { source: file, columns: Array.from({ length: D }, (_, j) => `x${j}`), values, rows: N, features: D, labels };
}
