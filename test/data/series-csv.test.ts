import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VigilError } from '../../src/core/errors.js';
import { looksLikeHeader, parseCsvText, parseTimestampText, readSeriesCsv, seriesFromCsv, type SeriesCsvOptions } from '../../src/data/csv.js';
import { readTableCsv, tableFromCsv, tableRows } from '../../src/data/tables.js';

function series(text: string, opts: SeriesCsvOptions = {}) {
  return seriesFromCsv(parseCsvText(text, 'mem.csv', opts), opts);
}

/** Runs `fn`, expecting a VigilError with `code` whose message matches every pattern. */
function rejects(fn: () => unknown, code: string, ...patterns: RegExp[]): VigilError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof VigilError, `expected a VigilError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const p of patterns) assert.match(e.message, p);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('header detection: names vs data rows, and the columns that follow', () => {
  assert.equal(looksLikeHeader(['timestamp', 'value']), true);
  assert.equal(looksLikeHeader(['2014-07-01 00:00:00', '10844']), false);
  assert.equal(looksLikeHeader(['1.5', '', 'NaN', '-2e3']), false);
  const withHeader = parseCsvText('timestamp,cpu,mem\n2020-01-01 00:00,1,2\n', 'a.csv');
  assert.equal(withHeader.hasHeader, true);
  assert.deepEqual(withHeader.columns, ['timestamp', 'cpu', 'mem']);
  const without = parseCsvText('2020-01-01 00:00,1,2\n2020-01-01 00:01,3,4\n', 'b.csv');
  assert.equal(without.hasHeader, false);
  assert.deepEqual(without.columns, ['col0', 'col1', 'col2']);
  assert.equal(without.rows.length, 2);
});

test('tokenizer: quotes, escaped quotes, CRLF, BOM, blank lines, semicolons', () => {
  const csv = parseCsvText('\uFEFFname;"note"\r\n"a;b";"say ""hi"""\r\n\r\nc;d\r\n', 'q.csv');
  assert.equal(csv.delimiter, ';');
  assert.deepEqual(csv.columns, ['name', 'note']);
  assert.deepEqual(csv.rows, [['a;b', 'say "hi"'], ['c', 'd']]);
  assert.deepEqual(csv.lines, [2, 4]);
  rejects(() => parseCsvText('a,b\n1,2,3\n', 'r.csv'), 'E_DECODE', /r\.csv: line 2: 3 field\(s\), the header has 2/);
  rejects(() => parseCsvText('a,b\n"1,2\n', 'u.csv'), 'E_DECODE', /never closed/);
});

test('timestamps: ISO forms with zones, epoch columns, index when there is none', () => {
  assert.equal(parseTimestampText('2014-07-01 00:30:00'), Date.UTC(2014, 6, 1, 0, 30));
  assert.equal(parseTimestampText('2014-07-01T00:30:00.250Z'), Date.UTC(2014, 6, 1, 0, 30, 0, 250));
  assert.equal(parseTimestampText('2014-07-01T02:30:00+02:00'), Date.UTC(2014, 6, 1, 0, 30));
  assert.equal(parseTimestampText('2014-02-31'), null);
  assert.equal(parseTimestampText('value'), null);
  const epoch = series('time,v\n1600000000,1\n1600000060,2\n');
  assert.equal(epoch.series.timestamps[1], 1600000060 * 1000);
  assert.equal(epoch.report.timestampColumn, 'time');
  const index = series('a,b\n1,2\n3,4\n5,6\n');
  assert.equal(index.report.timestampColumn, null);
  assert.deepEqual(Array.from(index.series.timestamps), [0, 1, 2]);
  assert.equal(index.series.channels, 2);
});

test('multivariate series with a label column: shape (T, C), labels, columns', () => {
  const { series: s, report } = series('timestamp,cpu,mem,label\n2020-01-01 00:00,1,10,0\n2020-01-01 00:01,2,20,1\n2020-01-01 00:02,3,30,0\n');
  assert.equal(s.length, 3);
  assert.equal(s.channels, 2);
  assert.deepEqual(s.columns, ['cpu', 'mem']);
  assert.deepEqual(Array.from(s.values), [1, 10, 2, 20, 3, 30]);
  assert.deepEqual(Array.from(s.labels!), [0, 1, 0]);
  assert.equal(report.labelColumn, 'label');
  assert.equal(report.irregularSteps, 0);
  assert.equal(report.medianStepMs, 60_000);
});

test('missing values: forward-filled and counted (leading ones take the first value), or an error', () => {
  const text = 'timestamp,a,b\n2020-01-01 00:00,,1\n2020-01-01 00:01,5,NaN\n2020-01-01 00:02,,3\n2020-01-01 00:03,7,\n';
  const { series: s, report } = series(text);
  assert.deepEqual(Array.from(s.values), [5, 1, 5, 1, 5, 3, 7, 3]);
  assert.deepEqual(report.filled, { a: 2, b: 2 });
  assert.equal(report.filledTotal, 4);
  rejects(() => series(text, { missing: 'error' }), 'E_VALUE', /mem\.csv: line 2, column "a": value is missing/);
  rejects(() => series('t,a\n2020-01-01,\n2020-01-02,\n'), 'E_VALUE', /column "a" has no value in any row/);
});

test('infinities and text in value cells are errors naming file, line, column and value', () => {
  const e = rejects(() => series('timestamp,a\n2020-01-01 00:00,1\n2020-01-01 00:01,inf\n'), 'E_VALUE', /mem\.csv: line 3, column "a": value "inf" is infinite/);
  assert.equal(e.details.line, 3);
  rejects(() => series('timestamp,a\n2020-01-01 00:00,-Infinity\n'), 'E_VALUE', /infinite/);
  rejects(() => series('timestamp,a\n2020-01-01 00:00,abc\n'), 'E_VALUE', /value "abc" is not a number/);
});

test('timestamps out of order or duplicated are errors naming the row; irregular steps are reported', () => {
  rejects(
    () => series('timestamp,a\n2020-01-01 00:02,1\n2020-01-01 00:01,2\n'),
    'E_VALUE',
    /mem\.csv: line 3, column "timestamp": timestamp "2020-01-01 00:01" is out of order \(earlier than "2020-01-01 00:02" on line 2\)/,
  );
  rejects(() => series('timestamp,a\n2020-01-01 00:01,1\n2020-01-01 00:01,2\n'), 'E_VALUE', /line 3.*is duplicated \(same as line 2\)/);
  const nudged = series('timestamp,a\n2020-01-01 00:01,1\n2020-01-01 00:01,2\n2020-01-01 00:00,3\n', { order: 'nudge' });
  assert.equal(nudged.report.nudged, 2);
  assert.ok(nudged.series.timestamps[2]! > nudged.series.timestamps[1]!);
  const gappy = series('timestamp,a\n2020-01-01 00:00,1\n2020-01-01 00:01,2\n2020-01-01 00:02,3\n2020-01-01 00:10,4\n2020-01-01 00:11,5\n');
  assert.equal(gappy.report.medianStepMs, 60_000);
  assert.equal(gappy.report.irregularSteps, 1);
  assert.equal(gappy.report.largestStepMs, 8 * 60_000);
});

test('a missing column is a clear error naming the column and what the file has', () => {
  rejects(() => series('timestamp,cpu\n2020-01-01,1\n', { valueColumns: ['cpu', 'mem'] }), 'E_SHAPE', /mem\.csv: no value column "mem" \(columns: timestamp, cpu\)/);
  rejects(() => series('time,cpu\n2020-01-01,1\n', { timestampColumn: 'ts' }), 'E_SHAPE', /no timestamp column "ts"/);
});

test('files: not found, empty, header only', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-series-csv-'));
  try {
    await assert.rejects(readSeriesCsv(path.join(dir, 'nope.csv')), (e: VigilError) => e.code === 'E_NOT_FOUND' && /nope\.csv: no such file/.test(e.message));
    await writeFile(path.join(dir, 'empty.csv'), '');
    await assert.rejects(readSeriesCsv(path.join(dir, 'empty.csv')), (e: VigilError) => e.code === 'E_EMPTY');
    await writeFile(path.join(dir, 'header.csv'), 'timestamp,value\n');
    await assert.rejects(readSeriesCsv(path.join(dir, 'header.csv')), (e: VigilError) => e.code === 'E_EMPTY' && /no data rows/.test(e.message));
    await writeFile(path.join(dir, 'ok.csv'), 'timestamp,value\n2020-01-01,1\n2020-01-02,2\n');
    const { series: s } = await readSeriesCsv(path.join(dir, 'ok.csv'));
    assert.equal(s.length, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tables: feature columns, optional label column, rows as samples, bad cells named', async () => {
  const t = tableFromCsv(parseCsvText('a,b,is_anomaly\n1,2,0\n3,4,1\n', 't.csv'));
  assert.deepEqual(t.columns, ['a', 'b']);
  assert.equal(t.rows, 2);
  assert.equal(t.features, 2);
  assert.deepEqual(Array.from(t.labels!), [0, 1]);
  const rows = tableRows(t);
  assert.equal(rows[1]!.source, 't.csv#2');
  assert.deepEqual(Array.from(rows[1]!.values), [3, 4]);
  assert.equal(rows[1]!.label, 1);
  const unlabelled = tableFromCsv(parseCsvText('1,2\n3,4\n', 'u.csv'));
  assert.equal(unlabelled.labels, undefined);
  assert.deepEqual(unlabelled.columns, ['col0', 'col1']);
  rejects(() => tableFromCsv(parseCsvText('a,b\n1,\n', 'm.csv')), 'E_VALUE', /m\.csv: line 2, column "b": value "" is missing/);
  rejects(() => tableFromCsv(parseCsvText('a,b\n1,inf\n', 'm.csv')), 'E_VALUE', /is infinite/);
  rejects(() => tableFromCsv(parseCsvText('a,label\n1,maybe\n', 'l.csv')), 'E_VALUE', /label "maybe" is not 0\/1/);
  await assert.rejects(readTableCsv('/definitely/not/here.csv'), (e: VigilError) => e.code === 'E_NOT_FOUND');
});
