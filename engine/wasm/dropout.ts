// tf.dropout on tfjs-backend-wasm in one pass (dropout.wat), bit for bit: tfjs draws its uniform
// numbers one by one in JS (seedrandom's Alea) and then runs four kernels over them, ~9% of a
// training step on tiny. The generator is seeded here, as tf.randomUniform seeds it, and runs in wasm.
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { DROPOUT_WASM } from './dropoutBinary';
import { heapOffset, inHeap, type WasmHeapBackend } from './heap';

interface Kernels {
  dropout(x: number, out: number, mask: number, n: number, s0: number, s1: number, s2: number, c: number, keep: number): void;
}

/** Alea's state after seeding (seedrandom's `state()`). */
interface AleaState {
  s0: number;
  s1: number;
  s2: number;
  c: number;
}

/** x's float32 values, each kept with probability 1 − rate and scaled by 1 / (1 − rate); and that mask. */
export function dropoutInHeap(x: tf.Tensor, rate: number, seed: number): { out: tf.Tensor; mask: tf.Tensor } {
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const out = backend.makeOutput(x.shape, 'float32');
  const mask = backend.makeOutput(x.shape, 'float32');
  // tf.randomUniform seeds Alea with the seed's decimal text.
  const { s0, s1, s2, c } = seedrandom.alea(String(seed), { state: true }).state() as AleaState;
  const at = (t: tf.TensorInfo) => heapOffset(backend, t);
  inHeap<Kernels>(DROPOUT_WASM, backend).dropout(at(x), at(out), at(mask), x.size, s0, s1, s2, c, Math.fround(1 - rate));
  return { out: tf.engine().makeTensorFromTensorInfo(out), mask: tf.engine().makeTensorFromTensorInfo(mask) };
}
