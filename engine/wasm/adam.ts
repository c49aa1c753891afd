// Adam's fused step on tfjs-backend-wasm (adam.wat), with the moments in the heap beside the weights:
// two values per SIMD instruction, bit for bit the JS loop's float64 arithmetic, and in the
// threaded build split over helper threads as well (adamThreads.ts).
import * as tf from '@tensorflow/tfjs-core';
import { wasmThreads } from '../backend';
import { ADAM_WASM } from './adamBinary';
import { AdamHelpers, CHUNK, MAX_CHUNKS, type AdamKernel, type Chunk } from './adamThreads';
import { heapMemory, heapOffset, inHeap, isShared, type WasmHeapBackend } from './heap';

/** One weight's update: its values, gradient and moments, the new tensor for its values, its step size. */
export interface AdamJob {
  w: tf.TensorInfo;
  g: tf.TensorInfo;
  m: tf.TensorInfo;
  v: tf.TensorInfo;
  out: tf.TensorInfo;
  stepSize: number;
}

let helpers: AdamHelpers | null = null;

/** The helpers for this heap: one fewer than the backend's threads, none on a heap that is not shared. */
function helpersFor(memory: WebAssembly.Memory): AdamHelpers | null {
  if (helpers?.memory === memory) return helpers;
  const count = isShared(memory) ? wasmThreads() - 1 : 0;
  if (count < 1) return null;
  helpers?.dispose();
  helpers = new AdamHelpers(memory, count);
  return helpers;
}

/** Runs each job: m, v and out written; w and g read. All tensors are already made (no allocation here). */
export function adamInHeap(backend: WasmHeapBackend, jobs: AdamJob[], beta1: number, beta2: number, epsilon: number): void {
  const kernel = inHeap<AdamKernel>(ADAM_WASM, backend);
  const at = (t: tf.TensorInfo) => heapOffset(backend, t);
  const chunks: Chunk[] = [];
  for (const { w, g, m, v, out, stepSize } of jobs) {
    const n = tf.util.sizeFromShape(w.shape);
    const [pw, pg, pm, pv, po] = [at(w), at(g), at(m), at(v), at(out)];
    for (let i = 0; i < n; i += CHUNK) {
      const b = 4 * i;
      chunks.push([pw + b, pg + b, pm + b, pv + b, po + b, Math.min(CHUNK, n - i), stepSize]);
    }
  }
  const pool = chunks.length > 1 ? helpersFor(heapMemory(backend)) : null;
  if (!pool) {
    for (const c of chunks) kernel.adam(...c, beta1, beta2, epsilon);
    return;
  }
  for (let i = 0; i < chunks.length; i += MAX_CHUNKS) pool.run(chunks.slice(i, i + MAX_CHUNKS), kernel, beta1, beta2, epsilon);
}

/** Chunks of Adam's steps that helper threads have run in this process (0 without helpers). */
export function adamHelperChunks(): number {
  return helpers?.helperChunks ?? 0;
}
