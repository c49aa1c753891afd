// Transformer blocks (HF: SwitchTransformersBlock): pre-norm sublayers, each added to the residual.
// Encoder: self-attention, feed-forward. Decoder: causal self-attention, cross-attention, feed-forward.
import * as tf from '@tensorflow/tfjs-core';
import { Attention, type AttentionShape } from './attention';
import { isSparseLayer, type SwitchConfig } from './config';
import type { ForwardContext } from './context';
import { DenseActDense } from './denseMlp';
import { RmsNorm } from './layerNorm';
import { dropout, toBf16 } from './ops';
import type { ParamStore } from './params';
import type { RouterOutput } from './router';
import { SparseMlp } from './sparseMlp';
import type { LayerRouting } from './stats';

/** What the sparse layers of one forward pass report, in order: encoder, then decoder. */
export interface SparseReport {
  routers: RouterOutput[];
  routing: LayerRouting[];
}

export const newSparseReport = (): SparseReport => ({ routers: [], routing: [] });

/** residual + dropout(sublayer(norm(x))), with the sublayer's output stored in bf16 if emulated. */
function residual(config: SwitchConfig, x: tf.Tensor2D, y: tf.Tensor2D, ctx: ForwardContext): tf.Tensor2D {
  const stored = config.dtype === 'bfloat16' ? toBf16(y) : y;
  return tf.add(x, dropout(stored, config.dropoutRate, ctx));
}

export class FeedForwardLayer {
  private readonly norm: RmsNorm;
  readonly mlp: DenseActDense | SparseMlp;

  constructor(
    private readonly config: SwitchConfig,
    params: ParamStore,
    prefix: string,
    sparse: boolean,
  ) {
    this.norm = new RmsNorm(params, `${prefix}.layer_norm`, config.dModel, config.layerNormEpsilon);
    this.mlp = sparse
      ? new SparseMlp(config, params, prefix)
      : new DenseActDense(params, `${prefix}.mlp`, config.dModel, config.dFf, config.dropoutRate);
  }

  /** x: [B*T, d]; mask: [B*T] real tokens; length: T. A token its expert dropped leaves with x unchanged. */
  forward(x: tf.Tensor2D, mask: Float32Array, ctx: ForwardContext, report: SparseReport, length?: number): tf.Tensor2D {
    const h = this.norm.forward(x);
    if (this.mlp instanceof DenseActDense) return residual(this.config, x, this.mlp.forward(h, ctx), ctx);
    const out = this.mlp.forward(h, this.config.routerIgnorePaddingTokens ? mask : null, ctx, length);
    report.routers.push(out.router);
    report.routing.push(out.routing);
    return residual(this.config, x, out.y, ctx);
  }
}

class AttentionLayer {
  private readonly norm: RmsNorm;
  readonly attention: Attention;

  constructor(
    private readonly config: SwitchConfig,
    params: ParamStore,
    prefix: string,
    hasRelativeBias: boolean,
    bidirectional: boolean,
  ) {
    this.norm = new RmsNorm(params, `${prefix}.layer_norm`, config.dModel, config.layerNormEpsilon);
    this.attention = new Attention(config, params, `${prefix}.attention`, hasRelativeBias, bidirectional);
  }

  /** kv: the encoder's output for cross-attention, else null (self-attention on the normed x). */
  forward(x: tf.Tensor2D, kv: tf.Tensor2D | null, bias: tf.Tensor, shape: AttentionShape, ctx: ForwardContext): tf.Tensor2D {
    const h = this.norm.forward(x);
    return residual(this.config, x, this.attention.forward(h, kv ?? h, bias, shape, ctx), ctx);
  }
}

/** HF's module names of the feed-forward sublayers: where sparse layers report their routing. */
export const encoderFeedForwardName = (i: number) => `encoder.block.${i}.layer.1`;
export const decoderFeedForwardName = (i: number) => `decoder.block.${i}.layer.2`;

/** The sparse layers of a model, in the order a forward pass reports them: encoder, then decoder. */
export function sparseLayerNames(c: SwitchConfig): string[] {
  const names = (n: number, step: number, name: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => i).filter((i) => isSparseLayer(c, i, step)).map(name);
  return [...names(c.numLayers, c.encoderSparseStep, encoderFeedForwardName), ...names(c.numDecoderLayers, c.decoderSparseStep, decoderFeedForwardName)];
}

export class EncoderBlock {
  readonly selfAttention: AttentionLayer;
  readonly ff: FeedForwardLayer;

  constructor(config: SwitchConfig, params: ParamStore, i: number, sparse: boolean) {
    const p = `encoder.block.${i}`;
    this.selfAttention = new AttentionLayer(config, params, `${p}.layer.0`, i === 0, true);
    this.ff = new FeedForwardLayer(config, params, encoderFeedForwardName(i), sparse);
  }

  forward(x: tf.Tensor2D, mask: Float32Array, bias: tf.Tensor, shape: AttentionShape, ctx: ForwardContext, report: SparseReport): tf.Tensor2D {
    return this.ff.forward(this.selfAttention.forward(x, null, bias, shape, ctx), mask, ctx, report, shape.queryLength);
  }
}

export class DecoderBlock {
  readonly selfAttention: AttentionLayer;
  readonly crossAttention: AttentionLayer;
  readonly ff: FeedForwardLayer;

  constructor(config: SwitchConfig, params: ParamStore, i: number, sparse: boolean) {
    const p = `decoder.block.${i}`;
    this.selfAttention = new AttentionLayer(config, params, `${p}.layer.0`, i === 0, false);
    this.crossAttention = new AttentionLayer(config, params, `${p}.layer.1`, false, true);
    this.ff = new FeedForwardLayer(config, params, decoderFeedForwardName(i), sparse);
  }

  forward(
    x: tf.Tensor2D,
    mask: Float32Array,
    encoded: tf.Tensor2D,
    selfBias: tf.Tensor,
    crossBias: tf.Tensor,
    shapes: { self: AttentionShape; cross: AttentionShape },
    ctx: ForwardContext,
    report: SparseReport,
  ): tf.Tensor2D {
    const s = this.selfAttention.forward(x, null, selfBias, shapes.self, ctx);
    const c = this.crossAttention.forward(s, encoded, crossBias, shapes.cross, ctx);
    return this.ff.forward(c, mask, ctx, report, shapes.self.queryLength);
  }
}
