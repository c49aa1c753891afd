// An HF model's own tokenizer.json (T5's SentencePiece Unigram for the Switch checkpoints), run by
// HF's JavaScript tokenizers library so that the ids are HF's, behind the surface inference uses.
// The library gives no offsets: each token is placed in the text by matching its piece.
import { Tokenizer as HfLibTokenizer } from '@huggingface/tokenizers';
import type { Encoding } from '../../data/tokenizer';
import { CheckpointFormatError } from './tensors';

const METASPACE = '\u2581'; // SentencePiece's "▁", which stands for the space before a word
const BYTE_TOKEN = /^<0x([0-9A-F]{2})>$/;

export class HfTokenizer {
  readonly vocabSize: number;
  readonly eosId: number;
  readonly numSentinels: number;
  private readonly sentinels: number[] = [];
  private readonly sentinelIndexOf = new Map<number, number>();
  private readonly special: Set<string>;
  private readonly unkToken: string | undefined;

  private constructor(
    private readonly lib: HfLibTokenizer,
    json: { added_tokens?: { content: string; special?: boolean }[]; model?: { unk_id?: number | null; vocab?: unknown } },
  ) {
    const id = (token: string) => {
      const i = lib.token_to_id(token);
      if (i === undefined) throw new CheckpointFormatError('tokenizer.json', `has no ${token} token`);
      return i;
    };
    this.eosId = id('</s>');
    this.vocabSize = Math.max(...lib.get_vocab(true).values()) + 1;
    for (let i = 0; lib.token_to_id(`<extra_id_${i}>`) !== undefined; i++) {
      this.sentinels.push(id(`<extra_id_${i}>`));
      this.sentinelIndexOf.set(this.sentinels[i], i);
    }
    this.numSentinels = this.sentinels.length;
    this.special = new Set((json.added_tokens ?? []).map((t) => t.content));
    const unkId = json.model?.unk_id;
    this.unkToken = typeof unkId === 'number' ? lib.id_to_token(unkId) : undefined;
  }

  static fromJSON(json: unknown): HfTokenizer {
    if (typeof json !== 'object' || json === null) throw new CheckpointFormatError('tokenizer.json', 'not a JSON object');
    let lib: HfLibTokenizer;
    try {
      lib = new HfLibTokenizer(json, {});
    } catch (err) {
      throw new CheckpointFormatError('tokenizer.json', `HF's tokenizer library cannot load it: ${(err as Error).message}`);
    }
    return new HfTokenizer(lib, json);
  }

  encode(text: string): Encoding {
    const { ids, tokens } = this.lib.encode(text, { add_special_tokens: false });
    return { ids, offsets: this.offsets(text, tokens) };
  }

  decode(ids: ArrayLike<number>): string {
    return ids.length ? this.lib.decode(Array.from(ids)) : '';
  }

  sentinelId(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.numSentinels) throw new RangeError(`no sentinel ${i}`);
    return this.sentinels[i];
  }

  isSentinel(id: number): boolean {
    return this.sentinelIndexOf.has(id);
  }

  sentinelIndex(id: number): number {
    const i = this.sentinelIndexOf.get(id);
    if (i === undefined) throw new RangeError(`token id ${id} is not a sentinel`);
    return i;
  }

  /**
   * [start, end) of each token in `text`, found left to right: a special token where it next
   * occurs, a SentencePiece piece after the whitespace its "▁" stands for, an unknown token as one
   * character, a byte-fallback token as its character, any other piece as itself. Where the
   * normalizer changed the text (NFKC), a piece takes as many characters as it has: approximate.
   */
  private offsets(text: string, tokens: string[]): [number, number][] {
    let pos = 0;
    let charStart = 0;
    return tokens.map((token): [number, number] => {
      const byte = BYTE_TOKEN.exec(token);
      if (byte) {
        // Byte-fallback: the bytes of one character share its span, as in the engine's tokenizer.
        if ((parseInt(byte[1], 16) & 0xc0) !== 0x80) {
          charStart = pos;
          pos = Math.min(text.length, pos + String.fromCodePoint(text.codePointAt(pos) ?? 32).length);
        }
        return [charStart, pos];
      }
      if (this.special.has(token) && token !== this.unkToken) {
        const at = text.indexOf(token, pos);
        if (at >= 0) pos = at + token.length;
        return [Math.max(at, 0), pos];
      }
      const metaspace = token.startsWith(METASPACE);
      if (metaspace || token === this.unkToken) while (pos < text.length && /\s/.test(text[pos])) pos++;
      const start = pos;
      const piece = token === this.unkToken ? String.fromCodePoint(text.codePointAt(pos) ?? 32) : metaspace ? token.slice(1).replaceAll(METASPACE, ' ') : token;
      pos = Math.min(text.length, pos + piece.length);
      return [start, pos];
    });
  }
}
