// The encoder-decoder Switch Transformer (HF: SwitchTransformersForConditionalGeneration): shared
// input embedding, encoder and decoder stacks whose every sparseStep-th FFN is sparse, an untied
// LM head, and the loss = cross-entropy + auxCoef * sum(balance losses) + zCoef * sum(z-losses), the
// router losses computed here from what each sparse layer's router returned (inference builds none).
import * as tf from '@tensorflow/tfjs-core';
import { attentionMask, type AttentionShape } from './attention';
import { DecoderBlock, EncoderBlock, newSparseReport, type SparseReport } from './block';
import { isSparseLayer, type SwitchConfig } from './config';
import type { ForwardContext } from './context';
import { RmsNorm } from './layerNorm';
import { crossEntropy, loadBalancingLoss, routerZLoss } from './losses';
import { dropout, embed, linear } from './ops';
import { ParamStore, type WeightInit, type WeightReader } from './params';
import type { LayerRouting } from './stats';

/** A batch of B sequences, flattened row-major. Masks are 1 for real tokens, 0 for padding. */
export interface Seq2SeqBatch {
  batchSize: number;
  encoderLength: number;
  decoderLength: number;
  /** [B*Tenc] */
  encoderIds: Int32Array;
  encoderMask: Float32Array;
  /** [B*Tdec] the targets shifted right, starting with decoderStartTokenId. */
  decoderInputIds: Int32Array;
  decoderTargetIds: Int32Array;
  decoderMask: Float32Array;
}

/** B sequences of one length, flattened: ids and mask (1 real, 0 padding) are [B*length]. */
export interface SequenceInput {
  ids: Int32Array;
  mask: Float32Array;
  length: number;
}

export interface LossOutput {
  loss: tf.Scalar;
  crossEntropy: tf.Scalar;
  /** Sum over sparse layers of the unscaled load-balancing losses. */
  auxLoss: tf.Scalar;
  /** Sum over sparse layers of the unscaled router z-losses. */
  zLoss: tf.Scalar;
  routing: LayerRouting[];
  /** [B*Tdec, vocab] the decoder's logits (distillation reads them). */
  logits: tf.Tensor2D;
}

export class SwitchTransformer {
  readonly params: ParamStore;
  /** [vocab, dModel], shared by encoder and decoder inputs. */
  readonly shared: tf.Variable;
  readonly encoder: EncoderBlock[];
  readonly encoderNorm: RmsNorm;
  private decoderParts: DecoderParts | null = null;

  constructor(
    readonly config: SwitchConfig,
    seed = 0,
    /** Weights to start from, by name (see ParamStore); the initializers otherwise. */
    initial?: WeightInit,
    /**
     * Where the decoder's weights come from when it is built on first use (an imported model: routing
     * needs only the encoder, and switch-base-8's decoder is over half of its 2.5 GB). Built now otherwise.
     */
    private readonly lazyDecoder?: () => WeightReader,
  ) {
    const c = config;
    const p = (this.params = new ParamStore(seed, c.initScale, initial));
    this.shared = p.weight('shared.weight', [c.vocabSize, c.dModel], 1);
    this.encoder = Array.from({ length: c.numLayers }, (_, i) => new EncoderBlock(c, p, i, isSparseLayer(c, i, c.encoderSparseStep)));
    this.encoderNorm = new RmsNorm(p, 'encoder.final_layer_norm', c.dModel, c.layerNormEpsilon);
    if (!lazyDecoder) this.decoderParts = buildDecoder(c, p);
  }

  get decoderLoaded(): boolean {
    return this.decoderParts !== null;
  }

  /** The decoder's blocks, norm and LM head, built (and for a lazy one, read) on the first call. */
  loadDecoder(): DecoderParts {
    if (this.decoderParts) return this.decoderParts;
    const reader = (this.lazyDecoder as () => WeightReader)();
    try {
      this.decoderParts = this.params.withInitial(reader.read, () => buildDecoder(this.config, this.params));
    } finally {
      reader.close();
    }
    return this.decoderParts;
  }

