// T5's layer norm: RMS scaling only, no mean subtraction, no bias.
import * as tf from '@tensorflow/tfjs-core';
import type { ParamStore } from './params';

export class RmsNorm {
  /** [dModel] */
  readonly weight: tf.Variable;

  constructor(
    params: ParamStore,
    name: string,
    dModel: number,
    private readonly eps: number,
  ) {
    this.weight = params.ones(`${name}.weight`, [dModel]);
  }

  /** x: [..., dModel] */
  forward<T extends tf.Tensor>(x: T): T {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, this.eps))), this.weight) as T;
  }
}
