// Gradients of a data-parallel step in shared memory: one slot per replica, each holding every
// weight's gradient (float32, in the model's weight order) and whether the replica has one (an
// expert that got no token in its micro-batches has none). Every replica reads all slots and sums
// them in replica order, so all of them get the same sum, bit for bit, without sending weights.
import * as tf from '@tensorflow/tfjs-core';

export interface SlotLayout {
  names: string[];
  shapes: number[][];
  /** Each weight's first value within a slot. */
  offsets: number[];
  /** Values per slot (all weights). */
  size: number;
  replicas: number;
}

/** What a worker needs to attach: plain data, it crosses postMessage. */
export interface SharedSlots {
  layout: SlotLayout;
  values: SharedArrayBuffer;
  present: SharedArrayBuffer;
}

export class GradientSlots {
  /** [replicas × size] */
  private readonly values: Float32Array;
  /** [replicas × weights]: 1 where the replica wrote that weight's gradient. */
  private readonly present: Uint8Array;
  private readonly index: Map<string, number>;

  private constructor(readonly shared: SharedSlots) {
    this.values = new Float32Array(shared.values);
    this.present = new Uint8Array(shared.present);
    this.index = new Map(shared.layout.names.map((n, i) => [n, i]));
  }

  static create(vars: Map<string, tf.Variable>, replicas: number): GradientSlots {
    const names = [...vars.keys()];
    const shapes = names.map((n) => (vars.get(n) as tf.Variable).shape);
    const offsets: number[] = [];
    let size = 0;
    for (const n of names) {
      offsets.push(size);
      size += (vars.get(n) as tf.Variable).size;
    }
    const layout = { names, shapes, offsets, size, replicas };
    return new GradientSlots({ layout, values: new SharedArrayBuffer(4 * size * replicas), present: new SharedArrayBuffer(names.length * replicas) });
  }

  static attach(shared: SharedSlots): GradientSlots {
    return new GradientSlots(shared);
  }

  /** Replaces replica `r`'s slot with `grads` (weights missing from it are marked absent). */
  write(r: number, grads: Map<string, tf.Tensor>): void {
    const { names, offsets, size } = this.shared.layout;
    this.present.fill(0, r * names.length, (r + 1) * names.length);
    for (const [name, g] of grads) {
      const i = this.index.get(name);
      if (i === undefined) throw new Error(`gradient for unknown weight ${name}`);
      this.values.set(g.dataSync() as Float32Array, r * size + offsets[i]);
      this.present[r * names.length + i] = 1;
    }
  }

  /**
   * The sum over replicas, in replica order, of each weight that some replica has a gradient for:
   * what adding the replicas' gradient tensors in that order gives (float32 a + b, and a weight
   * seen by one replica is that replica's gradient as it is).
   */
  sum(): Map<string, tf.Tensor> {
    const { names, shapes, offsets, size, replicas } = this.shared.layout;
    const out = new Map<string, tf.Tensor>();
    for (const [i, name] of names.entries()) {
      const n = tf.util.sizeFromShape(shapes[i]);
      let acc: Float32Array | null = null;
      for (let r = 0; r < replicas; r++) {
        if (!this.present[r * names.length + i]) continue;
        const slot = this.values.subarray(r * size + offsets[i], r * size + offsets[i] + n);
        if (!acc) {
          acc = slot.slice();
          continue;
        }
        // Float64 sum of two float32s rounded once to float32: the float32 sum, bit for bit.
        for (let k = 0; k < n; k++) acc[k] += slot[k];
      }
      if (acc) out.set(name, tf.tensor(acc, shapes[i], 'float32'));
    }
    return out;
  }
}
