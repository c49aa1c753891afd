// Transpose on tfjs-backend-wasm when it swaps the last two axes (a matrix, or a batch of them): the
// tiled SIMD loop of transpose.wat, in place in the backend's heap. The linear layers' gradients
// transpose their inputs explicitly (see model/ops.ts); tfjs-wasm 4.22 moved one value at a time
// down each output column (8% of a training step on tiny). Other permutations go to the original.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs } from '../kernels';
import { heapOffset, inHeap, type WasmHeapBackend } from './heap';
import { TRANSPOSE_WASM } from './transposeBinary';

interface Kernels {
  transpose(src: number, dst: number, batch: number, rows: number, cols: number): void;
}

/** dst[i] = src[i]ᵀ for src [batch, rows, cols] of 4-byte values, dst [batch, cols, rows] (already made). */
export function transposeInHeap(backend: WasmHeapBackend, src: tf.TensorInfo, dst: tf.TensorInfo, batch: number, rows: number, cols: number): void {
  if (batch * rows * cols === 0) return;
  inHeap<Kernels>(TRANSPOSE_WASM, backend).transpose(heapOffset(backend, src), heapOffset(backend, dst), batch, rows, cols);
}

export function transpose(args: KernelArgs, original: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  const rank = x.shape.length;
  const swapsLastTwo = rank >= 2 && perm.every((p, i) => p === (i < rank - 2 ? i : 2 * rank - 3 - i));
  if (!swapsLastTwo || (x.dtype !== 'float32' && x.dtype !== 'int32')) return original(args);
  const backend = args.backend as unknown as WasmHeapBackend;
  const [rows, cols] = x.shape.slice(-2);
  const out = backend.makeOutput([...x.shape.slice(0, -2), cols, rows], x.dtype);
  transposeInHeap(backend, x, out, x.shape.slice(0, -2).reduce((a, d) => a * d, 1), rows, cols);
  return out;
}
