/**
 * Process wiring of a running service: SIGINT / SIGTERM shut it down gracefully (a second signal
 * exits at once), SIGHUP reloads the models.
 */
import type { Service } from './server.js';

export interface Lifecycle {
  /** Resolves when the service has shut down (after a signal or `stop()`). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export function runUntilSignalled(service: Service, log: { info(o: object, m: string): void; error(o: object, m: string): void }): Lifecycle {
  let stopping: Promise<void> | null = null;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const stop = (): Promise<void> => {
    stopping ??= service.close().finally(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onHup);
      resolveDone();
    });
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.error({ signal }, 'second signal during shutdown: exiting now');
      process.exit(130);
    }
    log.info({ signal }, 'shutting down: finishing requests, flushing writes and webhooks');
    void stop().catch((e: unknown) => log.error({ err: e }, 'shutdown failed'));
  };
  const onHup = () => {
    log.info({ signal: 'SIGHUP' }, 'reloading models');
    service.reload().catch(() => undefined); // reload() logs its own failure
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHup);
  return { done, stop };
}
