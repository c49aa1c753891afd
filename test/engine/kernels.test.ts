import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, test } from 'node:test';
import { ForwardContext } from '../../engine/model/context';
import { dropout } from '../../engine/model/ops';
import { randomValues, useTestBackend } from './setup';

// The wasm backend runs with the row kernels of engine/kernels.ts, the batched matmul of
// engine/wasm/batchMatMul.ts and the dropout of engine/wasm/dropout.ts in place of tfjs's own; these check them against plain JS on the
// host, including the cases they hand back to the originals.
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

/** C[i] = op(A[i]) @ op(B[i]) on the host, summing over k in order in float32, as engine/wasm/batchMatMul.wat does. */
function hostBatchMatMul(a: Float32Array, b: Float32Array, batch: number, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < batch; i++) {
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < n; c++) {
        let sum = 0;
        for (let j = 0; j < k; j++) {
          const x = a[i * m * k + (transposeA ? j * m + r : r * k + j)];
          const y = b[i * k * n + (transposeB ? c * k + j : j * n + c)];
          sum = Math.fround(sum + Math.fround(x * y));
        }
        out.push(sum);
      }
    }
  }
  return out;
}

test('batched matmuls (every transpose, columns past the 16- and 4-wide blocks) equal the host sum to the bit', () => {
  // [batch dims, M, K, N]: N = 37 takes two 16-column blocks, one of 4 and one column alone.
  for (const [batchShape, m, k, n] of [[[3], 5, 9, 37], [[2, 2], 7, 33, 19], [[4], 1, 1, 3], [[2], 16, 4, 16]] as [number[], number, number, number][]) {
    const batch = batchShape.reduce((x, d) => x * d, 1);
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        const a = randomValues(batch * m * k, m + k);
        const b = randomValues(batch * k * n, k + n);
        const got = tf.matMul(tf.tensor(a, [...batchShape, ...(transposeA ? [k, m] : [m, k])]), tf.tensor(b, [...batchShape, ...(transposeB ? [n, k] : [k, n])]), transposeA, transposeB);
        assert.deepEqual(got.shape, [...batchShape, m, n]);
        assert.deepEqual(Array.from(got.dataSync()), hostBatchMatMul(a, b, batch, m, k, n, transposeA, transposeB), `${batchShape} × ${m}×${k}×${n}, transposeA ${transposeA}, transposeB ${transposeB}`);
      }
    }
  }
});

test('a broadcast batch goes to the original kernel; a gradient through the batched kernel holds', () => {
  const a = randomValues(4 * 6, 3);
  const b = randomValues(3 * 6 * 5, 4);
  const got = tf.matMul(tf.tensor(a, [1, 4, 6]), tf.tensor(b, [3, 6, 5]));
  const want = [0, 1, 2].flatMap((i) => hostBatchMatMul(a, b.subarray(i * 30, (i + 1) * 30), 1, 4, 6, 5, false, false));
  const diff = Math.max(...Array.from(got.dataSync(), (x, i) => Math.abs(x - want[i])));
  assert.ok(diff < 1e-5, `largest difference ${diff}`);
  // d/dA of sum(A @ B) is B's row sums, per batch: the gradient's own matmuls run here too.
  const bt = tf.tensor(b, [3, 6, 5]);
  const da = tf.grad((x: tf.Tensor) => tf.sum(tf.matMul(x, bt)))(tf.tensor(randomValues(3 * 4 * 6, 5), [3, 4, 6]));
  const rowSums = Array.from({ length: 3 * 6 }, (_, r) => b.subarray(r * 5, (r + 1) * 5).reduce((s, x) => s + x, 0));
  const daRows = da.arraySync() as number[][][];
  for (let i = 0; i < 3; i++) for (const row of daRows[i]) row.forEach((x, j) => assert.ok(Math.abs(x - rowSums[i * 6 + j]) < 1e-5));
});

test('transposes of the last two axes (transpose.wat) move every value to its place: edges, batches, int32; other permutations too', () => {
  const host = (v: ArrayLike<number>, shape: number[], perm: number[]) => {
    const out = new Array<number>(v.length);
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const outShape = perm.map((p) => shape[p]);
    const outStrides = outShape.map((_, i) => outShape.slice(i + 1).reduce((a, b) => a * b, 1));
    for (let flat = 0; flat < v.length; flat++) {
      const index = strides.map((s, i) => Math.floor(flat / s) % shape[i]);
      out[perm.reduce((o, p, i) => o + index[p] * outStrides[i], 0)] = v[flat];
    }
    return out;
  };
  const cases: [number[], number[]][] = [
    [[1, 1], [1, 0]],
    [[5, 3], [1, 0]],
    [[4, 4], [1, 0]],
    [[37, 61], [1, 0]], // 4 × 4 blocks in two bands of 32 columns, then both edges
    [[128, 512], [1, 0]],
    [[2, 9, 130], [0, 2, 1]],
    [[3, 4, 8, 5], [0, 1, 3, 2]],
    [[3, 4, 8, 5], [0, 2, 1, 3]], // the original kernel
    [[0, 6], [1, 0]],
  ];
  for (const [shape, perm] of cases) {
    const values = randomValues(shape.reduce((a, b) => a * b, 1), shape.length);
    assert.deepEqual(Array.from(tf.transpose(tf.tensor(values, shape), perm).dataSync()), host(values, shape, perm), `[${shape}] perm [${perm}]`);
  }
  const ints = Int32Array.from({ length: 7 * 9 }, (_, i) => (i * 2654435761) | 0);
  assert.deepEqual(Array.from(tf.transpose(tf.tensor(ints, [7, 9], 'int32')).dataSync()), host(ints, [7, 9], [1, 0]));
});

test("dropout on wasm (dropout.wat) equals tf.dropout's values and gradient to the bit: odd sizes, several rates and seeds", () => {
  assert.equal(tf.getBackend(), 'wasm');
  const cases: [number[], number, number][] = [
    [[1], 0.1, 1],
    [[7], 0.5, 2],
    [[33, 17], 0.1, 12345],
    [[4, 128, 37], 0.4, 4294967295],
    [[3, 5], 0.999, 99],
  ];
  for (const [shape, rate, seed] of cases) {
    const size = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(randomValues(size, seed % 1000), shape);
    const w = tf.tensor(randomValues(size, seed % 1000 + 1), shape);
    // The same seed stream on both sides: the seed is the context's first.
    const ours = tf.grads((v: tf.Tensor) => tf.sum(tf.mul(dropout(v, rate, new ForwardContext(true, seed)), w)));
    const theirs = tf.grads((v: tf.Tensor) => tf.sum(tf.mul(tf.dropout(v, rate, undefined, new ForwardContext(true, seed).nextSeed()), w)));
    const label = `[${shape}] rate ${rate} seed ${seed}`;
    const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
    assert.deepEqual(bits(dropout(x, rate, new ForwardContext(true, seed))), bits(tf.dropout(x, rate, undefined, new ForwardContext(true, seed).nextSeed())), `${label}: values`);
    assert.deepEqual(bits(ours([x])[0]), bits(theirs([x])[0]), `${label}: gradient`);
    const kept = (dropout(x, rate, new ForwardContext(true, seed)).dataSync() as Float32Array).filter((v) => v !== 0).length;
    if (size > 1000) assert.ok(Math.abs(kept / size - (1 - rate)) < 0.02, `${label}: kept ${kept} of ${size}`);
  }
});

test('the shipped kernel binaries are the ones the .wat files compile to', () => {
  const r = spawnSync(process.execPath, ['scripts/wat.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
