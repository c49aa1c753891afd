import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ForwardContext } from '../../engine/model/context';
import { dispatchOneHot, dispatchPerExpert } from '../../engine/model/dispatch';
import { ParamStore } from '../../engine/model/params';
import { SparseMlp } from '../../engine/model/sparseMlp';
import { namedGradients } from '../../engine/train/adam';
import { maxAbsDiff, randomValues, testConfig, useTestBackend } from './setup';

before(useTestBackend);

// ntlb at 0.75: 40 tokens, 32 slots, so some tokens are re-routed and some still dropped.
for (const [router, factor] of [['switch', 1.0], ['top2', 1.0], ['ntlb', 0.75], ['expertChoice', 1.0]] as const) {
  test(`${router}: per-expert dispatch equals the one-hot oracle on outputs and every gradient`, () => {
    const config = testConfig({ router, numExperts: 4, capacityFactor: factor, evalCapacityFactor: factor });
    const params = new ParamStore(7, 1.0); // a larger init spreads the routing, so some tokens drop
    const layer = new SparseMlp(config, params, 'layer');
    const x = tf.tensor2d(randomValues(40 * 16, 3), [40, 16]);
    const names = [...params.vars.keys()];
    const run = (oneHot: boolean) =>
      namedGradients(params.vars, () => {
        const ctx = new ForwardContext(false);
        const r = layer.router.route(x, null, ctx);
        const y = oneHot
          ? dispatchOneHot(x, r.plan, r.gates, layer.experts.map((e) => e.wi as tf.Tensor2D), layer.experts.map((e) => e.wo as tf.Tensor2D))
          : dispatchPerExpert(x, r.plan, r.gates, (e, xe) => layer.experts[e].forward(xe, ctx));
        // A loss that weighs every output element differently, so any misplaced row shows.
        return tf.sum(tf.mul(y, tf.tensor2d(randomValues(40 * 16, 11), [40, 16]))) as tf.Scalar;
      });
    const fast = run(false);
    const oracle = run(true);
    const plan = layer.router.route(x, null, new ForwardContext(false)).plan;
    assert.ok(plan.dropped > 0, 'the example must drop tokens to test dropping');
    if (router === 'ntlb') assert.ok(plan.keptAtChoice![1] > 0, 'the example must re-route tokens');
    if (router === 'expertChoice') assert.ok(plan.k > 1, 'the example must give some token several experts');
    assert.ok(maxAbsDiff(fast.value, oracle.value) < 1e-4);
    assert.ok(fast.grads.has('layer.mlp.router.classifier.weight'), 'the router must get a gradient');
    assert.ok(fast.grads.size > names.length / 2, 'most weights must get a gradient');
    for (const name of names) {
      const a = fast.grads.get(name);
      const b = oracle.grads.get(name);
      assert.equal(a === undefined, b === undefined, `${name}: gradient present in one only`);
      if (a && b) assert.ok(maxAbsDiff(a, b) < 1e-4, `${name}: gradients differ by ${maxAbsDiff(a, b)}`);
    }
    params.dispose();
  });
}

test('a collapsed router (every token to one expert) still dispatches and back-propagates', () => {
  const params = new ParamStore(2, 1.0);
  const layer = new SparseMlp(testConfig(), params, 'layer');
  const router = params.vars.get('layer.mlp.router.classifier.weight') as tf.Variable;
  router.assign(tf.zerosLike(router)); // uniform probabilities: the first expert wins every tie
  const x = tf.tensor2d(randomValues(16 * 16, 5), [16, 16]);
  let kept: number[] = [];
  const { value, grads } = namedGradients(params.vars, () => {
    const out = layer.forward(x, null, new ForwardContext(false));
    kept = out.routing.kept;
    return tf.sum(tf.square(out.y)) as tf.Scalar;
  });
  assert.deepEqual(kept, [8, 0, 0, 0]); // capacity 16 / 4 * 2.0 (eval factor)
  assert.ok(Number.isFinite(value.dataSync()[0]));
  assert.ok(grads.has('layer.mlp.experts.expert_0.wi.weight'));
  assert.ok(!grads.has('layer.mlp.experts.expert_1.wi.weight'), 'an expert without tokens gets no gradient');
  params.dispose();
});

test('the router and every expert that received tokens get non-zero gradients', () => {
  const config = testConfig({ numExperts: 4 });
  const params = new ParamStore(5, 1.0);
  const layer = new SparseMlp(config, params, 'layer');
  const x = tf.tensor2d(randomValues(64 * 16, 9), [64, 16]);
  let kept: number[] = [];
  const { grads } = namedGradients(params.vars, () => {
    const out = layer.forward(x, null, new ForwardContext(true, 1));
    kept = out.routing.kept;
    return tf.sum(tf.square(out.y)) as tf.Scalar;
  });
  const norm = (name: string) => {
    const g = grads.get(name);
    assert.ok(g, `${name} got no gradient`);
    return tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]);
  };
  assert.ok(norm('layer.mlp.router.classifier.weight') > 0, 'router gradient is zero');
  kept.forEach((k, e) => {
    if (k === 0) return;
    assert.ok(norm(`layer.mlp.experts.expert_${e}.wi.weight`) > 0, `expert ${e} wi gradient is zero`);
    assert.ok(norm(`layer.mlp.experts.expert_${e}.wo.weight`) > 0, `expert ${e} wo gradient is zero`);
  });
  assert.ok(kept.filter((k) => k > 0).length >= 2, 'the example must use several experts');
  params.dispose();
});
