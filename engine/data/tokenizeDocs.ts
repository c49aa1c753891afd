// Turns documents into token id arrays for the batch iterator. Brown documents
// also get a part-of-speech tag id per token (the tag of the word the token
// belongs to; -1 for separators), so routing can later be broken down by POS.

import type { BrownDocument } from './brown';
import { wordIndexOfTokens, type Tokenizer } from './tokenizer';

export const NO_TAG = -1;

export interface TokenizedDoc {
  id: string;
  ids: Int32Array;
  /** Tag id per token (index into the tag vocabulary), NO_TAG where unknown. */
  tags?: Int32Array;
}

/** Sorted list of the tags that occur; a tag's id is its index. */
export function tagVocabulary(docs: BrownDocument[]): string[] {
  const tags = new Set<string>();
  for (const doc of docs) for (const sentence of doc.sentences) for (const w of sentence) tags.add(w.tag);
  return [...tags].sort();
}

export function tokenizePlain(tokenizer: Tokenizer, doc: { id: string; text: string }): TokenizedDoc {
  return { id: doc.id, ids: Int32Array.from(tokenizer.encode(doc.text).ids) };
}

export function tokenizeTagged(tokenizer: Tokenizer, doc: BrownDocument, tagIds: Map<string, number>): TokenizedDoc {
  // Word spans follow documentText: one separator character after every word.
  const spans: [number, number][] = [];
  const wordTags: number[] = [];
  let pos = 0;
  for (const sentence of doc.sentences) {
    for (const w of sentence) {
      spans.push([pos, pos + w.word.length]);
      wordTags.push(tagIds.get(w.tag) ?? NO_TAG);
      pos += w.word.length + 1;
    }
  }
  const { ids, offsets } = tokenizer.encode(doc.text);
  const wordOf = wordIndexOfTokens(offsets, spans);
  return {
    id: doc.id,
    ids: Int32Array.from(ids),
    tags: Int32Array.from(wordOf, (w) => (w < 0 ? NO_TAG : wordTags[w])),
  };
}
