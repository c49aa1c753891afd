// T5 multi-head attention with a learned, bucketed relative position bias (computed by the first
// layer of a stack and shared by the rest), no biases and no 1/sqrt(dKv) scaling, as in T5.
import * as tf from '@tensorflow/tfjs-core';
import type { SwitchConfig } from './config';
import type { ForwardContext } from './context';
import { dropout, embed, linear } from './ops';
import type { ParamStore } from './params';

/** T5's bucket for `relative = keyPosition - queryPosition`. */
export function relativePositionBucket(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let bucket = 0;
  let n = numBuckets;
  let distance: number;
  if (bidirectional) {
    n = Math.floor(n / 2);
    if (relative > 0) bucket += n;
    distance = Math.abs(relative);
  } else {
    distance = Math.max(-relative, 0);
  }
  const maxExact = Math.floor(n / 2);
  if (distance < maxExact) return bucket + distance;
  const large = maxExact + Math.floor((Math.log(distance / maxExact) / Math.log(maxDistance / maxExact)) * (n - maxExact));
  return bucket + Math.min(large, n - 1);
}

export interface AttentionShape {
  batch: number;
  queryLength: number;
  keyLength: number;
}

export class Attention {
  readonly q: tf.Variable;
  readonly k: tf.Variable;
  readonly v: tf.Variable;
  readonly o: tf.Variable;
  /** [numBuckets, numHeads], only on the first layer of a stack. */
  readonly relativeBias?: tf.Variable;

  constructor(
    private readonly config: SwitchConfig,
    params: ParamStore,
    prefix: string,
    hasRelativeBias: boolean,
    private readonly bidirectional: boolean,
  ) {
    const inner = config.numHeads * config.dKv;
    this.q = params.weight(`${prefix}.q.weight`, [config.dModel, inner]);
    this.k = params.weight(`${prefix}.k.weight`, [config.dModel, inner]);
    this.v = params.weight(`${prefix}.v.weight`, [config.dModel, inner]);
    this.o = params.weight(`${prefix}.o.weight`, [inner, config.dModel]);
    if (hasRelativeBias) {
      this.relativeBias = params.weight(`${prefix}.relative_attention_bias.weight`, [config.relativeAttentionNumBuckets, config.numHeads], 1);
    }
  }

  /** [1, H, Tq, Tk] learned bias from each key's offset to each query. */
  positionBias(queryLength: number, keyLength: number): tf.Tensor4D {
    if (!this.relativeBias) throw new Error('this attention layer has no relative position bias');
    const c = this.config;
    const buckets = new Int32Array(queryLength * keyLength);
    for (let i = 0; i < queryLength; i++) {
      for (let j = 0; j < keyLength; j++) {
        buckets[i * keyLength + j] = relativePositionBucket(j - i, this.bidirectional, c.relativeAttentionNumBuckets, c.relativeAttentionMaxDistance);
      }
    }
    const values = embed(this.relativeBias as tf.Tensor2D, buckets); // [Tq*Tk, H]
    return tf.reshape(tf.transpose(tf.reshape(values, [queryLength, keyLength, c.numHeads]), [2, 0, 1]), [1, c.numHeads, queryLength, keyLength]);
  }

  /**
   * x: [B*Tq, d] queries; kv: [B*Tk, d] keys and values; bias: broadcastable to [B, H, Tq, Tk]
   * (position bias plus the mask, -1e9 where attention is not allowed). Returns [B*Tq, d].
   */
  forward(x: tf.Tensor2D, kv: tf.Tensor2D, bias: tf.Tensor, shape: AttentionShape, ctx: ForwardContext): tf.Tensor2D {
    const { numHeads: h, dKv } = this.config;
    const { batch: b, queryLength: tq, keyLength: tk } = shape;
    const heads = (t: tf.Tensor, len: number) => tf.transpose(tf.reshape(t, [b, len, h, dKv]), [0, 2, 1, 3]); // [B, H, T, dKv]
    const q = heads(linear(x, this.q as tf.Tensor2D), tq);
    const k = heads(linear(kv, this.k as tf.Tensor2D), tk);
    const v = heads(linear(kv, this.v as tf.Tensor2D), tk);
    const scores = tf.add(tf.matMul(q, k, false, true), bias); // [B, H, Tq, Tk]
    const weights = dropout(tf.softmax(scores), this.config.dropoutRate, ctx);
    const context = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [b * tq, h * dKv]);
    return linear(context, this.o as tf.Tensor2D) as tf.Tensor2D;
  }
}

/** Additive mask: 0 where a key may be attended, -1e9 elsewhere. keyMask: [B*Tk]. -> [B, 1, Tq|1, Tk] */
export function attentionMask(keyMask: Float32Array, batch: number, queryLength: number, keyLength: number, causal: boolean): tf.Tensor4D {
  const rows = causal ? queryLength : 1;
  const out = new Float32Array(batch * rows * keyLength);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < keyLength; j++) {
        const allowed = keyMask[bi * keyLength + j] > 0 && (!causal || j <= i);
        out[(bi * rows + i) * keyLength + j] = allowed ? 0 : -1e9;
      }
    }
  }
  return tf.tensor4d(out, [batch, 1, rows, keyLength]);
}
