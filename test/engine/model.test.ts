import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { FeedForwardLayer, newSparseReport } from '../../engine/model/block';
import { ConfigError, parseConfig, PRESETS } from '../../engine/model/config';
import { ForwardContext } from '../../engine/model/context';
import { SwitchTransformer, type Seq2SeqBatch } from '../../engine/model/model';
import { roundToBf16 } from '../../engine/model/ops';
import { ParamStore } from '../../engine/model/params';
import { SparseMlp } from '../../engine/model/sparseMlp';
import { Adam, namedGradients } from '../../engine/train/adam';
import { randomValues, testConfig, useTestBackend } from './setup';

before(useTestBackend);

test('a token its expert dropped leaves the feed-forward layer equal to its residual', () => {
  const config = testConfig({ capacityFactor: 0.5, evalCapacityFactor: 0.5 });
  const params = new ParamStore(3, 1.0);
  const layer = new FeedForwardLayer(config, params, 'ff', true);
  const x = tf.tensor2d(randomValues(32 * 16, 4), [32, 16]);
  const report = newSparseReport();
  const y = layer.forward(x, new Float32Array(32).fill(1), new ForwardContext(false), report);
  const dropped = report.routing[0].tokens.dropped;
  assert.ok(dropped.some(Boolean), 'capacity factor 0.5 must drop tokens');
  const xs = x.arraySync();
  const ys = y.arraySync();
  dropped.forEach((d, t) => {
    if (d) assert.deepEqual(ys[t], xs[t], `dropped token ${t} changed`);
    else assert.notDeepEqual(ys[t], xs[t], `kept token ${t} was not processed`);
  });
  params.dispose();
});

test('router jitter perturbs the router only in training', () => {
  const config = testConfig({ routerJitterNoise: 0.1 });
  const params = new ParamStore(1, 1.0);
  const layer = new SparseMlp(config, params, 'layer');
  const x = tf.tensor2d(randomValues(16 * 16, 8), [16, 16]);
  const logits = (ctx: ForwardContext) => layer.router.route(x, null, ctx).logits.arraySync();
  const clean = tf.matMul(x, params.vars.get('layer.mlp.router.classifier.weight') as tf.Tensor2D).arraySync();
  const evalA = logits(new ForwardContext(false, 1));
  const evalB = logits(new ForwardContext(false, 2));
  assert.deepEqual(evalA, evalB, 'eval routing must not depend on the seed');
  (evalA as number[][]).flat().forEach((v, i) => assert.ok(Math.abs(v - (clean as number[][]).flat()[i]) < 1e-5));
  const trainA = logits(new ForwardContext(true, 1));
  assert.notDeepEqual(trainA, evalA, 'training must jitter the router input');
  assert.deepEqual(trainA, logits(new ForwardContext(true, 1)), 'the same seed must jitter the same way');
  const noJitter = new SparseMlp({ ...config, routerJitterNoise: 0 }, new ParamStore(1, 1.0), 'layer');
  assert.deepEqual(noJitter.router.route(x, null, new ForwardContext(true, 1)).logits.arraySync(), evalA);
  params.dispose();
});

test('bfloat16 rounding: nearest, ties to even, specials kept', () => {
  const bits = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0];
  const cases: [number, number][] = [
    [1.0, 1.0],
    [bits(0x3f808000), 1.0], // halfway between 1 and 1+2^-7: ties to the even 1.0
    [bits(0x3f818000), bits(0x3f820000)], // halfway between odd 0x3f81 and even 0x3f82: up
    [bits(0x3f80c000), bits(0x3f810000)], // above halfway: up
    [Math.fround(Math.PI), 3.140625],
    [-2.5, -2.5],
    [bits(0x7f7fffff), Infinity], // the largest float32 rounds past bf16's largest finite value
    [Infinity, Infinity],
    [-Infinity, -Infinity],
  ];
  const out = roundToBf16(Float32Array.from(cases.map((c) => c[0])));
  cases.forEach(([, want], i) => assert.equal(out[i], want, `case ${i}`));
  assert.ok(Number.isNaN(roundToBf16(Float32Array.from([NaN]))[0]));
  assert.ok(Object.is(roundToBf16(Float32Array.from([-0]))[0], -0));
});

