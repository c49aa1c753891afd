import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Adam, adamStep } from '../../engine/train/adam';
import { adamHelperChunks } from '../../engine/wasm/adam';
import { CHUNK, CONTROL, TABLE, runClaimedChunks, type AdamKernel } from '../../engine/wasm/adamThreads';
import { optimizerStep } from '../../engine/train/replicaStep';
import type { TrainingOptions } from '../../engine/train/runConfig';
import { randomValues, useTestBackend } from './setup';

before(useTestBackend);

/** One Adam step on a scalar, by the textbook formula. */
function reference(w: number, g: number, m: number, v: number, t: number, lr: number) {
  const m2 = 0.9 * m + 0.1 * g;
  const v2 = 0.999 * v + 0.001 * g * g;
  return { w: w - (lr * (m2 / (1 - 0.9 ** t))) / (Math.sqrt(v2 / (1 - 0.999 ** t)) + 1e-8 * Math.sqrt(1 - 0.999 ** t)), m: m2, v: v2 };
}

test('Adam keeps moments per weight name and skips weights without a gradient', () => {
  const params = new Map([
    ['a', tf.variable(tf.scalar(1))],
    ['b', tf.variable(tf.scalar(2))],
  ]);
  const adam = new Adam();
  adam.apply(params, new Map([['a', tf.scalar(0.5)], ['b', tf.scalar(-3)]]), 0.1);
  // Step 2: 'a' got no tokens. With moments kept by list position, 'b' would take 'a''s moments.
  adam.apply(params, new Map([['b', tf.scalar(1)]]), 0.1);
  const a1 = reference(1, 0.5, 0, 0, 1, 0.1);
  const b1 = reference(2, -3, 0, 0, 1, 0.1);
  const b2 = reference(b1.w, 1, b1.m, b1.v, 2, 0.1);
  assert.ok(Math.abs(params.get('a')!.dataSync()[0] - a1.w) < 1e-6, 'a must not move without a gradient');
  assert.ok(Math.abs(params.get('b')!.dataSync()[0] - b2.w) < 1e-6, `b: ${params.get('b')!.dataSync()[0]} != ${b2.w}`);
  adam.dispose();
});

test('the fused step matches the textbook formula over several steps, element by element', () => {
  const n = 1000;
  const start = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const params = new Map([['w', tf.variable(tf.tensor1d(start))]]);
  const adam = new Adam();
  let ref = Array.from(start, (w) => ({ w, m: 0, v: 0 }));
  for (let t = 1; t <= 3; t++) {
    const g = Float32Array.from({ length: n }, (_, i) => Math.cos(i * t) * (i % 7 === 0 ? 0 : 1)); // some zero gradients
    const gradient = tf.tensor1d(g);
    adam.apply(params, new Map([['w', gradient]]), 0.01);
    assert.deepEqual(gradient.dataSync(), g, 'the gradient is read, not written');
    gradient.dispose();
    ref = ref.map((r, i) => reference(r.w, g[i], r.m, r.v, t, 0.01));
  }
  const got = params.get('w')!.dataSync();
  ref.forEach((r, i) => assert.ok(Math.abs(got[i] - r.w) < 1e-6, `w[${i}] ${got[i]} != ${r.w}`));
  const [state] = adam.exportState();
  assert.equal(state.step, 3);
  ref.forEach((r, i) => assert.ok(Math.abs(state.m[i] - r.m) < 1e-6 && Math.abs(state.v[i] - r.v) < 1e-7, `moments of ${i}`));
  adam.dispose();
});

test('exported and imported optimizer state are copies: training on does not change a checkpoint', () => {
  const params = new Map([['w', tf.variable(tf.tensor1d([1, 2, 3]))]]);
  const adam = new Adam();
  adam.apply(params, new Map([['w', tf.tensor1d([0.1, 0.2, 0.3])]]), 0.1);
  const saved = adam.exportState();
  const m = saved[0].m.slice();
  adam.apply(params, new Map([['w', tf.tensor1d([1, 1, 1])]]), 0.1);
  assert.deepEqual(saved[0].m, m, 'the export did not move with the next step');
  const other = new Adam();
  other.importState(saved, params);
  other.apply(params, new Map([['w', tf.tensor1d([1, 1, 1])]]), 0.1);
  assert.deepEqual(saved[0].m, m, 'the import did not write into the state it was given');
  assert.throws(() => other.importState([{ ...saved[0], m: new Float32Array(2) }], params), /wrong size/);
  adam.dispose();
  other.dispose();
});

test('a matmul after a step uses the updated weight (the backend caches nothing of the old one)', () => {
  // XNNPACK keeps a matmul operator with its weight packed inside, keyed by tensor id: a weight
  // changed in place would go on multiplying with its old values.
  const w = tf.variable(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [4, 3]));
  const x = tf.tensor2d([1, 0, 2, -1, 0.5, 1, -2, 3], [2, 4]);
  const product = () => Array.from(tf.tidy(() => tf.matMul(x, w)).dataSync());
  const before = product();
  const adam = new Adam();
  adam.apply(new Map([['w', w]]), new Map([['w', tf.onesLike(w)]]), 0.5);
  const updated = w.arraySync() as number[][];
  assert.notDeepEqual(updated[0], [1, 2, 3], 'the step moved the weight');
  const expected = (x.arraySync() as number[][]).flatMap((row) => [0, 1, 2].map((j) => row.reduce((s, xi, i) => s + xi * updated[i][j], 0)));
  const after = product();
  assert.notDeepEqual(after, before);
  after.forEach((y, i) => assert.ok(Math.abs(y - expected[i]) < 1e-4, `y[${i}] ${y} != ${expected[i]}`));
  adam.dispose();
});

