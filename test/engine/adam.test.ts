import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Adam } from '../../engine/train/adam';
import { useTestBackend } from './setup';

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
