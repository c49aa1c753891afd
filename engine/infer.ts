// Inference on any text: how every encoder token was routed at every sparse layer, and what the
// model writes for each <extra_id_N> sentinel (greedy decoding, T5's fill-in-the-blank format).
import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from './data/tokenizer';
import type { SparseReport } from './model/block';
import { ForwardContext } from './model/context';
import type { SwitchTransformer } from './model/model';
import type { InferenceResult } from './protocol';

/** What inference finds in a text; the protocol's result adds the run and its step. */
export type Inference = Omit<InferenceResult, 'runId' | 'step'>;

export const MAX_INFER_TOKENS = 512;

export function infer(model: SwitchTransformer, tokenizer: Tokenizer, text: string, maxNewTokens = 32): Inference {
  if (!text.trim()) throw new Error('there is no text to run the model on');
  const enc = tokenizer.encode(text);
  if (enc.ids.length + 1 > MAX_INFER_TOKENS) throw new Error(`the text is ${enc.ids.length} tokens long; the limit is ${MAX_INFER_TOKENS - 1}`);
  const ids = Int32Array.from([...enc.ids, tokenizer.eosId]);
  const input = { ids, mask: new Float32Array(ids.length).fill(1), length: ids.length };
  const report: SparseReport = { auxLosses: [], zLosses: [], routing: [] };
  const ctx = new ForwardContext(false);

  const generated = tf.tidy(() => {
    const encoded = model.encode(input, 1, ctx, report);
    const out: number[] = [model.config.decoderStartTokenId];
    for (let i = 0; i < maxNewTokens; i++) {
      const dec = { ids: Int32Array.from(out), mask: new Float32Array(out.length).fill(1), length: out.length };
      // The decoder's own routing is not reported: it would describe the generated text, not the input.
      const next = tf.tidy(() => {
        const logits = model.decode(dec, input, encoded, 1, ctx, { auxLosses: [], zLosses: [], routing: [] });
        return tf.argMax(tf.slice(logits, [out.length - 1, 0], [1, -1]), 1).dataSync()[0];
      });
      if (next === tokenizer.eosId) break;
      out.push(next);
    }
    return out.slice(1);
  });
  tf.dispose([...report.auxLosses, ...report.zLosses]);

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
    fills: sentinelFills(generated, tokenizer),
    output: tokenizer.decode(generated),
  };
}

/** Splits "<extra_id_0> a b <extra_id_1> c" into the text after each sentinel. */
export function sentinelFills(ids: number[], tokenizer: Tokenizer): { sentinel: number; text: string }[] {
  const fills: { sentinel: number; ids: number[] }[] = [];
  for (const id of ids) {
    if (tokenizer.isSentinel(id)) fills.push({ sentinel: tokenizer.sentinelIndex(id), ids: [] });
    else fills[fills.length - 1]?.ids.push(id);
  }
  return fills.map((f) => ({ sentinel: f.sentinel, text: tokenizer.decode(f.ids).trim() }));
}
