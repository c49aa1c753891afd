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
import { TOKEN_CLASSES, tokenClass } from './tokenClass';
import { UNIVERSAL_TAGS, universalTag } from './universalTags';

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
}

/** tags: the run's Brown tag names (empty for a user corpus). */
export function collectRouting(model: SwitchTransformer, tokenizer: Tokenizer, batches: readonly Batch[], tags: readonly string[]): RoutedTokens[] {
  const universal = tags.map((t) => UNIVERSAL_TAGS.indexOf(universalTag(t)));
  const classOf = new Map<number, number>();
  // Sentinels, </s> and <pad> are the objective's markers, not text: no class.
  const special = (id: number) => id === tokenizer.padId || id === tokenizer.eosId || tokenizer.isSentinel(id);
  const tokenClassId = (id: number) => {
    if (special(id)) return -1;
    let c = classOf.get(id);
    if (c === undefined) classOf.set(id, (c = TOKEN_CLASSES.indexOf(tokenClass(tokenizer.decode([id])))));
    return c;
  };
  const parts = new Map<string, Part>();
  for (const batch of batches) {
    tf.tidy(() => {
      const report = newSparseReport();
      const ctx = new ForwardContext(false);
      const enc = { ids: batch.encoderIds, mask: batch.encoderMask, length: batch.encoderLength };
      const dec = { ids: batch.decoderInputIds, mask: batch.decoderMask, length: batch.decoderLength };
      model.decode(dec, enc, model.encode(enc, batch.batchSize, ctx, report), batch.batchSize, ctx, report);
      report.routing.forEach((routing, l) => {
        const encoder = routing.layer.startsWith('encoder.');
        const [ids, mask, length] = encoder ? [batch.encoderIds, batch.encoderMask, batch.encoderLength] : [batch.decoderInputIds, batch.decoderMask, batch.decoderLength];
        const byTag = encoder && tags.length > 0;
        const part = parts.get(routing.layer) ?? { layer: routing.layer, numExperts: routing.numExperts, position: [], label: [], tokenId: [], expert: [], dropped: [], probs: [], groupSizes: [] };
        parts.set(routing.layer, part);
        const probs = report.routers[l].probsHost;
        let real = 0;
        for (let t = 0; t < ids.length; t++) {
          if (!mask[t] || routing.tokens.expert[t] < 0) continue;
          real++;
          part.position.push(t % length);
          part.label.push(byTag ? (batch.encoderTags[t] >= 0 ? universal[batch.encoderTags[t]] : -1) : tokenClassId(ids[t]));
          part.tokenId.push(ids[t]);
          part.expert.push(routing.tokens.expert[t]);
          part.dropped.push(routing.tokens.dropped[t]);
          for (let e = 0; e < routing.numExperts; e++) part.probs.push(probs[t * routing.numExperts + e]);
        }
        part.groupSizes.push(real);
      });
    });
  }
  return [...parts.values()].map((p) => ({
    layer: p.layer,
    numExperts: p.numExperts,
    labels: p.layer.startsWith('encoder.') && tags.length > 0 ? UNIVERSAL_TAGS : TOKEN_CLASSES,
    position: Int32Array.from(p.position),
    label: Int32Array.from(p.label),
    tokenId: Int32Array.from(p.tokenId),
    expert: Int32Array.from(p.expert),
    dropped: Uint8Array.from(p.dropped),
    probs: Float32Array.from(p.probs),
    groupSizes: p.groupSizes,
  }));
}
