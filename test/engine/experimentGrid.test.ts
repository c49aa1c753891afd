import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../engine/model/config';
import { BUILT_IN_GRIDS, resolveGrid } from '../../engine/experiments/grid';
import { resolveRunConfig } from '../../engine/train/runConfig';

const base = { preset: 'tiny', steps: 20 };

test('a grid file with bad entries names every bad field, with its entry index', () => {
  const grid = [
    { model: { router: 'top3', capacityFactor: -1 } },
    { name: 'fine', model: { numExperts: 4 } },
    { training: { seed: 3, batchSize: 2, learningRate: -1 } },
    { bogus: 1, model: { dModl: 64 } },
    'not an object',
    { name: 'fine' },
    { model: { router: 'switch', ntlbMaxTries: 2 } },
    { model: { vocabSize: 100 } },
  ];
  assert.throws(
    () => resolveGrid(grid, base),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.field).sort(), [
        '[0].model.capacityFactor',
        '[0].model.router',
        '[2].training.batchSize',
        '[2].training.learningRate',
        '[2].training.seed',
        '[3].bogus',
        '[3].model.dModl',
        '[4]',
        '[5].name',
        '[6].model.ntlbMaxTries',
        '[7].model.vocabSize',
      ].sort());
      const message = err.message;
      assert.match(message, /\[2\]\.training\.seed: fixed across an experiment's runs/);
      assert.match(message, /\[5\]\.name: 'fine' is also entry 1's name/);
      assert.match(message, /\[7\]\.model\.vocabSize: the tokenizer sets it: give training\.vocabSize \(4096 here\)/, 'not silently replaced by the tokenizer\'s size');
      assert.doesNotMatch(message, /\[1\]/, 'a good entry is not named');
      return true;
    },
  );
  // A run's own config.json given back as a config: its model.vocabSize agrees with training.vocabSize.
  assert.equal(resolveRunConfig({ preset: 'tiny', overrides: { model: { vocabSize: 4096 }, training: { vocabSize: 4096 } } }).model.vocabSize, 4096);
});

test('a grid must be a non-empty list, and a bad base config is named once', () => {
  assert.throws(() => resolveGrid({ model: {} }, base), /\(root\): .*array/i);
  assert.throws(() => resolveGrid([], base), /a grid needs at least one run/);
  assert.throws(
    () => resolveGrid([{}, {}], { ...base, overrides: { model: { dModel: 0 } } }),
    (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0].field === 'model.dModel',
  );
});

test('every run of a grid shares seed, data and budget; names come from the overrides when absent', () => {
  const runs = resolveGrid([{ model: { router: 'top2', capacityFactor: 2 } }, { training: { learningRate: 3e-4 } }, {}], { ...base, corpus: { kind: 'files', spec: '/c' } });
  assert.deepEqual(runs.map((r) => r.name), ['router=top2,capacityFactor=2', 'learningRate=0.0003', 'base']);
  for (const r of runs) {
    assert.equal(r.config.training.steps, 20);
    assert.equal(r.config.training.seed, runs[0].config.training.seed);
    assert.equal(r.config.training.batchSize, runs[0].config.training.batchSize);
    assert.deepEqual(r.config.corpus, { kind: 'files', spec: '/c' });
  }
  assert.equal(runs[0].config.model.capacityFactor, 2);
  assert.equal(runs[1].config.training.learningRate, 3e-4);
});

test('the built-in grids are valid and hold what the issue lists', () => {
  const names = (grid: string) => resolveGrid(BUILT_IN_GRIDS[grid].entries, base).map((r) => r.name);
  assert.deepEqual(names('experts'), ['dense', 'switch-e2', 'switch-e4', 'switch-e8', 'switch-e16']);
  assert.deepEqual(names('capacity'), ['switch-cf1', 'switch-cf1.25', 'switch-cf2', 'top2-cf1', 'top2-cf1.25', 'top2-cf2']);
  assert.deepEqual(names('routers'), ['switch', 'top2', 'ntlb', 'expertChoice', 'dense']);
  assert.deepEqual(names('exploration'), ['argmax', 'sample', 'inputDropout', 'jitter']);
  const precision = resolveGrid(BUILT_IN_GRIDS.precision.entries, base).map((r) => [r.config.model.dtype, r.config.model.routerDtype]);
  assert.deepEqual(precision, [['float32', 'float32'], ['bfloat16', 'float32'], ['bfloat16', 'bfloat16']]);
});

test('with seeds, every entry runs once per seed from the base config’s seed on, all entries with one seed before the next', () => {
  const grid = [{ name: 'dense', model: { router: 'dense' } }, { name: 'e8', model: { router: 'switch', numExperts: 8 } }];
  const runs = resolveGrid(grid, { ...base, overrides: { training: { seed: 5, learningRate: 3e-3 } }, seeds: 3 });
  assert.deepEqual(
    runs.map((r) => [r.name, r.entry, r.seed, r.config.training.seed]),
    [
      ['dense-seed5', 'dense', 5, 5],
      ['e8-seed5', 'e8', 5, 5],
      ['dense-seed6', 'dense', 6, 6],
      ['e8-seed6', 'e8', 6, 6],
      ['dense-seed7', 'dense', 7, 7],
      ['e8-seed7', 'e8', 7, 7],
    ],
  );
  for (const r of runs) assert.equal(r.config.training.learningRate, 3e-3, 'the base config holds for every seed');
  assert.equal(runs[5].config.model.numExperts, 8);
  assert.deepEqual(resolveGrid(grid, { ...base, seeds: 1 }).map((r) => r.name), ['dense', 'e8'], 'one seed: the entries’ own names');
  for (const seeds of [0, 11, 1.5]) assert.throws(() => resolveGrid(grid, { ...base, seeds }), /seeds: a whole number from 1 to 10/);
});

test('mini64 is mini with b64.json’s settings and 1,600 steps, so the README’s two commands make the same runs', () => {
  const b64 = { model: { routerInitScale: 64 }, training: { learningRate: 0.003, batchSize: 64 } };
  const preset = resolveRunConfig({ preset: 'mini64' });
  const configured = resolveRunConfig({ preset: 'mini', overrides: b64, steps: 1600 });
  assert.deepEqual({ ...preset, preset: 'mini' }, configured);
  assert.equal(preset.training.steps, 1600);
  assert.equal(preset.model.routerInitScale, 64);
});