function tinyBatch(vocab: number): Seq2SeqBatch {
  const b = 2;
  const te = 8;
  const td = 4;
  const ids = (n: number, seed: number) => Int32Array.from(randomValues(n, seed), (v) => 3 + Math.floor(((v + 1) / 2) * (vocab - 3)));
  const encoderMask = new Float32Array(b * te).fill(1);
  encoderMask.fill(0, te - 2, te); // the first sequence ends in padding
  return { batchSize: b, encoderLength: te, decoderLength: td, encoderIds: ids(b * te, 1), encoderMask, decoderInputIds: ids(b * td, 2), decoderTargetIds: ids(b * td, 3), decoderMask: new Float32Array(b * td).fill(1) };
}

for (const router of ['switch', 'top2', 'ntlb', 'expertChoice', 'dense'] as const) {
  test(`${router}: no tensor leaks across 20 forward/backward passes, and the loss falls`, () => {
    const model = new SwitchTransformer(testConfig({ router, dropoutRate: 0.1, expertDropoutRate: 0.2, encoderSparseStep: 1, decoderSparseStep: 1 }), 1);
    const batch = tinyBatch(64);
    const optimizer = new Adam();
    const losses: number[] = [];
    let tensors = 0;
    for (let step = 0; step < 20; step++) {
      const { value, grads } = namedGradients(model.params.vars, () => model.loss(batch, ForwardContext.forStep(1, step)).loss);
      optimizer.apply(model.params.vars, grads, 1e-2);
      losses.push(value.dataSync()[0]);
      tf.dispose([value, ...grads.values()]);
      // Adam's moments live on the host, not in tensors: the count stays put from the first step.
      const live = tf.memory().numTensors;
      if (step === 0) tensors = live;
      else assert.equal(live, tensors, `step ${step} leaked tensors`);
    }
    assert.ok(losses[19] < losses[0] * 0.8, `loss did not fall: ${losses[0]} -> ${losses[19]}`);
    optimizer.dispose();
    model.dispose();
  });
}

test('a seed gives the same weights every time, seed 0 included', () => {
  for (const seed of [0, 7]) {
    const a = new SwitchTransformer(testConfig(), seed);
    const b = new SwitchTransformer(testConfig(), seed);
    const wb = [...b.params.vars.values()];
    [...a.params.vars.values()].forEach((v, i) => assert.deepEqual(v.dataSync(), wb[i].dataSync(), `seed ${seed}, weight ${i}`));
    a.dispose();
    b.dispose();
  }
});

test('the dense baseline has the Switch model’s FLOPs per token and no router', () => {
  const sw = new SwitchTransformer(testConfig(), 1);
  const dense = new SwitchTransformer(testConfig({ router: 'dense' }), 1);
  const names = [...dense.params.vars.keys()];
  assert.ok(!names.some((n) => n.includes('router') || n.includes('expert')));
  // Each expert has the dense FFN's shape, so one expert per token costs what the dense FFN does.
  const expert = sw.params.vars.get('encoder.block.1.layer.1.mlp.experts.expert_0.wi.weight');
  assert.deepEqual(expert?.shape, dense.params.vars.get('encoder.block.1.layer.1.mlp.wi.weight')?.shape);
  sw.dispose();
  dense.dispose();
});

test('a bad config is refused with every bad field named', () => {
  assert.throws(
    () => parseConfig({ ...PRESETS.tiny, dModel: -4, router: 'top3', capacityFactor: 'big', numExperts: 1.5, bogus: 1 }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const fields = err.problems.map((p) => p.field).sort();
      assert.deepEqual(fields, ['bogus', 'capacityFactor', 'dModel', 'numExperts', 'router']);
      assert.match(err.message, /dModel: .*>0/);
      return true;
    },
  );
  assert.throws(() => parseConfig({ ...PRESETS.tiny, router: 'top2', numExperts: 1 }), /numExperts: top2 routing needs at least 2 experts/);
  assert.throws(() => parseConfig({ ...PRESETS.tiny, padTokenId: 5000 }), /padTokenId: must be below vocabSize/);
  assert.equal(parseConfig({ numExperts: 16 }, 'tiny').numExperts, 16);
  assert.throws(
    () => parseConfig({ router: 'switch', ntlbMaxTries: 9, routerExploration: 'explore' }, 'tiny'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.field).sort(), ['routerExploration']); // zod stops before the cross-field checks
      return true;
    },
  );
  assert.throws(() => parseConfig({ router: 'switch', ntlbMaxTries: 2 }, 'tiny'), /ntlbMaxTries: only the ntlb router re-routes tokens/);
  assert.throws(() => parseConfig({ router: 'ntlb', ntlbMaxTries: 9 }, 'tiny'), /ntlbMaxTries: must be at most numExperts \(8\)/);
  assert.throws(() => parseConfig({ router: 'expertChoice', routerExploration: 'sample' }, 'tiny'), /routerExploration: expertChoice/);
  // Configs written before these fields existed still load, with today's behaviour.
  const old: Record<string, unknown> = { ...PRESETS.tiny };
  delete old.routerExploration;
  delete old.routerInputDropoutRate;
  assert.equal(parseConfig(old).routerExploration, 'jitter');
});

