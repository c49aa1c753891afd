import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleExperts } from '../../engine/model/exploration';
import { planTopK } from '../../engine/model/routingPlan';
import { randomProbs } from './routingCases';
import { randomValues } from './setup';

// 6 tokens, 3 experts; token 5 is padding.
// prettier-ignore
const probs = Float32Array.from([
  0.6, 0.3, 0.1,
  0.5, 0.2, 0.3,
  0.7, 0.2, 0.1,
  0.4, 0.4, 0.2,
  0.5, 0.4, 0.1,
  0.0, 1.0, 0.0,
]);
const mask = Float32Array.from([1, 1, 1, 1, 1, 0]);

/** A fixed list of draws, and how many were taken. */
function draws(values: number[]) {
  let i = 0;
  return { next: () => values[i++], taken: () => i };
}

test('sample: inverse CDF over each row; padding draws nothing', () => {
  // t0: 0.65 passes 0.6 -> expert 1; t1: 0.1 -> 0; t2: 0.95 passes 0.9 -> 2;
  // t3: 0.5 passes 0.4, not 0.8 -> 1 (the tie does not matter when sampling); t4: 0.3 -> 0.
  const u = draws([0.65, 0.1, 0.95, 0.5, 0.3, 0.99]);
  const chosen = sampleExperts(probs, mask, 6, 3, u.next);
  assert.deepEqual(Array.from(chosen), [1, 0, 2, 1, 0, -1]);
  assert.equal(u.taken(), 5);
  // An expert of probability 0 is never drawn, even at u = 0.
  assert.deepEqual(Array.from(sampleExperts(Float32Array.from([0, 1, 0]), null, 1, 3, () => 0)), [1]);
});

test('sample: the drawn experts claim capacity in token order, overflow dropped', () => {
  const drawn = Int32Array.from([1, 0, 2, 1, 0, -1]);
  const plan = planTopK(probs, mask, 6, 3, 1, 1, drawn);
  assert.deepEqual(Array.from(plan.expertIndex), [1, 0, 2, 1, 0, -1]);
  assert.deepEqual(Array.from(plan.position), [0, 0, 0, 1, 1, -1]);
  assert.deepEqual(Array.from(plan.kept), [1, 1, 1, 0, 0, 0]);
  assert.equal(plan.dropped, 2);
  // Top-2 with a drawn first choice: the second is the most probable of the others.
  const two = planTopK(probs, mask, 6, 3, 2, 4, drawn);
  assert.deepEqual(Array.from(two.expertIndex.slice(6)), [0, 2, 0, 0, 1, -1]);
});

test('sample agrees with the slow reference, and its frequencies follow the probabilities', () => {
  for (let c = 0; c < 200; c++) {
    const { probs: p, mask: m, n, e } = randomProbs(c);
    const u = randomValues(n, c + 7).map((v) => (v + 1) / 2);
    let i = 0;
    const got = sampleExperts(p, m, n, e, () => u[i++]);
    let j = 0;
    for (let t = 0; t < n; t++) {
      if (!m[t]) {
        assert.equal(got[t], -1);
        continue;
      }
      const row = Array.from(p.slice(t * e, t * e + e));
      const cdf = row.map((_, k) => row.slice(0, k + 1).reduce((s, x) => s + x, 0));
      const target = u[j++] * cdf[e - 1];
      const want = cdf.findIndex((x) => target < x);
      assert.equal(got[t], want < 0 ? e - 1 : want, `case ${c}, token ${t}`);
    }
  }
  const row = Float32Array.from([0.5, 0.3, 0.2]);
  const counts = [0, 0, 0];
  const u = randomValues(20000, 3);
  let i = 0;
  for (let t = 0; t < 20000; t++) counts[sampleExperts(row, null, 1, 3, () => (u[i++] + 1) / 2)[0]]++;
  counts.forEach((k, ex) => assert.ok(Math.abs(k / 20000 - row[ex]) < 0.02, `expert ${ex}: ${k / 20000}`));
});
