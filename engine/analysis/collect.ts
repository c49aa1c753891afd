// Routes a model's validation batches in eval mode and gathers, per sparse layer, what the analyses
// read (RoutedTokens): encoder layers labelled by part-of-speech tag (universal tags; a corpus
// without tags by token class), decoder layers by token class. Only real tokens are kept; special
// tokens (sentinels, </s>, <pad>) are routed and counted but carry no label.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/batches';
import type { Tokenizer } from '../data/tokenizer';
import { newSparseReport } from '../model/block';
import { ForwardContext } from '../model/context';
import type { SwitchTransformer } from '../model/model';
import type { RoutedTokens } from './routedTokens';
import { isEncoder, TokenLabels } from './tokenLabels';

interface Part {
  layer: string;
  numExperts: number;
  position: number[];
  label: number[];
  tokenId: number[];
  expert: number[];
  dropped: number[];
  probs: number[];
  groupSizes: number[];
  inputSum: Float64Array;
  inputEnergy: number;
  logits: number[];
}

/** tags: the run's Brown tag names (empty for a user corpus). */
export function collectRouting(model: SwitchTransformer, tokenizer: Tokenizer, batches: readonly Batch[], tags: readonly string[]): RoutedTokens[] {
  const labels = new TokenLabels(tokenizer, tags);
  const parts = new Map<string, Part>();
  for (const batch of batches) {
    tf.tidy(() => {
      const report = newSparseReport();
      const ctx = new ForwardContext(false);
      const enc = { ids: batch.encoderIds, mask: batch.encoderMask, length: batch.encoderLength };
      const dec = { ids: batch.decoderInputIds, mask: batch.decoderMask, length: batch.decoderLength };
      model.decode(dec, enc, model.encode(enc, batch.batchSize, ctx, report), batch.batchSize, ctx, report);
      report.routing.forEach((routing, l) => {
        const [ids, mask, length] = isEncoder(routing.layer) ? [batch.encoderIds, batch.encoderMask, batch.encoderLength] : [batch.decoderInputIds, batch.decoderMask, batch.decoderLength];
        const label = labels.ofBatch(routing.layer, batch);
        const router = report.routers[l];
        const d = router.input.shape[1];
        const part = parts.get(routing.layer) ?? { layer: routing.layer, numExperts: routing.numExperts, position: [], label: [], tokenId: [], expert: [], dropped: [], probs: [], groupSizes: [], inputSum: new Float64Array(d), inputEnergy: 0, logits: [] };
        parts.set(routing.layer, part);
        const probs = router.probsHost;
        const input = router.input.dataSync() as Float32Array;
        const logits = router.logits.dataSync() as Float32Array;
        let real = 0;
        for (let t = 0; t < ids.length; t++) {
          if (!mask[t] || routing.tokens.expert[t] < 0) continue;
          real++;
          part.position.push(t % length);
          part.label.push(label[t]);
          part.tokenId.push(ids[t]);
          part.expert.push(routing.tokens.expert[t]);
          part.dropped.push(routing.tokens.dropped[t]);
          for (let e = 0; e < routing.numExperts; e++) {
            part.probs.push(probs[t * routing.numExperts + e]);
            part.logits.push(logits[t * routing.numExperts + e]);
          }
          for (let j = 0; j < d; j++) {
            const v = input[t * d + j];
            part.inputSum[j] += v;
            part.inputEnergy += v * v;
          }
        }
        part.groupSizes.push(real);
      });
    });
  }
  return [...parts.values()].map((p) => ({
    layer: p.layer,
    numExperts: p.numExperts,
    labels: labels.names(p.layer),
    position: Int32Array.from(p.position),
    label: Int32Array.from(p.label),
    tokenId: Int32Array.from(p.tokenId),
    expert: Int32Array.from(p.expert),
    dropped: Uint8Array.from(p.dropped),
    probs: Float32Array.from(p.probs),
    groupSizes: p.groupSizes,
    routerInput: { sum: p.inputSum, energy: p.inputEnergy, logits: Float32Array.from(p.logits), numExperts: p.numExperts },
  }));
}
