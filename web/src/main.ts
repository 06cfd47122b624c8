/** The monitoring dashboard: loads the current state, then follows the service's event stream. */
import type { ModelView } from '../../src/monitor/api-types';
import { AlarmTable } from './alarms';
import { api, apiKey, setApiKey } from './api';
import { StreamChart } from './charts';
import { byId } from './dom';
import { connectEvents } from './events';
import { ImageGrid, renderModels } from './panels';
import './style.css';

const keyInput = byId<HTMLInputElement>('api-key');
keyInput.value = apiKey();
keyInput.addEventListener('change', () => setApiKey(keyInput.value.trim()));

const charts = new Map<string, StreamChart>();
const alarms = new AlarmTable(() => keyInput.focus());
const images = new ImageGrid();
let models: ModelView[] = [];

function chartFor(model: string, stream: string, seed: boolean): StreamChart {
  const k = `${model}\u0000${stream}`;
  let c = charts.get(k);
  if (!c) {
    c = new StreamChart(model, stream, byId('streams'));
    charts.set(k, c);
    byId('no-streams').hidden = true;
    updateCounts();
    if (seed) {
      const chart = c;
      api.history(model, stream).then((r) => chart.seed(r.buckets, r.bucketMs), () => undefined);
    }
  }
  return c;
}

function updateCounts(): void {
  byId('counts').textContent = `${models.length} model(s) · ${charts.size} stream(s)`;
}

function setConn(state: 'live' | 'connecting' | 'down'): void {
  const el = byId('conn');
  el.dataset.state = state;
  el.textContent = state === 'live' ? 'live' : state === 'connecting' ? 'reconnecting…' : 'disconnected';
}

async function start(): Promise<void> {
  const [m, streams, alarmList, recent] = await Promise.all([api.models(), api.streams(), api.alarms(100), api.recentImages()]);
  models = m;
  renderModels(models);
  for (const s of streams) chartFor(s.model, s.stream, true);
  alarms.load(alarmList);
  images.load(recent);
  updateCounts();
  connectEvents(
    {
      hello: (d) => {
        models = d.models;
        renderModels(models);
        updateCounts();
      },
      points: (d) => chartFor(d.model, d.stream, false).append(d.t, d.score, d.normalized),
      image: (d) => images.add(d),
      alarm: (d) => alarms.add(d),
      ack: (d) => alarms.acked(d.id, d),
      models: (d) => {
        models = d.models;
        renderModels(models);
        updateCounts();
      },
    },
    setConn,
  );
  document.body.dataset.ready = 'true';
}

start().catch((e: unknown) => {
  setConn('down');
  byId('counts').textContent = `failed to load: ${(e as Error).message}`;
});