  /** [B*T] ids -> [B*T, d] encoder output. */
  encode({ ids, mask, length }: SequenceInput, batch: number, ctx: ForwardContext, report: SparseReport): tf.Tensor2D {
    const shape: AttentionShape = { batch, queryLength: length, keyLength: length };
    const bias = tf.add(this.encoder[0].selfAttention.attention.positionBias(length, length), attentionMask(mask, batch, length, length, false));
    let x = dropout(embed(this.shared as tf.Tensor2D, ids), this.config.dropoutRate, ctx);
    for (const block of this.encoder) x = block.forward(x, mask, bias, shape, ctx, report);
    return dropout(this.encoderNorm.forward(x), this.config.dropoutRate, ctx);
  }

  /** -> [B*Tdec, vocab] logits for each decoder position, given the encoder's output. */
  decode(dec: SequenceInput, enc: SequenceInput, encoded: tf.Tensor2D, batchSize: number, ctx: ForwardContext, report: SparseReport): tf.Tensor2D {
    const { decoder, decoderNorm, lmHead } = this.loadDecoder();
    const [b, te, td] = [batchSize, enc.length, dec.length];
    const selfBias = tf.add(decoder[0].selfAttention.attention.positionBias(td, td), attentionMask(dec.mask, b, td, td, true));
    const crossBias = attentionMask(enc.mask, b, td, te, false);
    const shapes = { self: { batch: b, queryLength: td, keyLength: td }, cross: { batch: b, queryLength: td, keyLength: te } };
    let x = dropout(embed(this.shared as tf.Tensor2D, dec.ids), this.config.dropoutRate, ctx);
    for (const block of decoder) x = block.forward(x, dec.mask, encoded, selfBias, crossBias, shapes, ctx, report);
    const h = dropout(decoderNorm.forward(x), this.config.dropoutRate, ctx);
    return linear(h, lmHead as tf.Tensor2D) as tf.Tensor2D;
  }

  /** The training objective on one batch. Call inside tf.tidy / an optimizer's minimize. */
  loss(batch: Seq2SeqBatch, ctx: ForwardContext): LossOutput {
    const report = newSparseReport();
    const enc = { ids: batch.encoderIds, mask: batch.encoderMask, length: batch.encoderLength };
    const dec = { ids: batch.decoderInputIds, mask: batch.decoderMask, length: batch.decoderLength };
    const encoded = this.encode(enc, batch.batchSize, ctx, report);
    const logits = this.decode(dec, enc, encoded, batch.batchSize, ctx, report);
    const ce = crossEntropy(logits, batch.decoderTargetIds, batch.decoderMask);
    // Expert choice is balanced by construction: its routers take no balance loss.
    const auxLoss = sumScalars(report.routers.filter((r) => r.balanceLoss).map((r) => loadBalancingLoss(r.probs, r.plan, r.mask)));
    const zLoss = sumScalars(report.routers.map((r) => routerZLoss(r.logits, r.mask)));
    const c = this.config;
    const loss = tf.addN([ce, tf.mul(c.routerAuxLossCoef, auxLoss), tf.mul(c.routerZLossCoef, zLoss)]) as tf.Scalar;
    return { loss, crossEntropy: ce, auxLoss, zLoss, routing: report.routing, logits };
  }

  dispose(): void {
    this.params.dispose();
  }
}

interface DecoderParts {
  decoder: DecoderBlock[];
  decoderNorm: RmsNorm;
  /** [dModel, vocab] */
  lmHead: tf.Variable;
}

function buildDecoder(c: SwitchConfig, p: ParamStore): DecoderParts {
  return {
    decoder: Array.from({ length: c.numDecoderLayers }, (_, i) => new DecoderBlock(c, p, i, isSparseLayer(c, i, c.decoderSparseStep))),
    decoderNorm: new RmsNorm(p, 'decoder.final_layer_norm', c.dModel, c.layerNormEpsilon),
    lmHead: p.weight('lm_head.weight', [c.dModel, c.vocabSize]),
  };
}

function sumScalars(xs: tf.Scalar[]): tf.Scalar {
  return xs.length ? (tf.addN(xs) as tf.Scalar) : tf.scalar(0);
}
