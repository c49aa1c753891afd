import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunHistory } from '../../webview/dashboard/history';
import { evenIndices, PERSIST_NUMBERS, persistDashboard, restoreDashboard, round, rowsForBudget } from '../../webview/dashboard/persist';
import { layer, mesh, status, step, summary, validation } from './fixtures';

const ui = { layer: 'decoder.block.1', shownTables: ['loss'] };

test('evenIndices and round', () => {
  assert.deepEqual(evenIndices(3, 5), [0, 1, 2]);
  assert.deepEqual(evenIndices(10, 4), [0, 3, 6, 9]);
  assert.deepEqual(evenIndices(10, 1), [9]);
  assert.deepEqual(evenIndices(0, 1), []);
  assert.equal(round(1.23456789), 1.2346);
  assert.equal(round(0), 0);
  assert.ok(Number.isNaN(round(NaN)));
});

test('a persisted dashboard restores the same charts (numbers rounded)', () => {
  const h = RunHistory.fromInit(summary(), [step(1), step(2), validation(2), step(3, { mesh: mesh() })], 50);
  h.setStatus(status('paused', 3, 'NaN loss'));
  const state = persistDashboard(h, ui);
  const json = JSON.parse(JSON.stringify(state));
  assert.equal(json.runId, 'run-test_1', 'the serializer finds the run at state.runId');
  const r = restoreDashboard(json);
  assert.ok(r);
  const g = r.history;
  assert.equal(g.runId, h.runId);
  assert.deepEqual(g.layers, h.layers);
  assert.deepEqual(r.ui, ui);
  assert.equal(g.status?.state, 'paused');
  assert.equal(g.status?.message, 'NaN loss');
  assert.equal(g.totalSteps, 50);
  assert.deepEqual(g.mesh, h.mesh);
  assert.deepEqual(g.valCrossEntropy, h.valCrossEntropy);
  for (const k of ['trainCrossEntropy', 'auxLoss', 'zLoss', 'throughput'] as const) {
    assert.equal(g[k].length, h[k].length, k);
    g[k].forEach((p, i) => {
      assert.equal(p.x, h[k][i].x);
      assert.ok(Math.abs(p.y - h[k][i].y) <= Math.abs(h[k][i].y) * 1e-4, k);
    });
  }
  assert.deepEqual(g.overflow.map((s) => s.length), [3, 3]);
  assert.deepEqual(g.rows[0].layers[0]?.shares, [0.5, 0.25, 0.125, 0.125]);
});

test('a long history is persisted thinned to the cap, from the first step to the last', () => {
  const h = new RunHistory(summary());
  for (let s = 1; s <= 5000; s++) h.addStep(step(s));
  const state = persistDashboard(h, ui, 2000);
  assert.equal(state.steps.step.length, 2000);
  assert.equal(state.steps.step[0], 1);
  assert.equal(state.steps.step.at(-1), 5000);
  const bytes = JSON.stringify(state).length;
  assert.ok(bytes < 400_000, `${bytes} bytes`);
  const r = restoreDashboard(JSON.parse(JSON.stringify(state)));
  assert.equal(r?.history.rows.length, 2000);
  assert.equal(r?.history.totalSteps, 5000);
});

test('state that does not check (missing, another version, wrong shapes) restores nothing', () => {
  assert.equal(restoreDashboard(undefined), null);
  assert.equal(restoreDashboard(null), null);
  assert.equal(restoreDashboard({ v: 2 }), null);
  const good = persistDashboard(RunHistory.fromInit(summary(), [step(1), step(2)], 2), ui);
  assert.ok(restoreDashboard(good));
  assert.equal(restoreDashboard({ ...good, run: { ...good.run, id: 'bad id!' } }), null);
  assert.equal(restoreDashboard({ ...good, steps: { ...good.steps, loss: [1] } }), null, 'ragged columns');
});

test('runs with many layers and experts persist fewer rows: the state stays around a megabyte at most', () => {
  const h = new RunHistory(summary({ layers: [] }));
  const big = Array.from({ length: 12 }, (_, i) => layer(`layer.${i}`, Array.from({ length: 64 }, (_, e) => e + 1)));
  for (let s = 1; s <= 3000; s++) h.addStep(step(s, { layers: big }));
  const perRow = 8 + 12 * (3 + 64);
  assert.equal(rowsForBudget(h), Math.floor(PERSIST_NUMBERS / perRow));
  const state = persistDashboard(h, ui);
  assert.equal(state.steps.step.length, rowsForBudget(h));
  assert.equal(state.steps.step.at(-1), 3000);
  const bytes = JSON.stringify(state).length;
  assert.ok(bytes < 1_200_000, `${bytes} bytes`);
});

test("a producer's partial records persist with their holes and restore without a made-up value", () => {
  const h = new RunHistory(summary({ layers: [] }));
  h.addStep({ type: 'step', step: 1, loss: 2.5, layers: [{ layer: 'gate', numExperts: 2, routed: [3, 1], shares: [0.75, 0.25], loadCv: 0.5 }], gateMetrics: { overflow_expert1: 12.5 } });
  h.addValidation({ type: 'validation', step: 1, loss: 2 });
  const json = JSON.parse(JSON.stringify(persistDashboard(h, ui)));
  assert.deepEqual([json.steps.crossEntropy, json.steps.loss, json.steps.layers[0].overflowRate], [[null], [2.5], [null]]);
  const g = restoreDashboard(json)?.history;
  assert.ok(g);
  assert.deepEqual([g.trainCrossEntropy, g.trainLoss, g.overflow[0], g.valCrossEntropy], [[], [{ x: 1, y: 2.5 }], [], []]);
  assert.deepEqual(g.loadCv[0], [{ x: 1, y: 0.5 }]);
  assert.deepEqual(g.rows[0].layers[0]?.shares, [0.75, 0.25]);
  assert.equal(g.validation[0].loss, 2);
  assert.deepEqual([...g.gate], [['overflow_expert1', [{ x: 1, y: 12.5 }]]], "a trainer's gate figures come back");
});
