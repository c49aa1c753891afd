// Trains the BPE tokenizer of tokenizer.ts. HF's own trainer (npm `tokenizers`)
// could not be used: its JS bindings expose no trainer options (vocabulary
// size, special tokens, byte-fallback tokens).
//
// Classic BPE over distinct pre-tokenized pieces weighted by count: start from
// characters, repeatedly merge the most frequent adjacent pair (ties: lowest
// ids first) until the vocabulary is full or no pair occurs minFrequency times.
// Rare characters (beyond characterCoverage, as in SentencePiece) are left to
// the byte-fallback tokens and never merged.

import { PairHeap } from './pairHeap';
import { pretokenize } from './pretokenize';
import { MAX_VOCAB, Tokenizer, pairKey } from './tokenizer';
import {
  DEFAULT_NUM_SENTINELS,
  EOS_TOKEN,
  FIRST_LEARNED_ID,
  PAD_TOKEN,
  UNK_TOKEN,
  byteToken,
  sentinelToken,
} from './vocabLayout';

export interface TrainOptions {
  /** Total vocabulary including <pad>, </s>, <unk>, 256 byte tokens and the sentinels. */
  vocabSize: number;
  /** Pairs seen fewer times are not merged. */
  minFrequency?: number;
  /** Fraction of character occurrences the base alphabet must cover. */
  characterCoverage?: number;
  numSentinels?: number;
}

const NOT_IN_ALPHABET = -1;

function isLoneSurrogate(ch: string): boolean {
  return ch.length === 1 && ch >= '\ud800' && ch <= '\udfff';
}

function chooseAlphabet(charCounts: Map<string, number>, coverage: number, budget: number): string[] {
  let total = 0;
  for (const n of charCounts.values()) total += n;
  const byFrequency = [...charCounts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const alphabet: string[] = [];
  let covered = 0;
  for (const [ch, n] of byFrequency) {
    if (alphabet.length >= budget || covered >= coverage * total) break;
    // A lone surrogate has no UTF-8 form, so HF could not read it back from tokenizer.json.
    if (isLoneSurrogate(ch)) continue;
    alphabet.push(ch);
    covered += n;
  }
  return alphabet;
}

export function trainTokenizer(texts: Iterable<string>, opts: TrainOptions): Tokenizer {
  const numSentinels = opts.numSentinels ?? DEFAULT_NUM_SENTINELS;
  const minFrequency = opts.minFrequency ?? 2;
  const learnedLimit = opts.vocabSize - numSentinels;
  if (!Number.isInteger(opts.vocabSize) || learnedLimit < FIRST_LEARNED_ID || opts.vocabSize > MAX_VOCAB) {
    throw new RangeError(`vocabSize ${opts.vocabSize} must be an integer in [${FIRST_LEARNED_ID + numSentinels}, ${MAX_VOCAB}]`);
  }

  const pieceCounts = new Map<string, number>();
  for (const text of texts) {
    for (const { text: piece } of pretokenize(text)) pieceCounts.set(piece, (pieceCounts.get(piece) ?? 0) + 1);
  }
  const charCounts = new Map<string, number>();
  for (const [piece, n] of pieceCounts) {
    for (const ch of piece) charCounts.set(ch, (charCounts.get(ch) ?? 0) + n);
  }

  const tokens = [PAD_TOKEN, EOS_TOKEN, UNK_TOKEN, ...Array.from({ length: 256 }, (_, b) => byteToken(b))];
  tokens.push(...chooseAlphabet(charCounts, opts.characterCoverage ?? 0.9995, learnedLimit - FIRST_LEARNED_ID));
  const ids = new Map(tokens.map((t, id) => [t, id]));

  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [piece, n] of pieceCounts) {
    const syms = Array.from(piece, (ch) => ids.get(ch) ?? NOT_IN_ALPHABET);
    if (syms.length < 2) continue;
    words.push(syms);
    freqs.push(n);
  }

  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const forEachPair = (syms: number[], fn: (key: number) => void) => {
    for (let i = 0; i + 1 < syms.length; i++) {
      if (syms[i] !== NOT_IN_ALPHABET && syms[i + 1] !== NOT_IN_ALPHABET) fn(pairKey(syms[i], syms[i + 1]));
    }
  };
  words.forEach((syms, w) =>
    forEachPair(syms, (key) => {
      counts.set(key, (counts.get(key) ?? 0) + freqs[w]);
      let set = where.get(key);
      if (!set) where.set(key, (set = new Set()));
      set.add(w);
    }),
  );
  const heap = new PairHeap();
  for (const [key, n] of counts) heap.push(n, key);

  const merges: [number, number][] = [];
  while (tokens.length < learnedLimit) {
    const top = heap.peek();
    if (!top) break;
    heap.pop();
    if (counts.get(top.key) !== top.count) continue; // stale entry
    if (top.count < minFrequency) break;
    const a = Math.floor(top.key / MAX_VOCAB);
    const b = top.key % MAX_VOCAB;
    const merged = tokens[a] + tokens[b];
    let id = ids.get(merged);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(merged);
      ids.set(merged, id);
    }
    merges.push([a, b]);

    const delta = new Map<number, number>();
    for (const w of where.get(top.key) ?? []) {
      const syms = words[w];
      const f = freqs[w];
      forEachPair(syms, (key) => delta.set(key, (delta.get(key) ?? 0) - f));
      const next: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          next.push(id);
          i++;
        } else {
          next.push(syms[i]);
        }
      }
      words[w] = next;
      forEachPair(next, (key) => {
        delta.set(key, (delta.get(key) ?? 0) + f);
        let set = where.get(key);
        if (!set) where.set(key, (set = new Set()));
        set.add(w);
      });
    }
    where.delete(top.key);
    for (const [key, d] of delta) {
      if (d === 0) continue;
      const n = (counts.get(key) ?? 0) + d;
      if (n > 0) {
        counts.set(key, n);
        heap.push(n, key);
      } else {
        counts.delete(key);
      }
    }
  }

  for (let i = numSentinels - 1; i >= 0; i--) tokens.push(sentinelToken(i));
  return new Tokenizer({ tokens, merges, numSentinels });
}
