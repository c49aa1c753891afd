import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { randomValues, useTestBackend } from './setup';

// The wasm backend runs with the row kernels of engine/kernels.ts in place of tfjs's own; these
// check them against plain JS on the host, including the cases they hand back to the originals.
before(useTestBackend);

const rows = (values: Float32Array, cols: number) => Array.from({ length: values.length / cols }, (_, r) => Array.from(values.subarray(r * cols, (r + 1) * cols)));

test('row slices, splits and gathers equal the same moves done on the host', () => {
  const values = randomValues(37 * 5, 1);
  const x = tf.tensor2d(values, [37, 5]);
  const host = rows(values, 5);
  assert.deepEqual(tf.slice(x, [3, 0], [10, 5]).arraySync(), host.slice(3, 13));
  assert.deepEqual(tf.slice(x, [2, 1], [4, 3]).arraySync(), host.slice(2, 6).map((r) => r.slice(1, 4))); // column slice: original kernel
  const parts = tf.split(x, [7, 0, 20, 10], 0);
  assert.deepEqual(parts.map((p) => p.shape[0]), [7, 0, 20, 10]);
  assert.deepEqual(parts[2].arraySync(), host.slice(7, 27));
  assert.deepEqual(tf.split(x, [2, 3], 1)[1].arraySync(), host.map((r) => r.slice(2))); // axis 1: original kernel
  const idx = [36, 0, 5, 5, 17];
  assert.deepEqual(tf.gather(x, tf.tensor1d(idx, 'int32')).arraySync(), idx.map((i) => host[i]));
  const ints = tf.tensor1d([4, 8, 15, 16, 23, 42], 'int32');
  assert.deepEqual(tf.gather(ints, tf.tensor1d([5, 0], 'int32')).arraySync(), [42, 4]);
  assert.throws(() => tf.gather(x, tf.tensor1d([37], 'int32')), /not in \[0, 36\]/);
});
