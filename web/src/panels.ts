/** The image thumbnails and the model cards. */
import type { ModelView, RecentImageView } from '../../src/monitor/api-types';
import { lossChart } from './charts';
import { byId, fmtNum, fmtTime, h } from './dom';

const MAX_IMAGES = 24;

export class ImageGrid {
  private readonly grid = byId('images');

  load(list: RecentImageView[]): void {
    for (const im of [...list].reverse()) this.add(im);
  }

  add(im: RecentImageView): void {
    const img = im.heatmap ? h('img', { src: im.heatmap, alt: `heat map of ${im.id}`, loading: 'lazy' }) : h('div', { class: 'noimg' }, 'no map');
    const card = h(
      'figure',
      { class: `card thumb ${im.anomalous ? 'is-anomalous' : ''}`, 'data-image': im.id },
      img,
      h('figcaption', {}, h('b', {}, im.id), h('br'), `${im.model} · ${im.stream}`, h('br'), `score ${fmtNum(im.score)} · ${im.anomalous ? 'anomalous' : 'normal'}`, h('br'), h('small', {}, fmtTime(im.at))),
    );
    card.title = im.reason?.summary ?? '';
    this.grid.prepend(card);
    while (this.grid.children.length > MAX_IMAGES) this.grid.lastElementChild?.remove();
    byId('no-images').hidden = true;
  }
}

export function renderModels(models: ModelView[]): void {
  const grid = byId('models');
  grid.replaceChildren();
  for (const m of models) {
    const t = m.training;
    const last = t?.history.at(-1);
    const plot = h('div', { class: 'loss' });
    const input = Object.entries(m.input)
      .filter(([, v]) => v !== null && typeof v !== 'object')
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ');
    grid.append(
      h(
        'article',
        { class: 'card model', 'data-model': m.id },
        h('header', {}, h('b', {}, m.id), h('small', {}, ` ${m.kind} · ${m.inputKind} · generation ${m.generation}`)),
        h(
          'dl',
          {},
          h('dt', {}, 'threshold'),
          h('dd', {}, `${fmtNum(m.threshold)} (${m.thresholdMethod ?? 'none'})`),
          h('dt', {}, 'input'),
          h('dd', {}, input || '–'),
          h('dt', {}, 'training'),
          h('dd', {}, t ? `${t.epochs} epochs (best ${t.bestEpoch}${t.stoppedEarly ? ', stopped early' : ''}), ${t.trainSamples} samples, ${t.trainSeconds.toFixed(1)} s` : 'no history'),
          h('dt', {}, 'final loss'),
          h('dd', {}, last ? `${fmtNum(last.loss)}${last.valLoss !== null ? ` · val ${fmtNum(last.valLoss)}` : ''}` : '–'),
        ),
        plot,
      ),
    );
    if (t) lossChart(t.history, plot);
  }
}
