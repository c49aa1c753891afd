import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planExpertChoice } from '../../engine/model/expertChoicePlan';
import { expertCapacity } from '../../engine/model/routingPlan';
import { layerRouting } from '../../engine/model/stats';
import { layerMetrics, layerMetricsSchema } from '../../engine/train/metrics';
import { randomProbs } from './routingCases';

// 6 tokens, 3 experts; token 5 is padding, and would top every column if it were real.
// prettier-ignore
const probs = Float32Array.from([
  0.55, 0.45, 0.0, // t0
  0.5, 0.2, 0.3, // t1
  0.7, 0.2, 0.1, // t2
  0.4, 0.4, 0.2, // t3
  0.5, 0.4, 0.1, // t4: ties t3 in expert 1's column, and loses (the lower index wins)
  0.9, 0.95, 0.95, // t5: padding
]);
const mask = Float32Array.from([1, 1, 1, 1, 1, 0]);

test('expert choice: each expert takes its top-C tokens; a token gets 0..E experts', () => {
  const capacity = expertCapacity(5, 3, 1.0); // C = ceil(5 real tokens × 1.0 / 3) = 2
  assert.equal(capacity, 2);
  const plan = planExpertChoice(probs, mask, 6, 3, capacity);
  // Expert 0 takes t2 (0.7), t0 (0.55); expert 1 takes t0 (0.45), t3 (0.4, beats t4's tie);
  // expert 2 takes t1 (0.3), t3 (0.2). So t0 and t3 get two experts, t1 and t2 one, t4 none.
  assert.equal(plan.k, 2);
  // Choice 0 is the token's most probable taker (t4: its argmax, not kept); choice 1 its second.
  assert.deepEqual(Array.from(plan.expertIndex), [0, 2, 0, 1, 0, -1, /* choice 1 */ 1, -1, -1, 2, -1, -1]);
  assert.deepEqual(Array.from(plan.position), [1, 0, 0, 1, -1, -1, /* choice 1 */ 0, -1, -1, 1, -1, -1]);
  assert.deepEqual(Array.from(plan.kept), [1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(plan.keptPerExpert), [2, 2, 2]);
  assert.deepEqual(Array.from(plan.routedPerExpert), [5, 0, 0]); // argmax preference (t3's tie -> 0)
  assert.deepEqual(Array.from(plan.expertsPerToken!), [1, 2, 2, 0]);
  assert.equal(plan.dropped, 1); // t4, taken by no expert
  // Rows grouped by expert in the order each expert picked: e0 [t2, t0], e1 [t0', t3], e2 [t1, t3'].
  assert.deepEqual(Array.from(plan.dispatchIdx), [2, 0, 6, 3, 1, 9]);
  assert.deepEqual(Array.from(plan.combineIdx), [1, 4, 0, 3, -1, -1, 2, -1, -1, 5, -1, -1]);
});

test('expert choice: capacity above the real tokens takes every token once per expert', () => {
  const plan = planExpertChoice(probs, mask, 6, 3, 9);
  assert.equal(plan.k, 3);
  assert.deepEqual(Array.from(plan.keptPerExpert), [5, 5, 5]);
  assert.deepEqual(Array.from(plan.expertsPerToken!), [0, 0, 0, 5]);
  assert.equal(plan.dropped, 0);
});

/** The rule written the obvious way: a token is taken when fewer than C tokens beat it in the column. */
function reference(p: Float32Array, m: Float32Array, n: number, e: number, capacity: number): boolean[][] {
  const taken = Array.from({ length: n }, () => Array<boolean>(e).fill(false));
  for (let ex = 0; ex < e; ex++) {
    for (let t = 0; t < n; t++) {
      if (!m[t]) continue;
      let beaten = 0;
      for (let u = 0; u < n; u++) {
        if (m[u] && (p[u * e + ex] > p[t * e + ex] || (p[u * e + ex] === p[t * e + ex] && u < t))) beaten++;
      }
      taken[t][ex] = beaten < capacity;
    }
  }
  return taken;
}

test('expert choice agrees with the slow reference on random cases with ties and padding', () => {
  for (let c = 0; c < 300; c++) {
    const { probs: p, mask: m, n, e } = randomProbs(c);
    const capacity = 1 + (c % 4);
    const plan = planExpertChoice(p, m, n, e, capacity);
    const taken = Array.from({ length: n }, () => Array<boolean>(e).fill(false));
    for (let a = 0; a < plan.k * n; a++) if (plan.kept[a]) taken[a % n][plan.expertIndex[a]] = true;
    const ref = reference(p, m, n, e, capacity);
    assert.deepEqual(taken, ref, `case ${c}: who took whom`);
    const none = ref.filter((row, t) => m[t] && row.every((x) => !x)).length;
    assert.equal(plan.dropped, none, `case ${c}: dropped`);
    assert.equal(plan.expertsPerToken![0], none);
    // Each token's choices are its takers from most to least probable.
    for (let t = 0; t < n; t++) {
      const gates = Array.from({ length: plan.k }, (_, j) => j * n + t).filter((a) => plan.kept[a]).map((a) => p[t * e + plan.expertIndex[a]]);
      assert.deepEqual(gates, [...gates].sort((x, y) => y - x), `case ${c}: token ${t}'s choices out of order`);
    }
  }
});

test('expert choice: the step metrics carry the histogram, and overflow is the share taken by none', () => {
  const m = layerMetrics(layerRouting('encoder.block.1', probs, planExpertChoice(probs, mask, 6, 3, 2)));
  assert.deepEqual(layerMetricsSchema.parse(m).expertsPerToken, [1, 2, 2, 0]);
  assert.equal(m.assignments, 5); // expert choice: one per real token, whatever it got
  assert.equal(m.overflowRate, 1 / 5);
  assert.equal(m.keptAtChoice, undefined);
});
