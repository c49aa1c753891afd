import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchIterator, type Batch, type BatchOptions, type BatchVocab } from '../../engine/data/batches';
import { loadBrown } from '../../engine/data/brown';
import { trainTokenizer } from '../../engine/data/bpeTrainer';
import { NO_TAG, tagVocabulary, tokenizeTagged, type TokenizedDoc } from '../../engine/data/tokenizeDocs';

const VOCAB_SIZE = 1000;
const vocab: BatchVocab = { padId: 0, eosId: 1, numSentinels: 100, sentinelId: (i) => VOCAB_SIZE - 1 - i };
const isSentinel = (id: number) => id >= VOCAB_SIZE - 100;

// Every token id is unique (3..511), so a token tells where it came from; even documents carry tags.
let next = 3;
const docs: TokenizedDoc[] = [0, 5, 40, 123, 17, 260, 64].map((length, d) => {
  const ids = Int32Array.from({ length }, () => next++);
  return { id: `doc${d}`, ids, ...(d % 2 === 0 ? { tags: ids.map((id) => id % 7) } : {}) };
});
const tagOf = new Map(docs.flatMap((d) => Array.from(d.ids, (id, k) => [id, d.tags ? d.tags[k] : NO_TAG] as const)));
const allIds = docs.flatMap((d) => Array.from(d.ids));

const opts: BatchOptions = { batchSize: 4, inputLength: 32, seed: 7 };

function take(it: BatchIterator, n: number): Batch[] {
  return Array.from({ length: n }, () => it.next()!);
}

/** The raw tokens of one row, rebuilt from its encoder inputs and decoder targets. */
function reconstructRow(b: Batch, row: number, sentinel = isSentinel): number[] {
  const inputs = Array.from(b.encoderIds.subarray(row * b.encoderLength, (row + 1) * b.encoderLength)).filter(
    (_, t) => b.encoderMask[row * b.encoderLength + t] === 1,
  );
  const targets = Array.from(b.decoderTargetIds.subarray(row * b.decoderLength, (row + 1) * b.decoderLength)).filter(
    (_, t) => b.decoderMask[row * b.decoderLength + t] === 1,
  );
  assert.equal(inputs.at(-1), vocab.eosId);
  assert.equal(targets.at(-1), vocab.eosId);
  const spans = new Map<number, number[]>();
  let current: number[] = [];
  for (const id of targets.slice(0, -1)) {
    if (sentinel(id)) spans.set(id, (current = []));
    else current.push(id);
  }
  return inputs.slice(0, -1).flatMap((id) => (sentinel(id) ? spans.get(id)! : [id]));
}

test('the same seed gives the same batches; another seed does not', () => {
  const a = take(new BatchIterator(docs, vocab, opts), 5);
  assert.deepEqual(take(new BatchIterator(docs, vocab, opts), 5), a);
  assert.notDeepEqual(take(new BatchIterator(docs, vocab, { ...opts, seed: 8 }), 5), a);
});

test('rows fill encoder and decoder exactly; decoder inputs are targets shifted right after <pad>', () => {
  const it = new BatchIterator(docs, vocab, opts);
  assert.equal(it.rawLength, 34); // T5's random_spans_helper(32)
  for (const b of take(it, 6)) {
    assert.equal(b.numExamples, 4);
    assert.equal(b.encoderIds.length, 4 * 32);
    assert.ok(b.encoderMask.every((m) => m === 1) && b.decoderMask.every((m) => m === 1));
    for (let row = 0; row < 4; row++) {
      const o = row * b.decoderLength;
      assert.equal(b.decoderInputIds[o], vocab.padId);
      for (let t = 1; t < b.decoderLength; t++) assert.equal(b.decoderInputIds[o + t], b.decoderTargetIds[o + t - 1]);
      assert.equal(reconstructRow(b, row).length, it.rawLength);
    }
  }
});

test('one unshuffled pass packs the whole stream, tags follow tokens, and the tail is padded', () => {
  const it = new BatchIterator(docs, vocab, { ...opts, shuffle: false, cycle: false });
  const stream: number[] = [];
  let last: Batch | undefined;
  for (let b = it.next(); b; b = it.next()) {
    last = b;
    for (let row = 0; row < b.numExamples; row++) stream.push(...reconstructRow(b, row));
    b.encoderIds.forEach((id, k) => {
      if (b.encoderMask[k] === 0) assert.equal(id, vocab.padId);
      const expected = b.encoderMask[k] === 0 || id === vocab.eosId || isSentinel(id) ? NO_TAG : tagOf.get(id);
      assert.equal(b.encoderTags[k], expected);
    });
  }
  assert.deepEqual(stream, allIds);
  assert.ok(last && last.numExamples < 4 && last.encoderMask.includes(0), 'last batch has padding rows');
  assert.equal(it.next(), undefined);
});

