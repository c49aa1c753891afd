// The confirmation's time estimate side by side (runs in grid order, each on the first free lane), and when runs may go side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { laneSchedule } from '../../engine/experiments/estimate';
import { Experiment } from '../../engine/experiments/experiment';

test('laneSchedule: one lane adds the runs up; two lanes end when the busier one ends', () => {
  assert.equal(laneSchedule([2, 2, 2], 1), 6);
  assert.equal(laneSchedule([1, 1, 1], 2), 2);
  // 3 | 1 then 2 on the lane that freed first: both end at 3.
  assert.equal(laneSchedule([3, 1, 2], 2), 3);
  // 1 | 1 then 5 on the first lane: 6, not the 5 + 1 a balanced split would give.
  assert.equal(laneSchedule([1, 1, 5], 2), 6);
  assert.equal(laneSchedule([5], 2), 5, 'more lanes than runs');
});

test('parallelRefusal: runs side by side on wasm or cpu; on tensorflow only one at a time, and the reason says why', () => {
  assert.equal(Experiment.parallelRefusal('wasm', 2), null);
  assert.equal(Experiment.parallelRefusal('cpu', 8), null);
  assert.equal(Experiment.parallelRefusal('tensorflow', 1), null);
  assert.match(Experiment.parallelRefusal('tensorflow', 2) ?? '', /one wasm thread each; the tensorflow backend already uses every core/);
});
