// BatchMatMul for batched float32 inputs on tfjs-backend-wasm: the SIMD loop of batchMatMul.wat, run
// in place in the backend's heap, instead of tfjs-wasm 4.22's scalar loop (about ten times slower
// than its 2-D XNNPACK path at equal FLOPs). Attention's per-head products are all batched.
// A transposed A costs nothing (bmm reads A one value at a time, by strides); a transposed B is
// transposed first (transpose.ts; tfjs-wasm's Transpose of a 4-D tensor was slower than the product).
// Broadcast batch dimensions and 2-D products go to the original kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs } from '../kernels';
import { BATCH_MAT_MUL_WASM } from './batchMatMulBinary';
import { heapOffset, inHeap, type WasmHeapBackend } from './heap';
import { transposeInHeap } from './transpose';

/** Byte offsets into the heap, then sizes (see batchMatMul.wat). */
interface Kernels {
  bmm(a: number, b: number, c: number, batch: number, m: number, k: number, n: number, transposeA: number): void;
}

export function batchMatMul(args: KernelArgs, original: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const rank = a.shape.length;
  const batchShape = a.shape.slice(0, -2);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || rank < 3 || b.shape.length !== rank || batchShape.some((d, i) => d !== b.shape[i])) {
    return original(args);
  }
  const backend = args.backend as unknown as WasmHeapBackend;
  const [m, k] = transposeA ? [a.shape[rank - 1], a.shape[rank - 2]] : a.shape.slice(-2);
  const n = transposeB ? b.shape[rank - 2] : b.shape[rank - 1];
  const batch = batchShape.reduce((x, d) => x * d, 1);
  const out = backend.makeOutput([...batchShape, m, n], 'float32');
  const rowMajorB = transposeB ? backend.makeOutput([...batchShape, k, n], 'float32') : b; // [..., K, N]
  if (batch * m * n > 0) {
    const at = (t: tf.TensorInfo) => heapOffset(backend, t);
    const kernels = inHeap<Kernels>(BATCH_MAT_MUL_WASM, backend);
    if (transposeB) transposeInHeap(backend, b, rowMajorB, batch, n, k);
    kernels.bmm(at(a), at(rowMajorB), at(out), batch, m, k, n, transposeA ? 1 : 0);
  }
  if (rowMajorB !== b) backend.disposeData(rowMajorB.dataId);
  return out;
}
