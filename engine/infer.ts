// Inference on any text: how every encoder token was routed at every sparse layer, and what the
// model writes for each <extra_id_N> sentinel (greedy decoding, T5's fill-in-the-blank format).
import * as tf from '@tensorflow/tfjs-core';
import type { Encoding } from './data/tokenizer';
import { newSparseReport } from './model/block';
import { ForwardContext } from './model/context';
import type { SwitchTransformer } from './model/model';
import type { InferenceResult } from './protocol';

/** What inference finds in a text; the protocol's result adds the run and its step. */
export type Inference = Omit<InferenceResult, 'runId' | 'step'>;
export type Fill = Inference['fills'][number];

/** What inference needs of a tokenizer: the engine's BPE, or an imported model's own (HF's library). */
export interface InferenceTokenizer {
  readonly eosId: number;
  readonly numSentinels: number;
  encode(text: string): Encoding;
  decode(ids: ArrayLike<number>): string;
  isSentinel(id: number): boolean;
  sentinelIndex(id: number): number;
  sentinelId(i: number): number;
}

export const MAX_INFER_TOKENS = 512;

/** maxNewTokens 0: the routing alone (the encoder; an imported model's decoder is not even loaded), no fills. */
export function infer(model: SwitchTransformer, tokenizer: InferenceTokenizer, text: string, maxNewTokens = 32): Inference {
  if (!text.trim()) throw new Error('there is no text to run the model on');
  const enc = tokenizer.encode(text);
  if (enc.ids.length + 1 > MAX_INFER_TOKENS) throw new Error(`the text is ${enc.ids.length} tokens long; the limit is ${MAX_INFER_TOKENS - 1}`);
  const ids = Int32Array.from([...enc.ids, tokenizer.eosId]);
  const input = { ids, mask: new Float32Array(ids.length).fill(1), length: ids.length };
  const report = newSparseReport();
  const ctx = new ForwardContext(false);

  const inputSentinels = enc.ids.filter((id) => tokenizer.isSentinel(id)).map((id) => tokenizer.sentinelIndex(id));
  const stopId = stopSentinel(inputSentinels, tokenizer);
  const generated = tf.tidy(() => {
    const encoded = model.encode(input, 1, ctx, report);
    if (maxNewTokens === 0) return [];
    const out: number[] = [model.config.decoderStartTokenId];
    for (let i = 0; i < maxNewTokens; i++) {
      const dec = { ids: Int32Array.from(out), mask: new Float32Array(out.length).fill(1), length: out.length };
      // The decoder's own routing is not reported: it would describe the generated text, not the input.
      const next = tf.tidy(() => {
        const logits = model.decode(dec, input, encoded, 1, ctx, newSparseReport());
        return tf.argMax(tf.slice(logits, [out.length - 1, 0], [1, -1]), 1).dataSync()[0];
      });
      if (next === tokenizer.eosId) break;
      out.push(next);
      if (next === stopId) break;
    }
    return out.slice(1);
  });

  const n = enc.ids.length;
  return {
    tokens: enc.ids.map((id, i) => ({ id, text: text.slice(enc.offsets[i][0], enc.offsets[i][1]), start: enc.offsets[i][0], end: enc.offsets[i][1] })),
    layers: report.routing.map((r) => ({
      layer: r.layer,
      numExperts: r.numExperts,
      capacity: r.capacity,
      tokens: Array.from({ length: n }, (_, t) => ({
        expert: r.tokens.expert[t],
        prob: r.tokens.prob[t],
        dropped: r.tokens.dropped[t] === 1,
        entropy: r.tokens.entropy[t],
      })),
    })),
    fills: maxNewTokens === 0 ? [] : sentinelFills(inputSentinels, generated, tokenizer),
    output: tokenizer.decode(generated),
  };
}

/**
 * The sentinel that closes the answer: T5's targets end with the sentinel after the input's last
 * one ("<extra_id_0> a <extra_id_1>" for one blank). Null when the input has no sentinel or its last
 * sentinel is the vocabulary's last.
 */
function stopSentinel(inputSentinels: number[], tokenizer: InferenceTokenizer): number | null {
  if (!inputSentinels.length) return null;
  const next = Math.max(...inputSentinels) + 1;
  return next < tokenizer.numSentinels ? tokenizer.sentinelId(next) : null;
}

/**
 * One fill per sentinel of the input, in the input's order, read the T5 way: the text between that
 * sentinel's first appearance in the output and the next sentinel there. A sentinel the output never
 * has gets `text: null` (no fill); repeated and extra sentinels in the output are ignored.
 */
export function sentinelFills(inputSentinels: number[], outputIds: number[], tokenizer: InferenceTokenizer): Fill[] {
  return inputSentinels.map((sentinel) => {
    const start = outputIds.indexOf(tokenizer.sentinelId(sentinel));
    if (start < 0) return { sentinel, text: null };
    let end = start + 1;
    while (end < outputIds.length && !tokenizer.isSentinel(outputIds[end])) end++;
    return { sentinel, text: tokenizer.decode(outputIds.slice(start + 1, end)).trim() };
  });
}
