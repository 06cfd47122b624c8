import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VigilError } from '../../src/core/errors.js';
import { loadRunConfig, parseBudget, parseFalseAlarms, validateRunConfig } from '../../src/config/run-config.js';
import { tempDir } from '../data/fixtures.js';

/** Expects E_CONFIG whose one-line message contains every part. */
function rejects(raw: unknown, ...parts: string[]) {
  assert.throws(
    () => validateRunConfig(raw, 'run.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof VigilError, `expected a VigilError, got ${String(e)}`);
      assert.equal(e.code, 'E_CONFIG', e.message);
      for (const p of parts) assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} should contain ${JSON.stringify(p)}`);
      assert.ok(!e.message.includes('\n'));
      return true;
    },
  );
}

const tune = { command: 'tune', dataset: 'data', detector: 'conv-ae', out: 'runs/x', tune: { budget: '20m' } };

test('run config errors name the key', () => {
  rejects({ command: 'trian' }, 'command', 'trian', 'train, evaluate, score, tune, report');
  rejects({ command: 'train', dataset: 'd', out: 'o', epochs: 3 }, 'unknown key "epochs"');
  rejects({ command: 'train', out: 'o' }, "required property 'dataset'");
  rejects({ command: 'score', model: 'm' }, "required property 'input'");
  rejects({ ...tune, tune: { budget: '20m', eta: 1 } }, 'tune.eta', 'must be >= 2');
  rejects({ ...tune, tune: { budget: '20m', selction: 'auto' } }, 'tune', 'unknown key "selction"');
  rejects({ ...tune, tune: { budget: 'soon' } }, 'tune.budget', '"soon"');
  rejects({ ...tune, tune: {} }, "required property 'budget'");
  rejects({ ...tune, tune: { budget: 3, synthetic: ['rotate', 'blur'] } }, 'tune.synthetic.1', 'allowed values');
  rejects({ ...tune, threshold: { method: 'false-alarm-rate', per: 'day', rate: 2 } }, 'threshold.intervalSeconds');
  rejects({ ...tune, threshold: { method: 'false-alarm-rate', rate: 2 } }, "required property 'per'");
  rejects({ ...tune, threshold: { method: 'quantile', fpr: 2 } }, 'threshold.fpr', 'must be < 1');
  rejects({ ...tune, report: { png: 'x' } }, 'report', 'unknown key "png"');
  // The detector settings are checked by the detector's own schema.
  rejects({ ...tune, config: { latnt: 8 } }, 'run.yaml', 'conv-ae config', 'unknown key "latnt"');
  rejects({ ...tune, config: { latent: 'many' } }, 'conv-ae config.latent', 'must be integer');
  rejects({ ...tune, detector: 'conv-aee' }, 'unknown detector "conv-aee"');
  rejects({ ...tune, tune: { budget: 3, space: { params: { depth: { type: 'choice' } } } } }, 'tune.space.params.depth');
});

test('budgets and false-alarm rates parse, and name the option when they do not', () => {
  assert.deepEqual(parseBudget('30'), { trials: 30 });
  assert.deepEqual(parseBudget(12), { trials: 12 });
  assert.deepEqual(parseBudget('20m'), { seconds: 1200 });
  assert.deepEqual(parseBudget('90s'), { seconds: 90 });
  assert.deepEqual(parseBudget('1.5h'), { seconds: 5400 });
  assert.deepEqual(parseBudget('30, 20m'), { trials: 30, seconds: 1200 });
  for (const bad of ['0', '2.5', '-3', 'm', '20m,30m', '']) assert.throws(() => parseBudget(bad, '--budget'), (e: unknown) => e instanceof VigilError && e.message.startsWith('--budget'));
  assert.deepEqual(parseFalseAlarms('2/day'), { rate: 2, per: 'day' });
  assert.deepEqual(parseFalseAlarms('0.5 per hour'), { rate: 0.5, per: 'hour' });
  assert.deepEqual(parseFalseAlarms('5/1000'), { rate: 5, per: 'thousand' });
  assert.throws(() => parseFalseAlarms('often'), (e: unknown) => e instanceof VigilError && e.message.includes('--false-alarms'));
});

test('a YAML run config loads with defaults, paths resolved against its folder, frozen', async () => {
  const { dir, cleanup } = await tempDir('runcfg');
  try {
    const file = path.join(dir, 'tune.yaml');
    await writeFile(
      file,
      [
        'command: tune',
        'dataset: ../data/tiles',
        'detector: conv-ae',
        'out: runs/tiles',
        'seed: 3',
        'config:',
        '  height: 32',
        '  width: 32',
        'threshold: { method: false-alarm-rate, rate: 5, per: thousand }',
        'tune:',
        '  budget: 30,10m',
        '  selection: label-free',
        '  space: { params: { loss: null } }',
        'report: { pngDir: plots }',
        '',
      ].join('\n'),
    );
    const cfg = await loadRunConfig(file);
    assert.equal(cfg.command, 'tune');
    assert.equal(cfg.dataset, path.resolve(dir, '../data/tiles'));
    assert.equal(cfg.out, path.join(dir, 'runs/tiles'));
    assert.equal(cfg.report!.pngDir, path.join(dir, 'plots'));
    assert.deepEqual(cfg.tune!.budget, { trials: 30, seconds: 600 });
    assert.equal(cfg.file, file);
    assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.tune));
    // A JSON file with a typo names the file and the key.
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ command: 'report', model: 'm', dataset: 'd', out: 'r.html', report: { worst: 'all' } }));
    await assert.rejects(loadRunConfig(bad), (e: unknown) => e instanceof VigilError && e.message.includes('bad.json') && e.message.includes('report.worst'));
  } finally {
    await cleanup();
  }
});
