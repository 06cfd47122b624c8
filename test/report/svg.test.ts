import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { barChart, confusionChart, escapeXml, histogramChart, lineChart, niceTicks, thinIndices } from '../../src/report/svg.js';

test('ticks, thinning and escaping', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(3, 97, 4), [25, 50, 75]);
  assert.deepEqual(niceTicks(2, 2), [2]);
  assert.deepEqual(thinIndices(5, 10), [0, 1, 2, 3, 4]);
  const t = thinIndices(10_001, 400);
  assert.equal(t.length, 400);
  assert.equal(t[0], 0);
  assert.equal(t.at(-1), 10_000);
  assert.equal(escapeXml(`a<b & "c" 'd'>`), 'a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;');
});

test('charts say what they drew: vertices per line, bins per histogram group, four confusion cells', async () => {
  const x = Array.from({ length: 1000 }, (_, i) => i / 999);
  const svg = lineChart({ name: 'roc', title: 'ROC <test>', xLabel: 'FPR', yLabel: 'TPR', series: [{ label: 'a', x, y: x.map((v) => Math.sqrt(v)) }, { label: 'b', x: [0, 1], y: [0, 1], dashed: true }], xDomain: [0, 1], yDomain: [0, 1] });
  const points = [...svg.matchAll(/class="series"[^>]*data-points="(\d+)" d="([^"]*)"/g)].map((m) => ({ n: Number(m[1]), cmds: (m[2]!.match(/[ML]/g) ?? []).length }));
  assert.deepEqual(points, [
    { n: 400, cmds: 400 },
    { n: 2, cmds: 2 },
  ]);
  assert.ok(svg.includes('ROC &lt;test&gt;'), 'titles are escaped');
  // Non-finite values (a missing validation loss) are skipped, not drawn as NaN.
  const gaps = lineChart({ name: 'g', title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 's', x: [1, 2, 3], y: [1, Number.NaN, 3] }] });
  assert.ok(!gaps.includes('NaN'));
  const h = histogramChart({ name: 'histogram', title: 'h', xLabel: 's', groups: [{ label: 'n', values: [1, 2, 2, 3] }, { label: 'a', values: [5, 6] }], bins: 10, markers: [{ x: 4, label: 'threshold' }] });
  assert.equal([...h.matchAll(/<g class="series"[^>]*data-points="10"/g)].length, 2);
  assert.equal((h.match(/class="marker"/g) ?? []).length, 1);
  const c = confusionChart({ tp: 5, fp: 1, tn: 9, fn: 2 });
  assert.equal((c.match(/class="cell"/g) ?? []).length, 4);
  const b = barChart({ name: 'bars', title: 'b', bars: [{ label: 'x', value: 0.5 }, { label: 'y', value: null }], domain: [0, 1] });
  assert.equal((b.match(/class="bar"/g) ?? []).length, 1);
  // Every chart rasterises (librsvg through sharp) at its declared size.
  for (const s of [svg, h, c, b]) {
    const meta = await sharp(Buffer.from(s)).metadata();
    assert.equal(meta.format, 'svg');
    const png = await sharp(Buffer.from(s)).png().toBuffer();
    assert.ok(png.length > 1000);
  }
});
