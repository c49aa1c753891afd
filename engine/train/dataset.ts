// From a corpus spec to tokenized train and validation documents: the Brown corpus (with its
// part-of-speech tags kept per token) or a user's text files, split by a hash of each document id.
import { loadBrown, splitBrown } from '../data/brown';
import { trainTokenizer } from '../data/bpeTrainer';
import { splitByHash } from '../data/split';
import { BatchIterator, type Batch } from '../data/batches';
import type { Tokenizer } from '../data/tokenizer';
import { tagVocabulary, tokenizePlain, tokenizeTagged, type TokenizedDoc } from '../data/tokenizeDocs';
import { loadUserCorpus } from '../data/userCorpus';
import type { CorpusSpec, RunConfig } from './runConfig';

export interface Dataset {
  tokenizer: Tokenizer;
  train: TokenizedDoc[];
  validation: TokenizedDoc[];
  /** Part-of-speech tags, indexed by the tag ids in TokenizedDoc.tags (empty for a user corpus). */
  tags: string[];
  /** Files that were skipped or repaired, one line each. */
  warnings: string[];
}

/** Loads the corpus and tokenizes it, training the tokenizer unless one is given (a resumed run). */
export async function loadDataset(corpus: CorpusSpec, vocabSize: number, tokenizer?: Tokenizer): Promise<Dataset> {
  if (corpus.kind === 'brown') {
    const split = splitBrown(loadBrown());
    const tok = tokenizer ?? trainTokenizer(split.train.map((d) => d.text), { vocabSize });
    const tags = tagVocabulary([...split.train, ...split.validation]);
    const tagIds = new Map(tags.map((t, i) => [t, i]));
    return {
      tokenizer: tok,
      train: split.train.map((d) => tokenizeTagged(tok, d, tagIds)),
      validation: split.validation.map((d) => tokenizeTagged(tok, d, tagIds)),
      tags,
      warnings: [],
    };
  }
  const { files, warnings } = await loadUserCorpus(corpus.spec);
  let split = splitByHash(files, (f) => f.id);
  // A corpus of one or a few files still needs something to validate on.
  if (split.validation.length === 0 && split.train.length > 1) split = { train: split.train.slice(1), validation: split.train.slice(0, 1) };
  const tok = tokenizer ?? trainTokenizer(split.train.map((f) => f.text), { vocabSize });
  const docs = (list: typeof files) => list.map((f) => tokenizePlain(tok, { id: f.id, text: f.text }));
  const train = docs(split.train);
  return { tokenizer: tok, train, validation: split.validation.length ? docs(split.validation) : train, tags: [], warnings };
}

/** The fixed validation batches of a run: the first `validationBatches` of the validation split, in order. */
export function validationBatches(dataset: Dataset, t: RunConfig['training']): Batch[] {
  const val = new BatchIterator(dataset.validation, dataset.tokenizer, { batchSize: t.batchSize, inputLength: t.inputLength, seed: t.seed + 1, shuffle: false, cycle: false });
  const batches: Batch[] = [];
  for (let i = 0; i < t.validationBatches; i++) {
    const b = val.next();
    if (!b) break;
    batches.push(b);
  }
  return batches;
}
