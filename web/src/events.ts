/** The service's Server-Sent Events, dispatched by name with their typed payloads. */
import type { EventMap, EventName } from '../../src/monitor/api-types';

export type Handlers = { [K in EventName]?: (data: EventMap[K]) => void };

export function connectEvents(handlers: Handlers, onState: (state: 'live' | 'connecting' | 'down') => void): EventSource {
  const es = new EventSource('/api/v1/events');
  es.onopen = () => onState('live');
  es.onerror = () => onState(es.readyState === EventSource.CLOSED ? 'down' : 'connecting');
  for (const name of Object.keys(handlers) as EventName[]) {
    es.addEventListener(name, (ev) => {
      const fn = handlers[name] as ((d: unknown) => void) | undefined;
      try {
        fn?.(JSON.parse((ev as MessageEvent<string>).data));
      } catch (e) {
        console.error(`event ${name}:`, e);
      }
    });
  }
  return es;
}
