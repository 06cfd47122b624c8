/**
 * Terminal progress bars (cli-progress) behind the library's ProgressSink interface. Drawn on stderr
 * only when it is a TTY, so JSON on stdout stays clean and CI logs stay short.
 */
import cliProgress from 'cli-progress';
import type { ProgressSink } from '../core/types.js';

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressSink | undefined {
  if (!stream.isTTY) return undefined;
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(total, label) {
      bar = new cliProgress.SingleBar(
        { stream, format: `${label.padEnd(8)} [{bar}] {percentage}% {value}/{total} | ETA {eta_formatted} | {info}`, hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { info: '' });
    },
    update(done, info) {
      const text = info ? Object.entries(info).map(([k, v]) => `${k} ${v}`).join(' ') : '';
      bar?.update(done, { info: text });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

/** A sink that writes one line per epoch-ish milestone: for logs when stderr is not a terminal. */
export function lineProgress(write: (line: string) => void, every = 0.1): ProgressSink {
  let total = 0;
  let label = '';
  let next = 0;
  return {
    start(t, l) {
      total = t;
      label = l;
      next = 0;
    },
    update(done, info) {
      if (total > 0 && done / total >= next) {
        next = done / total + every;
        const text = info ? Object.entries(info).map(([k, v]) => `${k} ${v}`).join(' ') : '';
        write(`${label} ${Math.round((100 * done) / total)}% ${text}`);
      }
    },
    stop() {},
  };
}
