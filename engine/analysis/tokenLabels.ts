// What each routed token is, for the analyses: an encoder token of a tagged corpus (Brown) by its
// universal part-of-speech tag, a decoder token or any token of a user corpus by its token class.
// Sentinels, </s> and <pad> are the objective's markers, not text: no label (-1).
import type { Batch } from '../data/batches';
import type { Tokenizer } from '../data/tokenizer';
import { TOKEN_CLASSES, tokenClass } from './tokenClass';
import { UNIVERSAL_TAGS, universalTag } from './universalTags';

export class TokenLabels {
  private readonly universal: number[];
  private readonly classOf = new Map<number, number>();

  /** tags: the run's Brown tag names (empty for a user corpus). */
  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly tags: readonly string[],
  ) {
    this.universal = tags.map((t) => UNIVERSAL_TAGS.indexOf(universalTag(t)));
  }

  /** The label names of `layer`'s tokens (an encoder or decoder layer, by its name). */
  names(layer: string): readonly string[] {
    return this.byTag(layer) ? UNIVERSAL_TAGS : TOKEN_CLASSES;
  }

  /** [N] the label of each position of `batch` on `layer`'s side; -1 for padding and markers. */
  ofBatch(layer: string, batch: Batch): Int32Array {
    const encoder = isEncoder(layer);
    const [ids, mask] = encoder ? [batch.encoderIds, batch.encoderMask] : [batch.decoderInputIds, batch.decoderMask];
    const byTag = this.byTag(layer);
    const out = new Int32Array(ids.length).fill(-1);
    for (let t = 0; t < ids.length; t++) {
      if (!mask[t]) continue;
      out[t] = byTag ? (batch.encoderTags[t] >= 0 ? this.universal[batch.encoderTags[t]] : -1) : this.tokenClassId(ids[t]);
    }
    return out;
  }

  private byTag(layer: string): boolean {
    return isEncoder(layer) && this.tags.length > 0;
  }

  private tokenClassId(id: number): number {
    const tok = this.tokenizer;
    if (id === tok.padId || id === tok.eosId || tok.isSentinel(id)) return -1;
    let c = this.classOf.get(id);
    if (c === undefined) this.classOf.set(id, (c = TOKEN_CLASSES.indexOf(tokenClass(tok.decode([id])))));
    return c;
  }
}

export function isEncoder(layer: string): boolean {
  return layer.startsWith('encoder.');
}
