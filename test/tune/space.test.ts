import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getDetectorFactory } from '../../src/core/detector.js';
import { VigilError } from '../../src/core/errors.js';
import '../../src/models/index.js';
import { canonicalJson, drawConfigurations, resolveSpace, sampleConfig, SEARCH_SPACES, validateSpaceOverride } from '../../src/tune/space.js';

test('every declared space is well formed and every registered detector gets a space', async () => {
  for (const [kind, space] of Object.entries(SEARCH_SPACES)) {
    assert.ok(space.resource.min <= space.resource.max, kind);
    for (const [key, d] of Object.entries(space.params)) {
      if (d.type === 'choice') assert.ok(d.values.length > 0, `${kind}.${key}`);
      else assert.ok(d.min <= d.max, `${kind}.${key}`);
    }
  }
  const { listDetectors } = await import('../../src/core/detector.js');
  for (const f of listDetectors()) {
    let probe;
    try {
      probe = f.create(f.inputKind === 'image' ? { height: 32, width: 32 } : {});
    } catch (e) {
      // Detectors that need a setting without a default (an ONNX file, say) are tuned with it given.
      if (e instanceof VigilError && e.code === 'E_CONFIG') continue;
      throw e;
    }
    const defaults = probe.summary().config;
    probe.dispose();
    const space = resolveSpace(f.kind, defaults);
    for (const key of Object.keys(space.params)) assert.ok(key in defaults, `${f.kind}: searched key ${key} is a setting of the detector`);
    if (space.resource.kind === 'epochs') assert.ok(space.resource.key in defaults, `${f.kind}: resource key`);
  }
});

test('sampling is deterministic in the seed, within the domains, with reals kept short', () => {
  const space = SEARCH_SPACES['conv-ae']!;
  const a = sampleConfig(space, 'seed-1');
  assert.deepEqual(sampleConfig(space, 'seed-1'), a);
  assert.notDeepEqual(sampleConfig(space, 'seed-2'), a);
  for (let i = 0; i < 50; i++) {
    const c = sampleConfig(space, i);
    assert.ok([2, 3, 4].includes(c.depth as number));
    const lr = c.learningRate as number;
    assert.ok(lr >= 3e-4 && lr <= 3e-3, `lr ${lr}`);
    assert.equal(Number(lr.toPrecision(3)), lr);
  }
});

test('resolveSpace drops keys the detector lacks and keeps fixed settings out of the search', () => {
  const defaults = { depth: 3, filters: 32, learningRate: 1e-3, epochs: 20 };
  const s = resolveSpace('conv-ae', defaults, { params: { filters: null, depth: { type: 'choice', values: [1, 2] } } }, ['learningRate']);
  assert.deepEqual(Object.keys(s.params).sort(), ['depth']);
  assert.ok(s.dropped.includes('latent') && s.dropped.includes('loss'));
  assert.deepEqual(s.resource, { kind: 'epochs', key: 'epochs', min: 2, max: 20 });
  // A detector nobody declared a space for: its learning rate, epochs as the resource.
  const g = resolveSpace('future-detector', { learningRate: 0.01, epochs: 27 });
  assert.equal(g.source, 'generic');
  assert.deepEqual(Object.keys(g.params), ['learningRate']);
  assert.deepEqual(g.resource, { kind: 'epochs', key: 'epochs', min: 3, max: 27 });
  // Without epochs, a fraction of the training samples is the resource.
  assert.equal(resolveSpace('bank', { k: 3 }).resource.kind, 'samples');
});

test('drawn configurations: the base first, no duplicates, invalid combinations redrawn by the factory', () => {
  const factory = getDetectorFactory('conv-ae');
  // 32x32 images: depth 4 and 5 fit, 6 does not (32 / 2^6 is not an integer).
  const space = { params: { depth: { type: 'choice' as const, values: [4, 5, 6] }, latent: { type: 'choice' as const, values: [8, 16] } } };
  const valid = (s: Record<string, unknown>) => {
    try {
      factory.create({ height: 32, width: 32, ...s }).dispose();
      return true;
    } catch (e) {
      if (e instanceof VigilError && e.code === 'E_CONFIG') return false;
      throw e;
    }
  };
  const configs = drawConfigurations(space, 10, 7, valid);
  assert.deepEqual(configs[0], {}, 'configuration 0 is the base settings');
  // Only 2 x 2 valid combinations exist besides the base: the draw stops there.
  assert.equal(configs.length, 5);
  assert.ok(configs.slice(1).every((c) => c.depth !== 6 && [4, 5].includes(c.depth as number)));
  assert.equal(new Set(configs.map(canonicalJson)).size, configs.length);
  // Deterministic, and a longer draw extends a shorter one.
  assert.deepEqual(drawConfigurations(space, 3, 7, valid), configs.slice(0, 3));
});

test('a space override with a bad key or range names it', () => {
  assert.throws(() => validateSpaceOverride({ params: { depth: { type: 'choice', vals: [1] } } }, 'space.yaml'), (e: unknown) => e instanceof VigilError && e.code === 'E_CONFIG' && /space\.yaml\.params\.depth: unknown key "vals"/.test(e.message));
  assert.throws(() => validateSpaceOverride({ params: { learningRate: { type: 'float', min: 0, max: 1, log: true } } }, 'space'), (e: unknown) => e instanceof VigilError && /params\.learningRate: a log-scaled range needs min > 0/.test(e.message));
  assert.throws(() => validateSpaceOverride({ resource: { kind: 'samples', min: 0.5, max: 2 } }, 'space'), (e: unknown) => e instanceof VigilError && /resource\.max/.test(e.message));
  assert.deepEqual(validateSpaceOverride({ params: { latent: null } }).params, { latent: null });
});
