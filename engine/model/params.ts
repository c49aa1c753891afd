// Named trainable weights. One variable per tensor (one per expert, too: slicing a stacked
// [E, d, ff] variable copies the whole of it once per slice).
import * as tf from '@tensorflow/tfjs-core';

/** A weight's starting value by name (an imported model's weights). */
export type WeightInit = (name: string, shape: number[]) => tf.Tensor;
/** Weights read from a file that is open until close(). */
export interface WeightReader {
  read: WeightInit;
  close(): void;
}

export class ParamStore {
  readonly vars = new Map<string, tf.Variable>();
  private seedCounter: number;

  constructor(
    /** Seeds the initializers, so that a config and a seed give the same model on any backend run. */
    seed: number,
    /** std = sqrt(initScale / fanIn): the paper's scaled-down initialization. */
    private readonly initScale: number,
    /** Values to start from instead of the initializers (an imported model's weights), by name. */
    private initial?: WeightInit,
  ) {
    // Offset by one: tfjs treats a seed of 0 as "no seed" and draws from Math.random instead.
    this.seedCounter = seed + 1;
  }

  /** A weight whose first dimension is its fan-in, drawn from a truncated normal. */
  weight(name: string, shape: number[], fanIn = shape[0], initScale = this.initScale): tf.Variable {
    const std = Math.sqrt(initScale / fanIn);
    if (this.initial) return this.add(name, this.initial(name, shape));
    return this.add(name, tf.tidy(() => tf.truncatedNormal(shape, 0, std, 'float32', this.seedCounter++)));
  }

  /** A weight of ones (RMS norm scales). */
  ones(name: string, shape: number[]): tf.Variable {
    return this.add(name, this.initial ? this.initial(name, shape) : tf.ones(shape));
  }

  /** Builds weights with `initial` as their source (a part of the model loaded later). */
  withInitial<T>(initial: WeightInit, build: () => T): T {
    const before = this.initial;
    this.initial = initial;
    try {
      return build();
    } finally {
      this.initial = before;
    }
  }

  private add(name: string, value: tf.Tensor): tf.Variable {
    if (this.vars.has(name)) throw new Error(`duplicate parameter name: ${name}`);
    const v = tf.variable(value, true); // tfjs variable names are global; ours live in this map
    value.dispose();
    this.vars.set(name, v);
    return v;
  }

  count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
