/** The alarm table: newest first, severity colours, acknowledge buttons. */
import type { AlarmView } from '../../src/monitor/api-types';
import { api, ApiError } from './api';
import { byId, fmtNum, fmtTime, h } from './dom';

const MAX_ROWS = 200;

export class AlarmTable {
  private readonly body = byId<HTMLTableElement>('alarms').tBodies[0]!;
  private readonly rows = new Map<number, HTMLTableRowElement>();
  private readonly alarms = new Map<number, AlarmView>();
  private readonly msg = byId('alarm-msg');

  constructor(private readonly onNeedKey: () => void) {}

  load(list: AlarmView[]): void {
    for (const a of [...list].reverse()) this.add(a);
  }

  add(a: AlarmView): void {
    if (this.rows.has(a.id)) return;
    this.alarms.set(a.id, a);
    const row = this.render(a);
    this.rows.set(a.id, row);
    this.body.prepend(row);
    while (this.body.rows.length > MAX_ROWS) {
      const last = this.body.rows[this.body.rows.length - 1]!;
      const id = Number(last.dataset.alarmId);
      this.rows.delete(id);
      this.alarms.delete(id);
      last.remove();
    }
    this.refreshCounts();
  }

  acked(id: number, ack: { by: string; note: string; at: number }): void {
    const a = this.alarms.get(id);
    const row = this.rows.get(id);
    if (!a || !row) return;
    a.ack = ack;
    row.replaceWith(this.render(a));
    this.rows.set(id, this.body.querySelector(`tr[data-alarm-id="${id}"]`) as HTMLTableRowElement);
    this.refreshCounts();
  }

  private render(a: AlarmView): HTMLTableRowElement {
    const action = a.ack
      ? h('span', { class: 'acked', title: a.ack.note || '' }, `✓ ${a.ack.by} ${fmtTime(a.ack.at)}`)
      : h('button', { class: 'ack', type: 'button', 'data-ack': a.id }, 'Acknowledge');
    if (action instanceof HTMLButtonElement) action.addEventListener('click', () => void this.acknowledge(a.id, action));
    const detail = a.reason.detail?.top?.length
      ? h('small', {}, ' top: ', a.reason.detail.top.slice(0, 3).map((c) => `${c.name} ${(c.contribution * 100).toFixed(0)}%`).join(', '))
      : null;
    return h(
      'tr',
      { 'data-alarm-id': a.id, class: a.ack ? 'is-acked' : 'is-open' },
      h('td', { title: `fired ${new Date(a.firedAt).toISOString()}, recorded ${new Date(a.createdAt).toISOString()}` }, fmtTime(a.firedAt)),
      h('td', {}, h('span', { class: `sev sev-${a.severity}` }, a.severity)),
      h('td', {}, h('b', {}, a.stream), h('small', {}, ` ${a.model}`)),
      h('td', { class: 'reason' }, a.reason.summary, detail, h('small', { class: 'score' }, ` score ${fmtNum(a.score)}, normalized ${fmtNum(a.normalized, 3)}`)),
      h('td', {}, action),
    );
  }

  private async acknowledge(id: number, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    this.msg.hidden = true;
    try {
      const r = await api.ack(id, 'dashboard');
      if (r.alarm.ack) this.acked(id, r.alarm.ack);
    } catch (e) {
      button.disabled = false;
      this.msg.hidden = false;
      if (e instanceof ApiError && e.status === 401) {
        this.msg.textContent = 'Acknowledging needs the service\'s API key: enter it at the top right.';
        this.onNeedKey();
      } else this.msg.textContent = `Could not acknowledge alarm ${id}: ${(e as Error).message}`;
    }
  }

  private refreshCounts(): void {
    const open = [...this.alarms.values()].filter((a) => !a.ack).length;
    byId('unacked').textContent = open > 0 ? `${open} open` : '';
    byId('no-alarms').hidden = this.alarms.size > 0;
  }
}
