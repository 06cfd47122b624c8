import type { Command } from 'commander';
import { VigilError } from '../../core/errors.js';
import { readSeriesCsv } from '../../data/csv.js';
import { replaySeries, type ReplayReport } from '../../monitor/replay.js';
import { parseInteger, parseNumber } from '../options.js';

export interface ReplayCliOptions {
  to: string;
  speed: number;
  stream?: string;
  model?: string;
  apiKey?: string;
  batchMs: number;
  now?: boolean;
}

/** Replays a CSV series to a running service; prints one JSON line per alarm and a final summary line. */
export async function runReplay(csv: string, o: ReplayCliOptions, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<ReplayReport> {
  try {
    const u = new URL(o.to);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new VigilError('E_CONFIG', `--to: "${o.to}" is not an http(s) URL such as http://127.0.0.1:8080`, { field: 'to' });
  }
  const { series } = await readSeriesCsv(csv, { order: 'nudge' });
  const stream = o.stream ?? series.source.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 128);
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  try {
    const report = await replaySeries(series, {
      to: o.to,
      stream,
      speed: o.speed,
      batchMs: o.batchMs,
      rebase: o.now ?? false,
      signal: ac.signal,
      ...(o.model ? { model: o.model } : {}),
      ...((o.apiKey ?? process.env.VIGIL_API_KEY) ? { apiKey: o.apiKey ?? process.env.VIGIL_API_KEY } : {}),
      onAlarm: (a) => out(JSON.stringify({ type: 'alarm', id: a.id, stream: a.stream, severity: a.severity, firedAt: new Date(a.firedAt).toISOString(), summary: a.reason.summary })),
    });
    out(JSON.stringify({ type: 'summary', ...report, interrupted: ac.signal.aborted }));
    return report;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('stream a recorded series (CSV such as a NAB file: timestamp,value) to a running `vigil serve` at speed x real time')
    .argument('<csv>', 'time-series CSV file (timestamp column + value columns)')
    .requiredOption('--to <url>', 'base URL of the service, e.g. http://127.0.0.1:8080')
    .option('--speed <x>', 'multiple of real time; 0 = as fast as the service takes it', parseNumber('--speed'), 100)
    .option('--stream <id>', 'stream id (default: the file name)')
    .option('--model <id>', 'series model id (default: the service\'s only series model)')
    .option('--api-key <key>', 'API key (default: $VIGIL_API_KEY)')
    .option('--batch-ms <ms>', 'send what is due every this many milliseconds', parseInteger('--batch-ms'), 100)
    .option('--now', 'shift timestamps so that the first point is the current time')
    .action(async (csv: string, o: ReplayCliOptions) => {
      await runReplay(csv, o);
    });
}
