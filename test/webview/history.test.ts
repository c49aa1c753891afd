import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerRow, lowerBound, RunHistory, thinOlder } from '../../webview/dashboard/history';
import { LAYERS, layer, mesh, step, summary, validation } from './fixtures';

test('thinOlder halves all but the recent items; lowerBound finds a key', () => {
  assert.deepEqual(thinOlder([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3), [0, 2, 4, 6, 7, 8, 9]);
  assert.deepEqual(thinOlder([1, 2], 5), [1, 2]);
  assert.deepEqual(thinOlder([], 0), []);
  const xs = [1, 3, 3, 7].map((x) => ({ x }));
  assert.equal(lowerBound(xs, 3, (p) => p.x), 1);
  assert.equal(lowerBound(xs, 4, (p) => p.x), 3);
  assert.equal(lowerBound(xs, 0, (p) => p.x), 0);
  assert.equal(lowerBound(xs, 8, (p) => p.x), 4);
});

test('layerRow: shares of the routed tokens', () => {
  assert.deepEqual(layerRow(layer('a', [4, 2, 1, 1])).shares, [0.5, 0.25, 0.125, 0.125]);
  assert.deepEqual(layerRow(layer('a', [0, 0])).shares, [0, 0]);
});

test('an init history fills one point per step and series', () => {
  const h = RunHistory.fromInit(summary(), [step(1), step(2), validation(2), step(3, { mesh: mesh() })], 10);
  assert.equal(h.runId, 'run-test_1');
  assert.deepEqual(h.layers, LAYERS);
  assert.equal(h.rows.length, 3);
  assert.equal(h.lastStep, 3);
  assert.equal(h.totalSteps, 10);
  assert.deepEqual(h.trainCrossEntropy.map((p) => p.x), [1, 2, 3]);
  assert.equal(h.trainCrossEntropy[0].y, step(1).crossEntropy);
  assert.deepEqual(h.valCrossEntropy, [{ x: 2, y: 8 }]);
  assert.equal(h.overflow.length, 2);
  assert.equal(h.overflow[0].length, 3);
  assert.equal(h.overflow[0][0].y, 1 / 8);
  assert.equal(h.mesh?.step, 3);
  assert.equal(h.status?.state, 'running');
});

test('live steps report what changed; a layer the run summary did not name is added', () => {
  const h = new RunHistory(summary({ layers: [] }));
  const changed = h.addStep(step(1));
  assert.deepEqual([...changed].sort(), ['entropy', 'heatmap', 'loadcv', 'loss', 'overflow', 'throughput']);
  assert.deepEqual(h.layers, LAYERS);
  assert.ok(h.addStep(step(2, { mesh: mesh() })).has('mesh'));
  assert.deepEqual([...h.addValidation(validation(2))], ['loss']);
  const odd = step(3, { layers: [layer('extra', [1, 1])] });
  h.addStep(odd);
  assert.deepEqual(h.layers, [...LAYERS, 'extra']);
  assert.equal(h.rows[2].layers[0], undefined);
  assert.equal(h.overflow[0].length, 2, 'a layer missing from a record gets no point');
  assert.equal(h.overflow[2].length, 1);
  assert.equal(h.status?.step, 3);
});

test('a step at or before the last (a resumed run) replaces the later records', () => {
  const h = RunHistory.fromInit(summary(), [step(1), step(2), validation(2), step(3, { mesh: mesh() }), step(4), validation(4)], 4);
  h.addStep(step(3, { crossEntropy: 42 }));
  assert.deepEqual(h.rows.map((r) => r.step), [1, 2, 3]);
  assert.deepEqual(h.trainCrossEntropy.map((p) => [p.x, p.y]).at(-1), [3, 42]);
  assert.deepEqual(h.overflow[1].map((p) => p.x), [1, 2, 3]);
  assert.deepEqual(h.valCrossEntropy.map((p) => p.x), [2], 'validations from the resumed step on are dropped');
  assert.equal(h.mesh, null, 'the mesh of a dropped step goes');
  h.addValidation(validation(3));
  h.addValidation(validation(3, 7));
  assert.deepEqual(h.valCrossEntropy, [{ x: 2, y: 8 }, { x: 3, y: 7 }]);
});

test('past the cap, older rows are thinned: the whole span stays, memory stays bounded', () => {
  const h = new RunHistory(summary(), { cap: 100 });
  for (let s = 1; s <= 1000; s++) h.addStep(step(s));
  assert.ok(h.rows.length <= 100, `${h.rows.length}`);
  assert.ok(h.rows.length >= 50);
  assert.equal(h.rows[0].step, 1, 'the first step is kept');
  assert.equal(h.lastStep, 1000);
  for (const s of [h.trainCrossEntropy, h.auxLoss, h.zLoss, h.throughput, ...h.overflow, ...h.entropy, ...h.loadCv]) {
    assert.equal(s.length, h.rows.length);
    assert.equal(s[0].x, 1);
    assert.equal(s.at(-1)!.x, 1000);
    for (let i = 1; i < s.length; i++) assert.ok(s[i].x > s[i - 1].x, 'sorted, unique x (chart.js normalized)');
  }
  // The most recent quarter of the cap is at full resolution.
  assert.deepEqual(h.rows.slice(-25).map((r) => r.step), Array.from({ length: 25 }, (_, i) => 976 + i));
  assert.equal(h.totalSteps, 1000);
});

// The cost of appending is measured by `npm run bench` (engine/bench/timings.ts), not here.
test('10,000 steps under the cap: every one kept, in order', () => {
  const h = new RunHistory(summary());
  for (let i = 1; i <= 10_000; i++) h.addStep(step(i));
  assert.equal(h.trainCrossEntropy.length, 10_000);
  assert.deepEqual(
    h.rows.map((r) => r.step),
    Array.from({ length: 10_000 }, (_, i) => i + 1),
  );
});

test("a producer's record with only routed counts and a loss: no point nobody logged, the total loss as its own series", () => {
  const h = new RunHistory(summary({ layers: [] }));
  const partial = (n: number) => ({ type: 'step' as const, step: n, loss: 3 - n / 10, layers: [{ layer: 'mixtral.gate', numExperts: 2, routed: [3, 1], loadCv: 0.5 }] });
  h.addStep(partial(1));
  h.addStep(partial(2));
  h.addValidation({ type: 'validation', step: 2 });
  assert.deepEqual([h.trainCrossEntropy, h.auxLoss, h.zLoss, h.throughput, h.valCrossEntropy], [[], [], [], [], []]);
  assert.deepEqual(h.trainLoss, [
    { x: 1, y: 2.9 },
    { x: 2, y: 2.8 },
  ]);
  assert.deepEqual([h.overflow[0], h.entropy[0]], [[], []], 'no kept counts, no entropy: no points');
  assert.deepEqual(h.loadCv[0].map((p) => p.y), [0.5, 0.5]);
  assert.deepEqual(h.rows[1].layers[0], { overflowRate: undefined, normalizedEntropy: undefined, loadCv: 0.5, shares: [0.75, 0.25] }, 'shares from routed when not given');
  assert.equal(h.rows[1].crossEntropy, undefined);
});