test('router exploration: sample and inputDropout change training routing only; eval takes the argmax', () => {
  const x = tf.tensor2d(randomValues(64 * 16, 8), [64, 16]);
  const experts = (exploration: 'argmax' | 'sample' | 'inputDropout', ctx: ForwardContext) => {
    const params = new ParamStore(1, 1.0);
    const layer = new SparseMlp(testConfig({ routerExploration: exploration, routerInputDropoutRate: 0.5 }), params, 'layer');
    const plan = layer.router.route(x, null, ctx).plan;
    params.dispose();
    return Array.from(plan.expertIndex);
  };
  const argmax = experts('argmax', new ForwardContext(true, 1));
  for (const exploration of ['sample', 'inputDropout'] as const) {
    assert.deepEqual(experts(exploration, new ForwardContext(false, 1)), argmax, `${exploration}: eval must take the argmax`);
    const train = experts(exploration, new ForwardContext(true, 1));
    assert.notDeepEqual(train, argmax, `${exploration}: training must explore`);
    assert.deepEqual(experts(exploration, new ForwardContext(true, 1)), train, `${exploration}: the same seed explores the same way`);
  }
});

test('expert choice has no balance loss (the z-loss stays); its layer reports experts per token', () => {
  for (const router of ['expertChoice', 'switch'] as const) {
    const model = new SwitchTransformer(testConfig({ router }), 2);
    const out = model.loss(tinyBatch(64), new ForwardContext(true, 1));
    if (router === 'expertChoice') assert.equal(out.auxLoss.dataSync()[0], 0);
    else assert.ok(out.auxLoss.dataSync()[0] > 0, 'top-1 routing has its balance loss');
    assert.ok(out.zLoss.dataSync()[0] > 0, `${router}: the z-loss applies`);
    model.dispose();
  }
  const params = new ParamStore(4, 1.0);
  const layer = new SparseMlp(testConfig({ router: 'expertChoice' }), params, 'layer');
  const { routing } = layer.forward(tf.tensor2d(randomValues(32 * 16, 2), [32, 16]), null, new ForwardContext(true, 1));
  const hist = routing.expertsPerToken!;
  assert.equal(hist.length, 5);
  assert.equal(hist.reduce((s, k) => s + k, 0), 32);
  assert.equal(hist.reduce((s, k, c) => s + k * c, 0), 4 * 10); // 4 experts × C = ceil(32 / 4 × 1.25)
  assert.equal(routing.dropped, hist[0]);
  params.dispose();
});

test("routerInitScale sets the router classifier's init alone; unset, the router takes initScale", () => {
  const std = (v: tf.Tensor) => Math.sqrt(tf.moments(v).variance.dataSync()[0]);
  const routerStd = (over: Partial<ReturnType<typeof testConfig>>) => {
    const config = testConfig({ dModel: 64, numExperts: 16, ...over });
    const params = new ParamStore(5, config.initScale);
    new SparseMlp(config, params, 'layer');
    const s = { router: std(params.vars.get('layer.mlp.router.classifier.weight')!), expert: std(params.vars.get('layer.mlp.experts.expert_0.wi.weight')!) };
    params.dispose();
    return s;
  };
  // A truncated normal (at 2 std) has std 0.88 × sqrt(scale / fanIn); fanIn = dModel = 64.
  const paper = routerStd({});
  const wide = routerStd({ routerInitScale: 10 });
  assert.ok(Math.abs(paper.router / Math.sqrt(0.1 / 64) - 0.88) < 0.1, `router std ${paper.router} at initScale 0.1`);
  assert.ok(Math.abs(wide.router / Math.sqrt(10 / 64) - 0.88) < 0.1, `router std ${wide.router} at routerInitScale 10`);
  assert.ok(Math.abs(wide.expert - paper.expert) < 1e-9, 'the experts keep initScale');
  assert.throws(() => parseConfig({ ...PRESETS.tiny, routerInitScale: 0 }), ConfigError);
});
