// Adam keyed by parameter name. tfjs's own AdamOptimizer keeps its moments by position in the
// gradient list, which shifts when an expert gets no tokens (and so no gradient) in a step, and
// then applies one weight's moments to another. Here a weight without a gradient is skipped, as
// PyTorch does for a parameter whose .grad is None, and each weight counts its own steps.
//
// The step is fused: one pass over each weight's values instead of a dozen tensor ops (each a full
// read and write of the weight) per weight. On the wasm backend the moments live in its heap and the
// pass is wasm's (wasm/adam.ts: SIMD, and split over threads in the threaded build); elsewhere they
// are host arrays and the pass is adamStep below. Both give the same values to the bit.
import * as tf from '@tensorflow/tfjs-core';
import { adamInHeap, type AdamJob } from '../wasm/adam';
import type { WasmHeapBackend } from '../wasm/heap';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** A weight's moments as a checkpoint holds them; `step` counts the updates it has had. */
export interface AdamSlotState {
  name: string;
  step: number;
  m: Float32Array;
  v: Float32Array;
}

/** A weight's moments: host arrays, or tensors in the wasm heap (not in tf.memory(): the optimizer owns them). */
type Slot = { name: string; step: number } & ({ heap: null; m: Float32Array; v: Float32Array } | { heap: WasmHeapBackend; m: tf.TensorInfo; v: tf.TensorInfo });

export class Adam {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly options: AdamOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }) {}

  /** Applies one update to each named weight that has a gradient, at learning rate `lr` × `scale(name)`. */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number, scale: (name: string) => number = () => 1): void {
    const { beta1, beta2, epsilon } = this.options;
    const heap = wasmHeap();
    // On wasm, updates go in batches: the new values of a batch's weights exist beside the old until it is done.
    let batch: { job: AdamJob; w: tf.Variable }[] = [];
    let batchSize = 0;
    const flush = () => {
      if (!heap || batch.length === 0) return;
      adamInHeap(heap, batch.map((b) => b.job), beta1, beta2, epsilon);
      for (const { job, w } of batch) {
        const next = tf.engine().makeTensorFromTensorInfo(job.out);
        w.assign(next);
        next.dispose();
      }
      [batch, batchSize] = [[], 0];
    };
    for (const [name, g] of grads) {
      const w = params.get(name);
      if (!w) throw new Error(`Adam: gradient for unknown weight ${name}`);
      if (g.size !== w.size) throw new Error(`Adam: ${name} has ${w.size} values, its gradient ${g.size}`);
      const slot = this.slot(name, w, heap);
      slot.step++;
      // Bias corrections folded into the step size (Kingma & Ba, end of section 2).
      const stepSize = (lr * scale(name) * Math.sqrt(1 - beta2 ** slot.step)) / (1 - beta1 ** slot.step);
      if (slot.heap) {
        // The new values go to a new tensor, not over the old: XNNPACK keeps matmul operators with the
        // weight packed inside, keyed by tensor id, and would go on using a weight changed in place.
        batch.push({ job: { w, g, m: slot.m, v: slot.v, out: slot.heap.makeOutput(w.shape, 'float32'), stepSize }, w });
        batchSize += w.size;
        if (batchSize >= BATCH_VALUES) flush();
      } else {
        const values = w.dataSync().slice() as Float32Array;
        adamStep(values, g.dataSync() as Float32Array, slot, stepSize, this.options);
        tf.tidy(() => w.assign(tf.tensor(values, w.shape, 'float32')));
      }
    }
    flush();
  }

  private slot(name: string, w: tf.Variable, heap: WasmHeapBackend | null): Slot {
    let s = this.slots.get(name);
    if (!s) {
      s = newSlot(name, 0, w.size, heap);
      this.slots.set(name, s);
    }
    return s;
  }

  /** Weights with optimizer state (two moment arrays each). */
  get slotCount(): number {
    return this.slots.size;
  }

  /** Every slot's moments and step count, for a checkpoint (copies: training goes on). */
  exportState(): AdamSlotState[] {
    return [...this.slots.values()].map((s) => {
      const { m, v } = moments(s);
      return { name: s.name, step: s.step, m: m.slice(), v: v.slice() };
    });
  }

  /** Replaces all slots with a checkpoint's; each must match the size of the weight it belongs to. */
  importState(state: AdamSlotState[], params: Map<string, tf.Variable>): void {
    this.dispose();
    const heap = wasmHeap();
    for (const s of state) {
      const w = params.get(s.name);
      if (!w) throw new Error(`optimizer state for unknown weight ${s.name}`);
      if (s.m.length !== w.size || s.v.length !== w.size) throw new Error(`optimizer state for ${s.name} has the wrong size`);
      const slot = newSlot(s.name, s.step, w.size, heap);
      const { m, v } = moments(slot);
      m.set(s.m);
      v.set(s.v);
      this.slots.set(s.name, slot);
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      if (s.heap) for (const t of [s.m, s.v]) s.heap.disposeData(t.dataId);
    }
    this.slots.clear();
  }
}

/** Values per batch of wasm updates (the new weights that exist beside the old: 64 MiB). */
const BATCH_VALUES = 1 << 24;

function wasmHeap(): WasmHeapBackend | null {
  return tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmHeapBackend) : null;
}

/** Zero moments for `size` values, in the heap when there is one. */
function newSlot(name: string, step: number, size: number, heap: WasmHeapBackend | null): Slot {
  if (!heap) return { name, step, heap, m: new Float32Array(size), v: new Float32Array(size) };
  const slot: Slot = { name, step, heap, m: heap.makeOutput([size], 'float32'), v: heap.makeOutput([size], 'float32') };
  const { m, v } = moments(slot);
  m.fill(0);
  v.fill(0);
  return slot;
}

/** The slot's moments as arrays (views of the heap there: valid only until the heap next grows). */
function moments(s: Slot): { m: Float32Array; v: Float32Array } {
  if (!s.heap) return { m: s.m, v: s.v };
  return { m: s.heap.typedArrayFromHeap(s.m) as Float32Array, v: s.heap.typedArrayFromHeap(s.v) as Float32Array };
}

/**
 * One Adam update in place on host arrays: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * w ← w − stepSize · m / (√v + ε). Float32 storage, double arithmetic within an element.
 */
export function adamStep(w: Float32Array, g: Float32Array, { name, m, v }: { name: string; m: Float32Array; v: Float32Array }, stepSize: number, { beta1, beta2, epsilon }: AdamOptions): void {
  if (w.length !== g.length || m.length !== w.length) {
    throw new Error(`Adam: ${name} has ${w.length} values, its gradient ${g.length}, its moments ${m.length}`);
  }
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + c1 * gi;
    const vi = beta2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] - (stepSize * mi) / (Math.sqrt(vi) + epsilon);
  }
}

/**
 * Loss and gradients of `f` with respect to the named weights. Weights that `f` does not reach
 * (an expert that received no token) are left out rather than given a zero gradient.
 */
export function namedGradients(params: Map<string, tf.Variable>, f: () => tf.Scalar): { value: tf.Scalar; grads: Map<string, tf.Tensor> } {
  const byId = new Map<string, string>();
  for (const [name, v] of params) byId.set(v.name, name);
  const { value, grads } = tf.variableGrads(f, [...params.values()]);
  const named = new Map<string, tf.Tensor>();
  for (const [id, g] of Object.entries(grads)) named.set(byId.get(id) as string, g);
  return { value, grads: named };
}
