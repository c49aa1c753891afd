import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellIntensity, heatmapCells } from '../../webview/dashboard/heatmap';
import { RunHistory } from '../../webview/dashboard/history';
import { commBars, commShare, findMeshLayer, meshGrid } from '../../webview/dashboard/mesh';
import { LAYERS, layer, mesh, step, summary } from './fixtures';

test('heatmap: one cell per expert per step while steps fit the columns', () => {
  const h = RunHistory.fromInit(summary(), [step(1), step(2), step(5)], 3);
  const m = heatmapCells(h.rows, 0, 100);
  assert.equal(m.experts, 4);
  assert.equal(m.bucket, 1);
  assert.equal(m.columns, 3);
  assert.equal(m.cells.length, 12);
  assert.deepEqual(
    m.cells.slice(0, 4).map((c) => [c.x0, c.x1, c.y, c.v]),
    [
      [1, 2, 0, 0.5],
      [1, 2, 1, 0.25],
      [1, 2, 2, 0.125],
      [1, 2, 3, 0.125],
    ],
  );
  assert.equal(m.cells[8].x0, 5);
  assert.equal(m.maxShare, 0.5);
  assert.equal(m.firstStep, 1);
  assert.equal(m.lastStep, 5);
});

test('heatmap: many steps are averaged into at most maxColumns step ranges', () => {
  const h = new RunHistory(summary());
  for (let s = 0; s < 1000; s++) h.addStep(step(s, { layers: [layer(LAYERS[0], s < 500 ? [8, 0, 0, 0] : [0, 8, 0, 0])] }));
  const m = heatmapCells(h.rows, 0, 120);
  assert.ok(m.columns <= 120);
  assert.equal(m.bucket, 9);
  const byCol = new Map<number, number[]>();
  for (const c of m.cells) byCol.set(c.x0, [...(byCol.get(c.x0) ?? []), c.v]);
  for (const [x0, vs] of byCol) {
    assert.ok(Math.abs(vs.reduce((s, v) => s + v, 0) - 1) < 1e-9, `shares of column ${x0} sum to 1`);
  }
  // The column holding steps 495..503 mixes the two regimes: 5 steps on expert 0, 4 on expert 1.
  const mixed = m.cells.filter((c) => c.x0 === 495);
  assert.deepEqual(
    mixed.map((c) => +c.v.toFixed(4)),
    [0.5556, 0.4444, 0, 0],
  );
  assert.equal(mixed[0].n, 9);
  assert.equal(mixed[0].lastStep, 503);
  assert.equal(m.cells.at(-1)!.lastStep, 999);
});

test('heatmap: no data, an unknown layer, and intensities', () => {
  assert.equal(heatmapCells([], 0).cells.length, 0);
  const h = RunHistory.fromInit(summary(), [step(1)], 1);
  assert.equal(heatmapCells(h.rows, 7).cells.length, 0);
  assert.equal(heatmapCells(h.rows, -1).cells.length, 0);
  const balanced = new RunHistory(summary());
  balanced.addStep(step(1, { layers: [layer(LAYERS[0], [2, 2, 2, 2])] }));
  assert.equal(heatmapCells(balanced.rows, 0).maxShare, 0.25);
  assert.equal(cellIntensity(0.25, 0.5), 0.5);
  assert.equal(cellIntensity(2, 0.5), 1);
  assert.equal(cellIntensity(0.1, 0), 0);
  assert.equal(cellIntensity(NaN, 1), 0);
});

test('mesh grid: devices of the selected layer at their (data, model) place', () => {
  const m = mesh(0.75);
  const g = meshGrid(m, 'decoder.block.1');
  assert.ok(g);
  assert.equal(g.layer.layer, 'decoder.block.1');
  assert.equal(g.rows, 2);
  assert.equal(g.cols, 2);
  assert.deepEqual(
    g.cells.map((c) => [c.y, c.x, c.v]),
    [
      [0, 0, 0.75],
      [0, 1, 0.75],
      [1, 0, 0.75],
      [1, 1, 0.75],
    ],
  );
  assert.equal(findMeshLayer(m, 'nope', 1)?.layer, 'decoder.block.1');
  assert.equal(findMeshLayer(m, null, 9)?.layer, 'encoder.block.1');
  assert.equal(meshGrid({ ...m, layers: [] }, null), null);
});

test('communication bars per layer and the share of time communicating', () => {
  const m = mesh();
  const b = commBars(m);
  assert.deepEqual(b.labels, LAYERS);
  assert.deepEqual(b.allToAllBytes, [1000, 2000]);
  assert.deepEqual(b.computeTime, [1e-6, 1e-6]);
  assert.deepEqual(b.commTime, [3e-6, 3e-6]);
  assert.equal(commShare(m), 0.75);
  assert.equal(commShare({ ...m, layers: [] }), 0);
});
