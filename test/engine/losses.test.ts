import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { crossEntropy, loadBalancingLoss, routerZLoss } from '../../engine/model/losses';
import { planTopK } from '../../engine/model/routingPlan';
import { randomValues, useTestBackend } from './setup';

before(useTestBackend);

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) < tol, `${a} != ${b}`);

test('load-balancing and z-loss equal hand-computed values', () => {
  // 4 tokens, 2 experts. First choices: 0, 0, 1, 0 -> f = [0.75, 0.25].
  const logits = [
    [2, 0],
    [1, 0],
    [0, 3],
    [0.5, 0],
  ];
  const probsRows = logits.map(([a, b]) => [Math.exp(a) / (Math.exp(a) + Math.exp(b)), Math.exp(b) / (Math.exp(a) + Math.exp(b))]);
  const P = [0, 1].map((i) => probsRows.reduce((s, r) => s + r[i], 0) / 4);
  const expectedAux = 2 * (0.75 * P[0] + 0.25 * P[1]);
  const expectedZ = logits.reduce((s, [a, b]) => s + Math.log(Math.exp(a) + Math.exp(b)) ** 2, 0) / 4;

  const l = tf.tensor2d(logits);
  const probs = tf.softmax(l) as tf.Tensor2D;
  const plan = planTopK(probs.dataSync(), null, 4, 2, 1, 4);
  close(loadBalancingLoss(probs, plan, null).dataSync()[0], expectedAux);
  close(routerZLoss(l, null).dataSync()[0], expectedZ);
  // A padded token counts in neither loss.
  const mask = Float32Array.from([1, 1, 1, 0]);
  const maskedPlan = planTopK(probs.dataSync(), mask, 4, 2, 1, 4);
  const P3 = [0, 1].map((i) => probsRows.slice(0, 3).reduce((s, r) => s + r[i], 0) / 3);
  close(loadBalancingLoss(probs, maskedPlan, mask).dataSync()[0], 2 * ((2 / 3) * P3[0] + (1 / 3) * P3[1]));
  close(routerZLoss(l, mask).dataSync()[0], logits.slice(0, 3).reduce((s, [a, b]) => s + Math.log(Math.exp(a) + Math.exp(b)) ** 2, 0) / 3);
});

test('uniform routing gives the minimum load-balancing loss, 1', () => {
  // Confident routing (each token's probability mass on its expert), so that P follows f.
  const e = 4;
  const lossFor = (assign: number[]) => {
    const n = assign.length;
    const probs = new Float32Array(n * e).fill(0.01 / (e - 1));
    assign.forEach((a, t) => (probs[t * e + a] = 0.99));
    const p = tf.tensor2d(probs, [n, e]);
    return loadBalancingLoss(p, planTopK(probs, null, n, e, 1, n), null).dataSync()[0];
  };
  const uniform = lossFor([0, 1, 2, 3, 0, 1, 2, 3]);
  close(uniform, 1, 1e-5);
  close(lossFor([0, 0, 0, 0, 0, 0, 0, 0]), 0.99 * 4, 1e-4); // everything on one expert
  const r = randomValues(64, 5);
  for (let trial = 0; trial < 8; trial++) {
    const assign = Array.from({ length: 8 }, (_, i) => Math.floor(((r[trial * 8 + i] + 1) / 2) * e));
    assert.ok(lossFor(assign) >= uniform - 1e-6, `assignment ${assign} beat uniform routing`);
  }
});

test('cross-entropy and its hand-written gradient match tf.losses on weighted tokens', () => {
  const logits = tf.tensor2d(randomValues(5 * 7, 2), [5, 7]);
  const labels = Int32Array.from([0, 3, 6, 2, 2]);
  const weights = Float32Array.from([1, 1, 0, 1, 1]);
  const ours = tf.valueAndGrad((z: tf.Tensor) => crossEntropy(z as tf.Tensor2D, labels, weights))(logits);
  const reference = tf.valueAndGrad((z: tf.Tensor) => {
    const logp = tf.logSoftmax(z);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(labels, 'int32'), 7)), 1);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, tf.tensor1d(weights)))), 4);
  })(logits);
  close(ours.value.dataSync()[0], reference.value.dataSync()[0]);
  const diff = tf.max(tf.abs(tf.sub(ours.grad, reference.grad))).dataSync()[0];
  assert.ok(diff < 1e-6, `gradient differs by ${diff}`);
});
