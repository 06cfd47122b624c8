/**
 * Where a recorded alarm goes besides the store (which records it in the ingest transaction) and the
 * webhook outbox: a JSON log line, the dashboards' event stream. Each sink's failure is contained.
 */
import type { Writable } from 'node:stream';
import type { AlarmView } from '../api-types.js';
import type { EventHub } from '../events.js';

export interface AlarmSink {
  readonly name: string;
  deliver(alarm: AlarmView): void;
}

/** One JSON line per alarm on stdout (or the given stream): `{"type":"alarm","time":…,"alarm":{…}}`. */
export class JsonLineSink implements AlarmSink {
  readonly name = 'log';
  constructor(private readonly out: Pick<Writable, 'write'> = process.stdout) {}

  deliver(alarm: AlarmView): void {
    this.out.write(JSON.stringify({ type: 'alarm', time: new Date(alarm.createdAt).toISOString(), alarm }) + '\n');
  }
}

/** Pushes alarms to connected dashboards. */
export class EventSink implements AlarmSink {
  readonly name = 'events';
  constructor(private readonly hub: EventHub) {}

  deliver(alarm: AlarmView): void {
    this.hub.publish('alarm', alarm);
  }
}

/** Delivers to every sink; a throwing sink is reported through `onError` and does not stop the others. */
export function fanOut(sinks: readonly AlarmSink[], alarm: AlarmView, onError: (sink: string, e: unknown) => void): void {
  for (const s of sinks) {
    try {
      s.deliver(alarm);
    } catch (e) {
      onError(s.name, e);
    }
  }
}
