// Primitive ops with hand-written gradients, shaped for the wasm backend: its fast matmul
// (XNNPACK) runs only for unbatched 2-D inputs without transpose flags, and tf.matMul's own gradient
// uses transpose flags, so every backward pass here transposes explicitly and multiplies in 2-D.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; the model trains, so it needs all of them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { dropoutInHeap } from '../wasm/dropout';
import type { ForwardContext } from './context';

type Grad = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/**
 * tf.customGrad with plain types: `f` gets its tensor inputs and tf's save function, which keeps a
 * clone of each tensor for the backward pass (the forward pass's tidy disposes the originals). A clone
 * shares its values on both backends (tfjs-cpu's Identity, and the wasm one of engine/kernels.ts).
 */
export function customOp<T extends tf.Tensor>(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: T; gradFunc: Grad },
): (...inputs: tf.Tensor[]) => T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    return f(args as tf.Tensor[], save);
  });
  return (...inputs) => op(...inputs) as T;
}

/**
 * a @ b^T for a: [m, n], b: [k, n] -> [m, k], with whichever explicit transposes move fewer values:
 * b itself, or a and the result ((b @ a^T)^T). For an expert's few tokens the second is cheaper
 * than transposing its whole weight matrix.
 */
function matMulTransposeB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [m, n] = a.shape;
  const k = b.shape[0];
  if (m * (n + k) < k * n) return tf.transpose(tf.matMul(b, tf.transpose(a)));
  return tf.matMul(a, tf.transpose(b));
}

/** [m, k] @ [k, n] -> [m, n], fast in both directions. */
export const matMul2d = customOp(([a, b], save) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy, [sa, sb]) => [matMulTransposeB(dy as tf.Tensor2D, sb as tf.Tensor2D), tf.matMul(tf.transpose(sa) as tf.Tensor2D, dy as tf.Tensor2D)],
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** relu([m, k] @ [k, n]) in one fused kernel, fast in both directions. */
export const matMul2dRelu = customOp(([a, b], save) => {
  const h = tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, activation: 'relu' });
  save([a, b, h]);
  return {
    value: h,
    gradFunc: (dy, [sa, sb, sh]) => {
      const dPre = tf.mul(dy, tf.step(sh)); // relu' = 1 where the output is positive
      return [matMulTransposeB(dPre as tf.Tensor2D, sb as tf.Tensor2D), tf.matMul(tf.transpose(sa) as tf.Tensor2D, dPre as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** [..., k] @ [k, n] -> [..., n]: a bias-free linear map on the last axis. */
export function linear(x: tf.Tensor, w: tf.Tensor2D): tf.Tensor {
  const k = x.shape[x.rank - 1];
  const y = matMul2d(tf.reshape(x, [-1, k]) as tf.Tensor2D, w);
  return tf.reshape(y, [...x.shape.slice(0, -1), w.shape[1]]);
}

/**
 * Rows of `x` picked by `idx` (-1 picks a row of zeros), where no row is picked twice. The gradient
 * is the same op with the inverse index, so both directions are plain gathers: no scatter kernel.
 * x: [n, d], idx: [m] -> [m, d]
 */
export function permuteRows(x: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const n = x.shape[0];
  const inverse = new Int32Array(n).fill(-1);
  for (let i = 0; i < idx.length; i++) {
    const src = idx[i];
    if (src < 0) continue;
    if (inverse[src] !== -1) throw new Error(`permuteRows: row ${src} picked twice`);
    inverse[src] = i;
  }
  return permuteRowsOp(x, idx, inverse);
}

function permuteRowsOp(x: tf.Tensor2D, idx: Int32Array, inverse: Int32Array): tf.Tensor2D {
  const op = customOp(([xi]) => ({
    value: gatherOrZero(xi as tf.Tensor2D, idx),
    gradFunc: (dy) => permuteRowsOp(dy as tf.Tensor2D, inverse, idx),
  }));
  return op(x);
}

function gatherOrZero(x: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const n = x.shape[0];
  const safe = Int32Array.from(idx, (i) => (i < 0 ? n : i));
  return tf.tidy(() => {
    const padded = tf.concat([x, tf.zeros([1, x.shape[1]])], 0);
    return tf.gather(padded, tf.tensor1d(safe, 'int32')) as tf.Tensor2D;
  });
}

/**
 * Embedding lookup: table [v, d], ids [m] -> [m, d]. The gradient is a scatter-add done in JS:
 * tf.gather's own gradient (UnsortedSegmentSum) has no wasm kernel and is very slow on cpu.
 */
export function embed(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  const [v, d] = table.shape;
  const op = customOp(([t]) => ({
    value: tf.gather(t, tf.tensor1d(ids, 'int32')) as tf.Tensor2D,
    gradFunc: (dy) => {
      const g = dy.dataSync();
      const out = new Float32Array(v * d);
      for (let i = 0; i < ids.length; i++) {
        const src = i * d;
        const dst = ids[i] * d;
        for (let j = 0; j < d; j++) out[dst + j] += g[src + j];
      }
      return tf.tensor2d(out, [v, d]);
    },
  }));
  return op(table);
}

/** Inverted dropout with a deterministic seed; identity in eval mode. On wasm, tf.dropout's values in one pass. */
export function dropout<T extends tf.Tensor>(x: T, rate: number, ctx: ForwardContext): T {
  if (!ctx.training || rate === 0) return x;
  const seed = ctx.nextSeed();
  if (tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return tf.dropout(x, rate, undefined, seed) as T;
  const op = customOp(([input], save) => {
    const { out, mask } = dropoutInHeap(input, rate, seed);
    save([mask]);
    return { value: out, gradFunc: (dy, [m]) => tf.mul(dy, m) };
  });
  return op(x) as T;
}

/** Rounds float32 values to the nearest bfloat16 (ties to even on the top 16 bits). */
export function roundToBf16(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  const bits = new Uint32Array(out.buffer);
  out.set(values);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000) continue; // Inf and NaN stay as they are
    const lsb = (b >>> 16) & 1;
    bits[i] = ((b + 0x7fff + lsb) & 0xffff0000) >>> 0;
  }
  return out;
}

/** Emulates bfloat16 storage: values rounded to bf16, gradient passed straight through. */
const toBf16Op = customOp(([x]) => ({
  value: tf.tensor(roundToBf16(x.dataSync() as Float32Array), x.shape, 'float32'),
  gradFunc: (dy) => dy,
}));

export function toBf16<T extends tf.Tensor>(x: T): T {
  return toBf16Op(x) as T;
}
