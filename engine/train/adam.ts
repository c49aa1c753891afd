// Adam keyed by parameter name. tfjs's own AdamOptimizer keeps its moments by position in the
// gradient list, which shifts when an expert gets no tokens (and so no gradient) in a step, and
// then applies one weight's moments to another. Here a weight without a gradient is skipped, as
// PyTorch does for a parameter whose .grad is None, and each weight counts its own steps.
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

interface Slot {
  m: tf.Variable;
  v: tf.Variable;
  step: number;
}

export class Adam {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly options: AdamOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }) {}

  /** Applies one update to each named weight that has a gradient, at learning rate `lr`. */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
    const { beta1, beta2, epsilon } = this.options;
    for (const [name, g] of grads) {
      const w = params.get(name);
      if (!w) throw new Error(`Adam: gradient for unknown weight ${name}`);
      const slot = this.slot(name, w);
      slot.step++;
      const stepSize = (lr * Math.sqrt(1 - beta2 ** slot.step)) / (1 - beta1 ** slot.step);
      // One tidy per weight: the temporaries of all weights at once would be several times the model.
      tf.tidy(() => {
        const m = tf.add(tf.mul(slot.m, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(slot.v, beta2), tf.mul(tf.square(g), 1 - beta2));
        slot.m.assign(m);
        slot.v.assign(v);
        w.assign(tf.sub(w, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), stepSize)));
      });
    }
  }

  private slot(name: string, w: tf.Variable): Slot {
    let s = this.slots.get(name);
    if (!s) {
      s = tf.tidy(() => ({ m: tf.variable(tf.zerosLike(w), false), v: tf.variable(tf.zerosLike(w), false), step: 0 }));
      this.slots.set(name, s);
    }
    return s;
  }

  /** Weights with optimizer state (two moment tensors each). */
  get slotCount(): number {
    return this.slots.size;
  }

  /** Every slot's moments and step count, for a checkpoint. */
  exportState(): AdamSlotState[] {
    return [...this.slots].map(([name, s]) => ({ name, step: s.step, m: s.m.dataSync() as Float32Array, v: s.v.dataSync() as Float32Array }));
  }

  /** Replaces all slots with a checkpoint's; shapes come from the weights they belong to. */
  importState(state: AdamSlotState[], params: Map<string, tf.Variable>): void {
    this.dispose();
    for (const s of state) {
      const w = params.get(s.name);
      if (!w) throw new Error(`optimizer state for unknown weight ${s.name}`);
      if (s.m.length !== w.size || s.v.length !== w.size) throw new Error(`optimizer state for ${s.name} has the wrong size`);
      this.slots.set(s.name, { m: tf.variable(tf.tensor(s.m, w.shape), false), v: tf.variable(tf.tensor(s.v, w.shape), false), step: s.step });
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
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
