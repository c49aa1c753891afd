// T5's feed-forward network (DenseActDense): wi, relu, dropout, wo; no biases. Used as the dense
// layer of the model, as the dense baseline, and as each expert of a sparse layer.
import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './context';
import { dropout, matMul2d, matMul2dRelu } from './ops';
import type { ParamStore } from './params';

export class DenseActDense {
  /** [dModel, dFf] */
  readonly wi: tf.Variable;
  /** [dFf, dModel] */
  readonly wo: tf.Variable;

  constructor(
    params: ParamStore,
    prefix: string,
    dModel: number,
    dFf: number,
    private readonly dropoutRate: number,
  ) {
    this.wi = params.weight(`${prefix}.wi.weight`, [dModel, dFf]);
    this.wo = params.weight(`${prefix}.wo.weight`, [dFf, dModel]);
  }

  /** x: [N, dModel] -> [N, dModel] */
  forward(x: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
    const h = dropout(matMul2dRelu(x, this.wi as tf.Tensor2D), this.dropoutRate, ctx); // [N, dFf]
    return matMul2d(h, this.wo as tf.Tensor2D);
  }
}
