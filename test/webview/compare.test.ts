// The Compare view's model (webview/compare/runs.ts) and its messages (engine/protocol.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareInboundSchema, compareOutboundSchema } from '../../engine/protocol';
import { byTime, comparedRuns, layerMean, layerNames, legendGroups, runStyles, type CompareInit } from '../../webview/compare/runs';
import { LAYERS, layer, step, summary, validation } from './fixtures';

const init = (): CompareInit => ({
  type: 'init',
  selection: { runIds: ['a', 'b'] },
  title: 'Runs a, b',
  runs: [
    {
      name: 'switch',
      run: summary({ id: 'a' }),
      history: [validation(0, 9), step(1), step(2), validation(2, 7)],
      totalSteps: 2,
      clock: [
        [1, 0.5],
        [2, 1.25],
      ],
    },
    {
      name: 'dense',
      run: summary({ id: 'b', router: 'dense', layers: [] }),
      history: [step(1, { layers: [] }), step(2, { layers: [] })],
      totalSteps: 2,
      clock: [[1, 0.25]],
    },
  ],
  table: { columns: ['run', 'state'], rows: [['switch', 'completed']] },
});

test('the messages: an init checks; a chart id, a PNG that is not one, and a one-run selection are refused', () => {
  assert.ok(compareInboundSchema.safeParse(init()).success);
  assert.ok(compareInboundSchema.safeParse({ type: 'requestPng', chart: 'heatmap-1', requestId: 3 }).success);
  assert.equal(compareInboundSchema.safeParse({ type: 'requestPng', chart: 'heatmap-x', requestId: 3 }).success, false);
  assert.equal(compareInboundSchema.safeParse({ ...init(), selection: { runIds: ['a'] } }).success, false);
  assert.ok(compareOutboundSchema.safeParse({ type: 'png', chart: 'loss-step', dataUrl: 'data:image/png;base64,iVBORw0KGgo=' }).success);
  assert.equal(compareOutboundSchema.safeParse({ type: 'png', chart: 'loss-step', dataUrl: 'data:text/html;base64,PGI+' }).success, false);
  assert.equal(compareOutboundSchema.safeParse({ type: 'exportMarkdown', extra: 1 }).success, true, 'zod objects strip unknown keys');
  assert.equal(compareOutboundSchema.safeParse({ type: 'ready', selection: { experimentId: '../x' } }).success, false);
});

test("each run's history and clock: validation and steps placed at training seconds, step 0 at 0 s", () => {
  const [a, b] = comparedRuns(init());
  assert.equal(a.name, 'switch');
  assert.deepEqual(a.history.valCrossEntropy, [
    { x: 0, y: 9 },
    { x: 2, y: 7 },
  ]);
  assert.deepEqual(byTime(a.history.valCrossEntropy, a.clock), [
    { x: 0, y: 9 },
    { x: 1.25, y: 7 },
  ]);
  assert.deepEqual(
    byTime(b.history.trainCrossEntropy, b.clock),
    [{ x: 0.25, y: 9 - 0.01 }],
    'a step without a time is left out',
  );
});

test('layer means: overflow, entropy and load CV averaged over the sparse layers; none for a dense run', () => {
  const [a, b] = comparedRuns(init());
  // Layer 0 routes [4, 2, 1, 1] at capacity 3: 1 of 8 dropped; layer 1 [2, 2, 2, 2]: none.
  assert.deepEqual(layerMean(a.history, 'overflowRate'), [
    { x: 1, y: 0.0625 },
    { x: 2, y: 0.0625 },
  ]);
  assert.deepEqual(
    layerMean(a.history, 'loadCv').map((p) => p.y),
    [0.5, 0.5],
  );
  assert.ok(Math.abs(layerMean(a.history, 'normalizedEntropy')[0].y - 1 / Math.log(4)) < 1e-12);
  assert.deepEqual(layerMean(b.history, 'overflowRate'), []);
  const one = comparedRuns({ ...init(), runs: [{ ...init().runs[0], history: [step(1, { layers: [layer(LAYERS[1], [8, 0, 0, 0])] })] }] })[0];
  assert.deepEqual(layerMean(one.history, 'overflowRate'), [{ x: 1, y: 5 / 8 }], 'a record with one layer averages that one');
  assert.deepEqual(layerNames([a, b]), LAYERS);
});

test('styles: runs picked one by one get a colour each; an experiment with seeds colours by entry and dashes by seed', () => {
  const runs = comparedRuns(init());
  assert.deepEqual(runStyles(runs, 4), [
    { color: 0, dash: 0 },
    { color: 1, dash: 0 },
  ]);
  const eight = Array.from({ length: 8 }, (_, i) => ({ ...runs[0], name: `r${i}` }));
  assert.deepEqual(
    runStyles(eight, 4).map((s) => [s.color, s.dash]),
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i, i < 6 ? 0 : 1]),
    'past the sixth colour, the dashboard’s next dash',
  );
  // 2 entries × 3 seeds, seed-major as an experiment runs them; the message carries entry and seed.
  const seeded = { ...init(), runs: [0, 1, 2].flatMap((seed) => ['switch', 'dense'].map((entry, e) => ({ ...init().runs[e], name: `${entry}-seed${seed}`, entry, seed }))) };
  assert.ok(compareInboundSchema.safeParse(seeded).success);
  const withSeeds = comparedRuns(seeded);
  assert.deepEqual(
    runStyles(withSeeds, 2).map((s) => [s.color, s.dash]),
    [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [0, 0],
      [1, 0],
    ],
    'seed 2 takes the first dash again when only two are given',
  );
  assert.deepEqual(
    legendGroups(withSeeds, 4).map((g) => [g.name, g.color, g.runs.map(({ run, dash }) => [run.seed, dash])]),
    [
      ['switch', 0, [[0, 0], [1, 1], [2, 2]]],
      ['dense', 1, [[0, 0], [1, 1], [2, 2]]],
    ],
  );
});
