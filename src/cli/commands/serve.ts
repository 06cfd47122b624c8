import type { Command } from 'commander';
import { VigilError } from '../../core/errors.js';
import { parseRules } from '../../monitor/alarms/rules.js';
import { runUntilSignalled } from '../../monitor/lifecycle.js';
import { parseModelSpec } from '../../monitor/models.js';
import { createService } from '../../monitor/server.js';
import { parseInteger, parseNumber, readConfigFile } from '../options.js';

export interface ServeCliOptions {
  model: string[];
  port: number;
  host: string;
  store: string;
  apiKey?: string;
  webhook: string[];
  rules?: string;
  bucketSeconds: number;
  retentionDays?: number;
  durable?: boolean;
  dashboard: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Starts the service and resolves when it has shut down (SIGINT / SIGTERM). */
export async function runServe(o: ServeCliOptions): Promise<void> {
  if (o.model.length === 0) throw new VigilError('E_CONFIG', '--model: give at least one model folder (repeat --model for more)', { field: 'model' });
  if (o.port < 0 || o.port > 65535) throw new VigilError('E_CONFIG', `--port: ${o.port} is not a port number (0-65535)`, { field: 'port' });
  if (!(o.bucketSeconds > 0)) throw new VigilError('E_CONFIG', `--bucket-seconds: ${o.bucketSeconds} must be positive`, { field: 'bucket-seconds' });
  const rules = o.rules ? parseRules(await readConfigFile(o.rules), o.rules) : [];
  const apiKey = o.apiKey ?? process.env.VIGIL_API_KEY ?? null;
  const service = await createService({
    models: o.model.map(parseModelSpec),
    storeFile: o.store,
    host: o.host,
    port: o.port,
    apiKey: apiKey === '' ? null : apiKey,
    webhooks: o.webhook,
    rules,
    bucketMs: Math.round(o.bucketSeconds * 1000),
    ...(o.retentionDays !== undefined ? { retention: { scoresDays: o.retentionDays, alarmsDays: o.retentionDays, deliveriesDays: o.retentionDays } } : {}),
    durable: o.durable ? 'full' : 'normal',
    dashboard: o.dashboard,
  });
  const life = runUntilSignalled(service, service.app.log);
  try {
    const url = await service.listen();
    service.app.log.info({ url, models: service.models.ids(), store: o.store, auth: apiKey ? 'api-key' : 'none' }, `vigil monitor listening on ${url}`);
  } catch (e) {
    await life.stop();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new VigilError('E_CONFIG', `--port ${o.port}: already in use on ${o.host}`, { field: 'port' });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new VigilError('E_CONFIG', `--host ${o.host}: not an address of this machine`, { field: 'host' });
    throw e;
  }
  await life.done;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('real-time scoring service with alarms, a store and a live dashboard (Ctrl-C stops it gracefully, SIGHUP reloads the models)')
    .option('--model <dir>', 'model folder, or name=dir (repeatable)', collect, [])
    .option('--port <n>', 'port (0 = any free port)', parseInteger('--port'), 8080)
    .option('--host <address>', 'address to bind; keep 127.0.0.1 unless clients elsewhere must reach it', '127.0.0.1')
    .option('--store <file.db>', 'SQLite store for score history, alarms and acknowledgements', 'vigil-monitor.db')
    .option('--api-key <key>', 'key required to ingest, acknowledge and reload (default: $VIGIL_API_KEY)')
    .option('--webhook <url>', 'POST every alarm as JSON to this URL (repeatable)', collect, [])
    .option('--rules <file>', 'alarm rules, JSON or YAML: {rules: [{name, model, stream, on, threshold, k, n, minDurationMs, cooldownMs, severity}]}')
    .option('--bucket-seconds <s>', 'width of the stored score-history buckets', parseNumber('--bucket-seconds'), 10)
    .option('--retention-days <d>', 'delete stored scores, alarms and deliveries older than this (saved in the store)', parseNumber('--retention-days'))
    .option('--durable', 'fsync every commit (survives power loss, slower); default survives process crashes')
    .option('--no-dashboard', 'serve the API only')
    .action(async (o: ServeCliOptions) => runServe(o));
}
