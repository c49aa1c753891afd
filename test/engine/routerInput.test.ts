import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRouterInput, routerInputSpread } from '../../engine/analysis/routerInput';

test('router input spread, by hand: three tokens around a common direction, two experts', () => {
  // x = [2, 0], [2, 1], [2, -1]: mean [2, 0], |mean|² = 4; mean |x|² = (4 + 5 + 5) / 3, so 4 / (14/3) = 6/7.
  // Logits [1, 3], [2, 2], [0, 4]: mean [1, 3], std over experts 1; the tokens' residuals [0, 0], [1, -1], [-1, 1]
  // have std 0, 1, 1: mean 2/3.
  const s = routerInputSpread({ sum: Float64Array.from([6, 0]), energy: 14, logits: Float32Array.from([1, 3, 2, 2, 0, 4]), numExperts: 2 });
  assert.ok(Math.abs(s.commonShare - 6 / 7) < 1e-12, String(s.commonShare));
  assert.ok(Math.abs(s.commonLogitStd - 1) < 1e-12, String(s.commonLogitStd));
  assert.ok(Math.abs(s.tokenLogitStd - 2 / 3) < 1e-7, String(s.tokenLogitStd));
  assert.equal(describeRouterInput(s), "Router input: 85.7% of its energy is common to all tokens · logits' spread over experts 0.667 between tokens, 1.000 shared by all");
});

test('router input spread: tokens symmetric around the origin share nothing; identical tokens share everything', () => {
  const apart = routerInputSpread({ sum: Float64Array.from([0, 0]), energy: 2, logits: Float32Array.from([1, -1, -1, 1]), numExperts: 2 });
  assert.deepEqual(apart, { commonShare: 0, commonLogitStd: 0, tokenLogitStd: 1 });
  const same = routerInputSpread({ sum: Float64Array.from([3, 6]), energy: 15, logits: Float32Array.from([0.5, -0.5, 0.5, -0.5, 0.5, -0.5]), numExperts: 2 });
  assert.ok(Math.abs(same.commonShare - 1) < 1e-12);
  assert.equal(same.tokenLogitStd, 0);
  assert.equal(same.commonLogitStd, 0.5);
  assert.deepEqual(routerInputSpread({ sum: new Float64Array(2), energy: 0, logits: new Float32Array(0), numExperts: 2 }), { commonShare: 0, commonLogitStd: 0, tokenLogitStd: 0 }, 'no token: zeros, not NaN');
});
