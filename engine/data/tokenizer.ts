// A BPE tokenizer with byte fallback. Encoding follows HF tokenizers' BPE
// model exactly (special tokens matched first, then pre-tokenization, then per
// piece: known characters as tokens, unknown ones as UTF-8 byte tokens, then
// the lowest-ranked adjacent merge, leftmost first, until none applies), so a
// tokenizer.json written by toJSON gives the same ids in HF's libraries.
// Any well-formed string round-trips: decode(encode(s).ids) === s.

import { pretokenize } from './pretokenize';
import {
  BYTE_BASE,
  EOS_ID,
  FIRST_LEARNED_ID,
  PAD_ID,
  UNK_ID,
  byteToken,
  sentinelToken,
  specialTokenIds,
} from './vocabLayout';
import { toTokenizerJson, parseTokenizerJson, type TokenizerJson } from './tokenizerJson';

export interface Encoding {
  ids: number[];
  /** [start, end) UTF-16 offsets into the input; byte tokens of one character share its span. */
  offsets: [number, number][];
}

export interface WordsEncoding extends Encoding {
  /** For each token, the index of the word it belongs to. */
  wordIndex: number[];
}

// Merge lookup key for an adjacent id pair; ids stay below 2^21.
export const MAX_VOCAB = 1 << 21;
export const pairKey = (a: number, b: number) => a * MAX_VOCAB + b;

// Pieces repeat a lot (words); the cache is dropped whole when it fills.
const CACHE_LIMIT = 200_000;

interface PieceTokens {
  ids: number[];
  starts: number[];
  ends: number[];
}

export interface TokenizerModel {
  /** Token strings by id, laid out as in vocabLayout.ts. */
  tokens: string[];
  /** Merges by rank, as pairs of token ids. */
  merges: [number, number][];
  numSentinels: number;
}

export class Tokenizer {
  readonly padId = PAD_ID;
  readonly eosId = EOS_ID;
  readonly unkId = UNK_ID;
  readonly vocabSize: number;
  readonly numSentinels: number;
  private readonly tokens: string[];
  private readonly merges: [number, number][];
  private readonly ids = new Map<string, number>();
  private readonly mergeRanks = new Map<number, { rank: number; id: number }>();
  private readonly specialIds = new Map<string, number>();
  private readonly specialPattern: RegExp;
  private readonly cache = new Map<string, PieceTokens>();
  private readonly utf8 = new TextEncoder();

  constructor(model: TokenizerModel) {
    this.tokens = model.tokens;
    this.merges = model.merges;
    this.numSentinels = model.numSentinels;
    this.vocabSize = model.tokens.length;
    if (this.vocabSize >= MAX_VOCAB) throw new RangeError(`vocabulary too large: ${this.vocabSize}`);
    for (let b = 0; b < 256; b++) {
      if (this.tokens[BYTE_BASE + b] !== byteToken(b)) throw new Error(`token ${BYTE_BASE + b} must be ${byteToken(b)}`);
    }
    this.tokens.forEach((t, id) => {
      if (this.ids.has(t)) throw new Error(`duplicate token ${JSON.stringify(t)}`);
      this.ids.set(t, id);
    });
    for (const id of specialTokenIds(this.vocabSize, this.numSentinels)) this.specialIds.set(this.tokens[id], id);
    for (let i = 0; i < this.numSentinels; i++) {
      if (this.tokens[this.sentinelId(i)] !== sentinelToken(i)) throw new Error(`token ${this.sentinelId(i)} must be ${sentinelToken(i)}`);
    }
    this.merges.forEach(([a, b], rank) => {
      const id = this.ids.get(this.tokens[a] + this.tokens[b]);
      if (id === undefined) throw new Error(`merge ${rank} makes a token missing from the vocabulary`);
      const key = pairKey(a, b);
      if (!this.mergeRanks.has(key)) this.mergeRanks.set(key, { rank, id });
    });
    // Longest first, so that e.g. <extra_id_10> wins over <extra_id_1> (HF matches leftmost-longest).
    const alternatives = [...this.specialIds.keys()]
      .sort((x, y) => y.length - x.length)
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.specialPattern = new RegExp(alternatives.join('|'), 'g');
  }

  static fromJSON(json: unknown): Tokenizer {
    return new Tokenizer(parseTokenizerJson(json));
  }

  /** The HF tokenizer.json object; JSON.stringify it to save. */
  toJSON(): TokenizerJson {
    return toTokenizerJson({ tokens: this.tokens, merges: this.merges, numSentinels: this.numSentinels });
  }

