import { test } from 'node:test';
import assert from 'node:assert/strict';
import { documentText, loadBrown, parseBrownFile, splitBrown } from '../../engine/data/brown';
import { trainTokenizer } from '../../engine/data/bpeTrainer';
import { NO_TAG, tagVocabulary, tokenizeTagged } from '../../engine/data/tokenizeDocs';

const docs = loadBrown();

test('loads all 500 Brown documents with words and tags aligned', () => {
  assert.equal(docs.length, 500);
  let words = 0;
  for (const doc of docs) {
    for (const sentence of doc.sentences) {
      words += sentence.length;
      for (const { word, tag } of sentence) assert.ok(word.length > 0 && tag.length > 0 && !/\s/.test(word + tag));
    }
    assert.equal(doc.text, documentText(doc.sentences));
  }
  assert.equal(words, 1_161_192);
  const first = docs[0];
  assert.equal(first.id, 'ca01');
  assert.equal(first.category, 'news');
  assert.deepEqual(first.sentences[0].slice(0, 4), [
    { word: 'The', tag: 'at' },
    { word: 'Fulton', tag: 'np-tl' },
    { word: 'County', tag: 'nn-tl' },
    { word: 'Grand', tag: 'jj-tl' },
  ]);
  assert.ok(first.text.startsWith('The Fulton County Grand Jury said Friday'));
});

test('tokens split at the last slash, so words may contain one', () => {
  const parsed = parseBrownFile('\n\n\tA/at 1-1/2/cd inch/nn ./.\nNext/ap line/nn\n', 'x');
  assert.deepEqual(parsed, [
    [
      { word: 'A', tag: 'at' },
      { word: '1-1/2', tag: 'cd' },
      { word: 'inch', tag: 'nn' },
      { word: '.', tag: '.' },
    ],
    [
      { word: 'Next', tag: 'ap' },
      { word: 'line', tag: 'nn' },
    ],
  ]);
  assert.throws(() => parseBrownFile('good/jj bad\n', 'cz99'), /cz99: malformed token "bad"/);
});

test('the split is deterministic, disjoint, complete and pinned', () => {
  const a = splitBrown(docs);
  const b = splitBrown(loadBrown());
  assert.deepEqual(b.validation.map((d) => d.id), a.validation.map((d) => d.id));
  assert.equal(a.train.length + a.validation.length, 500);
  const train = new Set(a.train.map((d) => d.id));
  assert.ok(a.validation.every((d) => !train.has(d.id)));
  assert.equal(a.validation.length, 50);
  // Pinned so that a change to the hash (which would silently change every run's split) fails here.
  assert.deepEqual(a.validation.slice(0, 5).map((d) => d.id), ['ca05', 'ca07', 'ca39', 'ca40', 'cb24']);
  assert.ok(new Set(a.validation.map((d) => d.category)).size >= 10, 'validation spans most genres');
});

test('tagged tokenization keeps each token with the tag of its word', () => {
  const tokenizer = trainTokenizer(docs.slice(0, 30).map((d) => d.text), { vocabSize: 1500 });
  const tags = tagVocabulary(docs);
  const tagIds = new Map(tags.map((t, i) => [t, i]));
  const doc = docs[3];
  const tagged = tokenizeTagged(tokenizer, doc, tagIds);
  assert.deepEqual(Array.from(tagged.ids), tokenizer.encode(doc.text).ids);
  // Independent route: sentence by sentence through encodeWords, "\n" between sentences.
  const newline = tokenizer.encode('\n').ids;
  const ids: number[] = [];
  const expected: number[] = [];
  doc.sentences.forEach((sentence, s) => {
    if (s > 0) {
      ids.push(...newline);
      expected.push(...newline.map(() => NO_TAG));
    }
    const e = tokenizer.encodeWords(sentence.map((w) => w.word));
    ids.push(...e.ids);
    expected.push(...e.wordIndex.map((w) => (w < 0 ? NO_TAG : tagIds.get(sentence[w].tag)!)));
  });
  assert.deepEqual(Array.from(tagged.ids), ids);
  assert.deepEqual(Array.from(tagged.tags!), expected);
  assert.ok(expected.filter((t) => t !== NO_TAG).length > 0.9 * expected.length);
});
