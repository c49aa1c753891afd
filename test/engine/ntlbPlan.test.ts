import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planNoTokenLeftBehind } from '../../engine/model/ntlbPlan';
import { layerRouting } from '../../engine/model/stats';
import { layerMetrics, layerMetricsSchema } from '../../engine/train/metrics';
import { randomProbs } from './routingCases';

// 6 tokens, 3 experts, 2 slots each; token 5 is padding (it would prefer expert 0 most of all).
// Every real token prefers expert 0; token 3 ties experts 0 and 1 (the lower index wins).
// prettier-ignore
const probs = Float32Array.from([
  0.6, 0.3, 0.1, // t0: 0 > 1 > 2
  0.5, 0.2, 0.3, // t1: 0 > 2 > 1
  0.7, 0.2, 0.1, // t2: 0 > 1 > 2
  0.4, 0.4, 0.2, // t3: 0 = 1 > 2
  0.5, 0.4, 0.1, // t4: 0 > 1 > 2
  0.9, 0.05, 0.05, // t5: padding
]);
const mask = Float32Array.from([1, 1, 1, 1, 1, 0]);

test('ntlb: overflow goes to the next choice with a free slot, round by round', () => {
  const plan = planNoTokenLeftBehind(probs, mask, 6, 3, 2);
  // First choices: t0, t1 take expert 0's two slots; t2, t3, t4 overflow (positions 2, 3, 4).
  // Round 1 (second choices): t2 -> 1 (slot 0), t3 -> 1 (slot 1), t4 -> 1 is full now.
  // Round 2 (third choices): t4 -> 2 (slot 0).
  assert.deepEqual(Array.from(plan.expertIndex), [0, 0, 1, 1, 2, -1]);
  assert.deepEqual(Array.from(plan.position), [0, 1, 0, 1, 0, -1]);
  assert.deepEqual(Array.from(plan.kept), [1, 1, 1, 1, 1, 0]);
  assert.deepEqual(Array.from(plan.routedPerExpert), [5, 0, 0]); // first choices
  assert.deepEqual(Array.from(plan.keptPerExpert), [2, 2, 1]);
  assert.deepEqual(Array.from(plan.keptAtChoice!), [2, 2, 1]);
  assert.equal(plan.dropped, 0);
  assert.deepEqual(Array.from(plan.dispatchIdx), [0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(plan.combineIdx), [0, 1, 2, 3, 4, -1]);
});

test('ntlb: ntlbMaxTries = 2 stops after the second choice, and the rest are dropped', () => {
  const plan = planNoTokenLeftBehind(probs, mask, 6, 3, 2, 2);
  assert.deepEqual(Array.from(plan.expertIndex), [0, 0, 1, 1, 0, -1]); // t4 keeps its first choice, dropped
  assert.deepEqual(Array.from(plan.position), [0, 1, 0, 1, 4, -1]);
  assert.deepEqual(Array.from(plan.kept), [1, 1, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(plan.keptAtChoice!), [2, 2]);
  assert.equal(plan.dropped, 1);
  assert.deepEqual(Array.from(plan.combineIdx), [0, 1, 2, 3, -1, -1]);
});

test('ntlb: with one try it is top-1 routing', () => {
  const plan = planNoTokenLeftBehind(probs, mask, 6, 3, 2, 1);
  assert.deepEqual(Array.from(plan.expertIndex), [0, 0, 0, 0, 0, -1]);
  assert.deepEqual(Array.from(plan.kept), [1, 1, 0, 0, 0, 0]);
  assert.equal(plan.dropped, 3);
});

/** The rule written the obvious way: a list of tokens per expert, and a list of the dropped. */
function reference(p: Float32Array, m: Float32Array, n: number, e: number, capacity: number, tries: number) {
  const rank = (t: number) =>
    Array.from({ length: e }, (_, i) => i).sort((a, b) => p[t * e + b] - p[t * e + a] || a - b);
  const slots: number[][] = Array.from({ length: e }, () => []);
  let waiting: number[] = [];
  for (let t = 0; t < n; t++) {
    if (!m[t]) continue;
    const first = rank(t)[0];
    if (slots[first].length < capacity) slots[first].push(t);
    else waiting.push(t);
  }
  for (let r = 1; r < tries; r++) {
    waiting = waiting.filter((t) => {
      const ex = rank(t)[r];
      if (slots[ex].length >= capacity) return true;
      slots[ex].push(t);
      return false;
    });
  }
  return { slots, dropped: waiting };
}

test('ntlb agrees with the slow reference on random cases with ties and padding', () => {
  for (let c = 0; c < 300; c++) {
    const { probs: p, mask: m, n, e } = randomProbs(c);
    const capacity = 1 + (c % 4);
    const tries = 1 + (c % e);
    const plan = planNoTokenLeftBehind(p, m, n, e, capacity, tries);
    const ref = reference(p, m, n, e, capacity, tries);
    const slots: number[][] = Array.from({ length: e }, () => []);
    for (let t = 0; t < n; t++) if (plan.kept[t]) slots[plan.expertIndex[t]][plan.position[t]] = t;
    assert.deepEqual(slots, ref.slots, `case ${c}: tokens per expert, in slot order`);
    assert.equal(plan.dropped, ref.dropped.length, `case ${c}: dropped`);
    assert.equal(Array.from(plan.keptAtChoice!).reduce((s, k) => s + k, 0) + plan.dropped, m.reduce((s, x) => s + x, 0));
  }
});

test('ntlb: the step metrics carry the re-routed counts by choice and the still dropped', () => {
  const m = layerMetrics(layerRouting('encoder.block.1', probs, planNoTokenLeftBehind(probs, mask, 6, 3, 2, 2)));
  assert.deepEqual(layerMetricsSchema.parse(m).keptAtChoice, [2, 2]);
  assert.equal(m.dropped, 1);
  assert.equal(m.overflowRate, 1 / 5);
  assert.equal(m.expertsPerToken, undefined);
});