  /** T5's <extra_id_i>, counting down from the top of the vocabulary. */
  sentinelId(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.numSentinels) throw new RangeError(`no sentinel ${i}`);
    return this.vocabSize - 1 - i;
  }

  isSentinel(id: number): boolean {
    return id >= this.vocabSize - this.numSentinels && id < this.vocabSize;
  }

  /** i for the id of <extra_id_i> (the inverse of sentinelId). */
  sentinelIndex(id: number): number {
    if (!this.isSentinel(id)) throw new RangeError(`token id ${id} is not a sentinel`);
    return this.vocabSize - 1 - id;
  }

  idToToken(id: number): string {
    const token = this.tokens[id];
    if (token === undefined) throw new RangeError(`token id ${id} outside vocabulary of ${this.vocabSize}`);
    return token;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  encode(text: string): Encoding {
    const ids: number[] = [];
    const offsets: [number, number][] = [];
    const encodePlain = (plain: string, base: number) => {
      for (const piece of pretokenize(plain)) {
        const t = this.encodePiece(piece.text);
        const at = base + piece.start;
        for (let k = 0; k < t.ids.length; k++) {
          ids.push(t.ids[k]);
          offsets.push([at + t.starts[k], at + t.ends[k]]);
        }
      }
    };
    let last = 0;
    for (const m of text.matchAll(this.specialPattern)) {
      encodePlain(text.slice(last, m.index), last);
      ids.push(this.specialIds.get(m[0]) as number);
      offsets.push([m.index, m.index + m[0].length]);
      last = m.index + m[0].length;
    }
    encodePlain(text.slice(last), last);
    return { ids, offsets };
  }

  /**
   * Encodes words joined by single spaces and tells which word each token
   * came from, so per-word labels (POS tags) can follow the tokens. Pieces
   * never cross a space-then-word boundary, so no token spans two words; a
   * space that BPE leaves as a token of its own belongs to no word (-1).
   */
  encodeWords(words: string[]): WordsEncoding {
    const spans: [number, number][] = [];
    let pos = 0;
    for (const w of words) {
      spans.push([pos, pos + w.length]);
      pos += w.length + 1;
    }
    const encoding = this.encode(words.join(' '));
    return { ...encoding, wordIndex: wordIndexOfTokens(encoding.offsets, spans) };
  }

  /**
   * Inverse of encode. Runs of byte tokens are decoded as UTF-8; a run that is
   * not valid UTF-8 (only possible for ids that encode never produces) gives
   * one U+FFFD per byte, as HF's ByteFallback decoder does.
   */
  decode(ids: ArrayLike<number>): string {
    let out = '';
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length === 0) return;
      try {
        out += new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
      } catch {
        out += '\uFFFD'.repeat(bytes.length);
      }
      bytes = [];
    };
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      if (id >= BYTE_BASE && id < FIRST_LEARNED_ID) {
        bytes.push(id - BYTE_BASE);
      } else {
        flush();
        out += this.idToToken(id);
      }
    }
    flush();
    return out;
  }

  private encodePiece(piece: string): PieceTokens {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    const ids: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let pos = 0;
    for (const ch of piece) {
      const id = this.ids.get(ch);
      const end = pos + ch.length;
      // A lone surrogate has no UTF-8 form; TextEncoder makes it U+FFFD, as any UTF-8 pipeline would.
      for (const tokenId of id !== undefined ? [id] : Array.from(this.utf8.encode(ch), (b) => BYTE_BASE + b)) {
        ids.push(tokenId);
        starts.push(pos);
        ends.push(end);
      }
      pos = end;
    }
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      let bestId = -1;
      for (let k = 0; k + 1 < ids.length; k++) {
        const merge = this.mergeRanks.get(pairKey(ids[k], ids[k + 1]));
        if (merge && merge.rank < bestRank) {
          best = k;
          bestRank = merge.rank;
          bestId = merge.id;
        }
      }
      if (best < 0) break;
      ids.splice(best, 2, bestId);
      starts.splice(best + 1, 1);
      ends.splice(best, 1);
    }
    const result = { ids, starts, ends };
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, result);
    return result;
  }
}

/**
 * Word of each token: the word whose [start, end) span holds the token's last
 * character (a token " the" belongs to "the"), or -1 for separators. Both
 * token offsets and word spans must be in text order.
 */
export function wordIndexOfTokens(offsets: [number, number][], wordSpans: [number, number][]): number[] {
  let w = 0;
  return offsets.map(([, end]) => {
    const last = end - 1;
    while (w < wordSpans.length && wordSpans[w][1] <= last) w++;
    return w < wordSpans.length && wordSpans[w][0] <= last ? w : -1;
  });
}