test('shuffling reorders documents per epoch without losing any', () => {
  const it = new BatchIterator(docs, vocab, { ...opts, cycle: false });
  const stream: number[] = [];
  for (let b = it.next(); b; b = it.next()) for (let row = 0; row < b.numExamples; row++) stream.push(...reconstructRow(b, row));
  assert.notDeepEqual(stream, allIds);
  assert.deepEqual([...stream].sort((x, y) => x - y), allIds);
});

test('a restored cursor replays exactly the batches that would have come next, across epochs', () => {
  const original = new BatchIterator(docs, vocab, opts);
  take(original, 7);
  const cursor = JSON.parse(JSON.stringify(original.cursor()));
  assert.ok(cursor.epoch >= 1, 'the run has wrapped into a later epoch');
  const expected = take(original, 5);
  const resumed = new BatchIterator(docs, vocab, opts, cursor);
  assert.deepEqual(take(resumed, 5), expected);
  assert.deepEqual(resumed.cursor(), original.cursor());
});

test("random sampling: every row is a contiguous piece of the documents in corpus order, batches mix documents, a cursor replays them", () => {
  const random: BatchOptions = { ...opts, sampling: 'random' };
  const docOf = new Map(docs.flatMap((d, i) => Array.from(d.ids, (id) => [id, i] as const)));
  const it = new BatchIterator(docs, vocab, random);
  const firsts = new Set<number>();
  const docsPerBatch: number[] = [];
  for (const b of take(it, 40)) {
    assert.equal(b.numExamples, 4, 'random sampling never runs out');
    const seen = new Set<number>();
    for (let row = 0; row < 4; row++) {
      const raw = reconstructRow(b, row);
      assert.equal(raw.length, it.rawLength);
      // Ids are consecutive across the corpus (documents in order, each one's ids in order): a contiguous piece.
      raw.forEach((id, k) => k === 0 || assert.equal(id, raw[k - 1] + 1, `row ${row} is contiguous`));
      firsts.add(raw[0]);
      for (const id of raw) seen.add(docOf.get(id)!);
      b.encoderIds.forEach((id, k) => {
        if (id !== vocab.eosId && !isSentinel(id)) assert.equal(b.encoderTags[k], tagOf.get(id), 'tags follow tokens');
      });
    }
    docsPerBatch.push(seen.size);
  }
  assert.ok(firsts.size > 100, `rows start at many positions (${firsts.size} of 160)`);
  const stream = take(new BatchIterator(docs, vocab, opts), 40).map((b) => new Set(Array.from({ length: 4 }, (_, r) => reconstructRow(b, r)).flat().map((id) => docOf.get(id))).size);
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  assert.ok(mean(docsPerBatch) > mean(stream), `a random batch holds more documents (${mean(docsPerBatch)}) than a stream's (${mean(stream)})`);

  const original = new BatchIterator(docs, vocab, random);
  take(original, 9);
  const cursor = JSON.parse(JSON.stringify(original.cursor()));
  const expected = take(original, 5);
  assert.deepEqual(take(new BatchIterator(docs, vocab, random, cursor), 5), expected);
  assert.notDeepEqual(take(new BatchIterator(docs, vocab, { ...random, seed: 8 }), 5), take(new BatchIterator(docs, vocab, random), 5));
});

test('a cursor that does not fit the corpus is rejected', () => {
  const rng = new BatchIterator(docs, vocab, opts).cursor().rng;
  assert.throws(() => new BatchIterator(docs, vocab, opts, { epoch: 0, doc: 8, token: 0, rng }), /does not fit/);
  assert.throws(() => new BatchIterator(docs, vocab, opts, { epoch: 0, doc: 1, token: 10_000, rng }), /does not fit/);
  assert.throws(() => new BatchIterator(docs, vocab, opts, { epoch: -1, doc: 0, token: 0, rng }), /does not fit/);
  assert.throws(() => new BatchIterator([{ id: 'e', ids: new Int32Array(0) }], vocab, opts), /no tokens/);
});

test('Brown end to end: batches decode back to the corpus text, with POS tags', () => {
  const brown = loadBrown().slice(0, 12);
  const tokenizer = trainTokenizer(brown.map((d) => d.text), { vocabSize: 1200 });
  const tagIds = new Map(tagVocabulary(brown).map((t, i) => [t, i]));
  const tokenized = brown.map((d) => tokenizeTagged(tokenizer, d, tagIds));
  const it = new BatchIterator(tokenized, tokenizer, { batchSize: 8, inputLength: 64, seed: 1, shuffle: false });
  const b = it.next()!;
  const ids: number[] = [];
  for (let row = 0; row < 8; row++) ids.push(...reconstructRow(b, row, (id) => tokenizer.isSentinel(id)));
  assert.ok(brown[0].text.startsWith(tokenizer.decode(ids)));
  const tagged = Array.from(b.encoderTags).filter((t) => t !== NO_TAG).length;
  assert.ok(tagged > 0.7 * b.encoderIds.length, `${tagged} tagged tokens`);
});
