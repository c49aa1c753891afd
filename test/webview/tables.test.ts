import assert from 'node:assert/strict';
import { test } from 'node:test';
import { heatmapCells } from '../../webview/dashboard/heatmap';
import { RunHistory } from '../../webview/dashboard/history';
import { commBars, meshGrid } from '../../webview/dashboard/mesh';
import { commTable, heatmapTable, meshTable, seriesTable, summarize } from '../../webview/dashboard/tables';
import { mesh, step, summary } from './fixtures';

const pts = (...xy: [number, number][]) => xy.map(([x, y]) => ({ x, y }));

test('summary line of a series', () => {
  assert.equal(summarize({ label: 'Loss', points: [] }), 'Loss: no data');
  assert.equal(summarize({ label: 'Loss', points: pts([5, 2]) }), 'Loss: 1 point (step 5); min 2, max 2, last 2 at step 5');
  assert.equal(
    summarize({ label: 'Loss', points: pts([0, 3], [1000, 1.5], [2000, 2.25]) }),
    'Loss: 3 points (steps 0–2,000); min 1.5, max 3, last 2.25 at step 2,000',
  );
});

test('series table: the last N steps of any series, blanks where a series has no point', () => {
  const t = seriesTable('Loss by step', [
    { label: 'Training', points: pts([1, 9], [2, 8], [3, 7], [4, 6]) },
    { label: 'Validation', points: pts([2, 8.5], [4, 6.5]) },
  ], 3);
  assert.equal(t.caption, 'Loss by step');
  assert.deepEqual(t.columns, ['Step', 'Training', 'Validation']);
  assert.deepEqual(t.rows, [
    ['2', '8', '8.5'],
    ['3', '7', '–'],
    ['4', '6', '6.5'],
  ]);
  assert.equal(t.summary.length, 2);
  const long = seriesTable('x', [{ label: 'a', points: Array.from({ length: 10_000 }, (_, i) => ({ x: i, y: i })) }]);
  assert.equal(long.rows.length, 50);
  assert.equal(long.rows[49][0], '9,999');
  assert.match(long.summary[0], /10,000 points/);
});

test('heatmap, mesh and communication tables', () => {
  const h = RunHistory.fromInit(summary(), [step(1), step(2)], 2);
  const ht = heatmapTable(heatmapCells(h.rows, 0), 'encoder.block.1');
  assert.deepEqual(ht.columns, ['Steps', 'Expert 0', 'Expert 1', 'Expert 2', 'Expert 3']);
  assert.deepEqual(ht.rows[0], ['1', '50.0%', '25.0%', '12.5%', '12.5%']);
  assert.match(ht.summary[0], /expert 0 takes the most: 50.0% \(balanced: 25.0%\)/);
  assert.deepEqual(heatmapTable(heatmapCells([], 0), 'x').rows, []);

  const g = meshGrid(mesh(0.5), 'encoder.block.1')!;
  const mt = meshTable(g, 7);
  assert.equal(mt.rows.length, 4);
  assert.deepEqual(mt.rows[1].slice(0, 5), ['data 0, model 1', '0, 1', '50.0%', '3 / 6', '1']);
  assert.match(mt.caption, /encoder.block.1 at step 7 \(2 data × 2 model\)/);

  const ct = commTable(commBars(mesh()), 7);
  assert.deepEqual(ct.rows[1], ['decoder.block.1', '2.00 KB', '1 µs', '3 µs']);
  assert.match(ct.summary[0], /communication is 75.0%/);
});
