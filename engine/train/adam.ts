// Adam keyed by parameter name. tfjs's own AdamOptimizer keeps its moments by position in the
// gradient list, which shifts when an expert gets no tokens (and so no gradient) in a step, and
// then applies one weight's moments to another. Here a weight without a gradient is skipped, as
// PyTorch does for a parameter whose .grad is None, and each weight counts its own steps.
//
// The step is fused: one pass over each weight's values instead of a dozen tensor ops (each a full
// read and write of the weight) per weight. The moments live on the host, outside the wasm heap,
// which then holds only weights, gradients and activations.
import * as tf from '@tensorflow/tfjs-core';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface AdamSlotState {
  name: string;
  step: number;
  m: Float32Array;
  v: Float32Array;
}

/** A weight's moments; `step` counts the updates it has had. */
type Slot = AdamSlotState;

/** What the fused step uses of tfjs-backend-wasm: new tensors, and views of values in the wasm heap. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

export class Adam {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly options: AdamOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }) {}

  /** Applies one update to each named weight that has a gradient, at learning rate `lr` × `scale(name)`. */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number, scale: (name: string) => number = () => 1): void {
    const { beta1, beta2 } = this.options;
    const heap = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmHeap) : null;
    for (const [name, g] of grads) {
      const w = params.get(name);
      if (!w) throw new Error(`Adam: gradient for unknown weight ${name}`);
      const slot = this.slot(name, w);
      slot.step++;
      // Bias corrections folded into the step size (Kingma & Ba, end of section 2).
      const stepSize = (lr * scale(name) * Math.sqrt(1 - beta2 ** slot.step)) / (1 - beta1 ** slot.step);
      if (heap) {
        // The new values go to a new tensor, not over the old: XNNPACK keeps matmul operators with the
        // weight packed inside, keyed by tensor id, and would go on using a weight changed in place.
        const out = heap.makeOutput(w.shape, 'float32');
        // Views taken after makeOutput (which may grow the heap, and so move it); nothing allocates after.
        const view = (t: tf.TensorInfo) => heap.typedArrayFromHeap(t) as Float32Array;
        adamStep(view(w), view(g), slot, stepSize, this.options, view(out));
        const next = tf.engine().makeTensorFromTensorInfo(out);
        w.assign(next);
        next.dispose();
      } else {
        const values = w.dataSync().slice() as Float32Array;
        adamStep(values, g.dataSync() as Float32Array, slot, stepSize, this.options);
        tf.tidy(() => w.assign(tf.tensor(values, w.shape, 'float32')));
      }
    }
  }

  private slot(name: string, w: tf.Variable): Slot {
    let s = this.slots.get(name);
    if (!s) {
      s = { name, step: 0, m: new Float32Array(w.size), v: new Float32Array(w.size) };
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
    return [...this.slots.values()].map((s) => ({ name: s.name, step: s.step, m: s.m.slice(), v: s.v.slice() }));
  }

  /** Replaces all slots with a checkpoint's; each must match the size of the weight it belongs to. */
  importState(state: AdamSlotState[], params: Map<string, tf.Variable>): void {
    this.dispose();
    for (const s of state) {
      const w = params.get(s.name);
      if (!w) throw new Error(`optimizer state for unknown weight ${s.name}`);
      if (s.m.length !== w.size || s.v.length !== w.size) throw new Error(`optimizer state for ${s.name} has the wrong size`);
      this.slots.set(s.name, { name: s.name, step: s.step, m: s.m.slice(), v: s.v.slice() });
    }
  }

  dispose(): void {
    this.slots.clear();
  }
}

/**
 * One Adam update: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; out ← w − stepSize · m / (√v + ε),
 * with `out` = `w` (in place) unless given. Float32 storage, double arithmetic within an element.
 */
export function adamStep(w: Float32Array, g: Float32Array, slot: Slot, stepSize: number, { beta1, beta2, epsilon }: AdamOptions, out = w): void {
  const { m, v } = slot;
  if (w.length !== g.length || m.length !== w.length || out.length !== w.length) {
    throw new Error(`Adam: ${slot.name} has ${w.length} values, its gradient ${g.length}, its moments ${m.length}`);
  }
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + c1 * gi;
    const vi = beta2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    out[i] = w[i] - (stepSize * mi) / (Math.sqrt(vi) + epsilon);
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
