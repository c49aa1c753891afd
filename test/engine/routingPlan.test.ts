import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expertCapacity, planTopK } from '../../engine/model/routingPlan';

test('expert capacity = ceil(tokens / experts * factor), at least one slot', () => {
  assert.equal(expertCapacity(2048, 32, 1.25), 80);
  assert.equal(expertCapacity(10, 4, 1.25), 4); // 3.125 rounds up
  assert.equal(expertCapacity(8, 8, 1.0), 1);
  assert.equal(expertCapacity(3, 8, 1.0), 1); // fewer tokens than experts still gives a slot
  assert.equal(expertCapacity(16, 4, 0.5), 2);
  assert.equal(expertCapacity(12, 4, 1.0), 3); // exact division does not round up
  assert.equal(expertCapacity(0, 4, 1.25), 0);
});

// 5 tokens, 2 experts: tokens 0, 1, 3, 4 prefer expert 0; token 2 prefers expert 1.
const probs = Float32Array.from([0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.6, 0.4, 0.55, 0.45]);

test('top-1: tokens claim slots in order and the ones past capacity are dropped', () => {
  const plan = planTopK(probs, null, 5, 2, 1, 2);
  assert.deepEqual(Array.from(plan.expertIndex), [0, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(plan.position), [0, 1, 0, 2, 3]);
  assert.deepEqual(Array.from(plan.kept), [1, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(plan.routedPerExpert), [4, 1]);
  assert.deepEqual(Array.from(plan.keptPerExpert), [2, 1]);
  // Dispatched rows are grouped by expert in slot order; dropped tokens combine from nothing.
  assert.deepEqual(Array.from(plan.dispatchIdx), [0, 1, 2]);
  assert.deepEqual(Array.from(plan.combineIdx), [0, 1, 2, -1, -1]);
});

test('top-1: padding tokens are not routed and claim no slot', () => {
  const plan = planTopK(probs, Float32Array.from([1, 0, 1, 1, 1]), 5, 2, 1, 2);
  assert.deepEqual(Array.from(plan.expertIndex), [0, -1, 1, 0, 0]);
  assert.deepEqual(Array.from(plan.kept), [1, 0, 1, 1, 0]);
  assert.deepEqual(Array.from(plan.combineIdx), [0, -1, 2, 1, -1]);
});

test('top-2: second choices queue behind every first choice of their expert', () => {
  const plan = planTopK(probs, null, 5, 2, 2, 4);
  // Second choices: tokens 0, 1, 3, 4 -> expert 1 (after token 2's first choice); token 2 -> expert 0.
  assert.deepEqual(Array.from(plan.expertIndex), [0, 0, 1, 0, 0, 1, 1, 0, 1, 1]);
  assert.deepEqual(Array.from(plan.position), [0, 1, 0, 2, 3, 1, 2, 4, 3, 4]);
  assert.deepEqual(Array.from(plan.kept), [1, 1, 1, 1, 1, 1, 1, 0, 1, 0]);
  assert.deepEqual(Array.from(plan.keptPerExpert), [4, 4]);
  assert.deepEqual(Array.from(plan.dispatchIdx), [0, 1, 3, 4, 2, 5, 6, 8]);
});