test('routerLearningRateScale: the routers\' classifiers step at that multiple of the learning rate, the other weights at the rate', () => {
  const router = 'encoder.block.1.layer.1.mlp.router.classifier.weight';
  const expert = 'encoder.block.1.layer.1.mlp.experts.expert_0.wi.weight';
  const params = new Map([router, expert].map((n) => [n, tf.variable(tf.tensor1d([1, -1]))]));
  const grads = new Map([router, expert].map((n) => [n, tf.tensor1d([0.5, -0.25])]));
  const t = { learningRate: 0.01, warmupSteps: 0, clipNorm: 0, routerLearningRateScale: 10 } as TrainingOptions;
  const { lr } = optimizerStep(params, new Adam(), grads, t, 1);
  const expected = (scale: number) => [reference(1, 0.5, 0, 0, 1, lr * scale).w, reference(-1, -0.25, 0, 0, 1, lr * scale).w];
  const near = (got: ArrayLike<number>, want: number[]) => want.every((w, i) => Math.abs(got[i] - w) < 1e-6);
  assert.ok(near(params.get(router)!.dataSync(), expected(10)), `router ${params.get(router)!.dataSync()} != ${expected(10)}`);
  assert.ok(near(params.get(expert)!.dataSync(), expected(1)), `expert ${params.get(expert)!.dataSync()} != ${expected(1)}`);
  assert.ok(!near(params.get(router)!.dataSync(), expected(1)), 'the scale changes the router\'s step');
});

/** `steps` Adam steps on weights of the given sizes, through Adam and through the host loop; both results. */
function bothWays(sizes: number[], steps: number) {
  const names = sizes.map((_, i) => `w${i}`);
  const params = new Map(names.map((name, i) => [name, tf.variable(tf.tensor1d(randomValues(sizes[i], i + 1)))]));
  const host = names.map((name, i) => ({ name, w: randomValues(sizes[i], i + 1), m: new Float32Array(sizes[i]), v: new Float32Array(sizes[i]) }));
  const adam = new Adam();
  for (let t = 1; t <= steps; t++) {
    const g = sizes.map((n, i) => randomValues(n, 100 * t + i).map((x) => x * 10 ** (i % 4 - 3)));
    adam.apply(params, new Map(names.map((name, i) => [name, tf.tensor1d(g[i])])), 0.003);
    const stepSize = (0.003 * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
    host.forEach((h, i) => adamStep(h.w, g[i], h, stepSize, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }));
  }
  const state = adam.exportState();
  const got = names.map((name, i) => ({ w: params.get(name)!.dataSync() as Float32Array, m: state[i].m, v: state[i].v }));
  adam.dispose();
  tf.dispose([...params.values()]);
  return { got, host };
}

test('the step on the backend equals the host loop to the bit, for sizes that end mid-pair and mid-chunk', () => {
  const { got, host } = bothWays([1, 3, 2 * CHUNK + 5, 50_001], 3);
  got.forEach((g, i) => {
    assert.deepStrictEqual(g.w, host[i].w, `weights of w${i}`);
    assert.deepStrictEqual(g.m, host[i].m, `m of w${i}`);
    assert.deepStrictEqual(g.v, host[i].v, `v of w${i}`);
  });
});

test('helper threads take chunks of the step once started, and the values are the same to the bit', async (t) => {
  const memory = (tf.backend() as unknown as { wasm?: { wasmMemory?: WebAssembly.Memory } }).wasm?.wasmMemory;
  if (!(memory?.buffer instanceof SharedArrayBuffer)) return t.skip('no shared wasm heap (one thread, or not wasm): no helpers');
  const before = adamHelperChunks();
  // The helper starts on the first step with more than one chunk; until it has, this thread does all.
  for (let tries = 0; adamHelperChunks() === before && tries < 200; tries++) {
    bothWays([64 * CHUNK], 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(adamHelperChunks() > before, 'a helper ran some chunks');
  const helped = adamHelperChunks();
  const { got, host } = bothWays([64 * CHUNK + 3, 1000], 2);
  assert.ok(adamHelperChunks() > helped, 'and it took part in this step');
  got.forEach((g, i) => assert.deepStrictEqual([g.w, g.m, g.v], [host[i].w, host[i].m, host[i].v], `w${i}`));
});

test('a claim of an earlier call runs nothing: a late helper cannot take a chunk of the next call', () => {
  const control = new Int32Array(CONTROL.size);
  const table = new Float64Array(TABLE.chunks + 4 * TABLE.chunkWords);
  const ran: number[] = [];
  const kernel: AdamKernel = { adam: (w) => void ran.push(w) };
  for (let i = 0; i < 4; i++) table[TABLE.chunks + i * TABLE.chunkWords] = 1000 + i;
  control[CONTROL.count] = 4;
  control[CONTROL.claim] = 7 << 16;
  runClaimedChunks(control, table, kernel, 6, true);
  assert.deepEqual(ran, [], 'generation 6 finds generation 7\'s claim and stops');
  control[CONTROL.claim] = (7 << 16) | 2;
  runClaimedChunks(control, table, kernel, 7, true);
  assert.deepEqual(ran, [1002, 1003], 'generation 7 runs the chunks left, each once');
  assert.deepEqual([control[CONTROL.done], control[CONTROL.helped]], [2, 2]);
  runClaimedChunks(control, table, kernel, 7, false);
  assert.equal(ran.length, 2, 'none left');
});
