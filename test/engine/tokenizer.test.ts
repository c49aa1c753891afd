import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { loadBrown } from '../../engine/data/brown';
import { trainTokenizer } from '../../engine/data/bpeTrainer';
import { Rng } from '../../engine/data/rng';
import { Tokenizer } from '../../engine/data/tokenizer';

const brown = loadBrown();
const sample = brown.slice(0, 60).map((d) => d.text);
const tokenizer = trainTokenizer(sample, { vocabSize: 2000 });

const tricky = [
  '',
  'The Fulton County Grand Jury said Friday.',
  '👩‍👩‍👧‍👦 family, 🇯🇵 flag, 👍🏽 skin tone',
  '日本語のテキスト、中文文本，한국어 텍스트',
  'e\u0301 a\u0308\u0323 Z\u0351\u0352\u0357 ﷺ',
  'مرحبا بالعالم עברית',
  '\u0000\u0001\u0007\b\t\n\u000b\f\r\u001b\u007f\u0085\u00a0\u2028\u3000\ufeff',
  '   leading, trailing and  double  spaces   ',
  '▁metaspace▁lookalike ▁',
  '<0x41> is text, not a byte; <pad></s><unk><extra_id_0><extra_id_99><extra_id_10>',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 \u{10FFFF} \u{E0001}',
];

function randomText(rng: Rng): string {
  let s = '';
  const n = rng.nextInt(40);
  for (let i = 0; i < n; i++) {
    const r = rng.nextInt(10);
    if (r < 3) s += ' ';
    else if (r < 6) s += String.fromCharCode(97 + rng.nextInt(26));
    else {
      let cp: number;
      do cp = rng.nextInt(0x110000);
      while (cp >= 0xd800 && cp <= 0xdfff);
      s += String.fromCodePoint(cp);
    }
  }
  return s;
}

const randomTexts = (() => {
  const rng = new Rng(2024);
  return Array.from({ length: 500 }, () => randomText(rng));
})();

/** Offsets must tile the input: each token starts where the last ended, or repeats its span (bytes of one character). */
function assertOffsetsCover(text: string, offsets: [number, number][]): void {
  let end = 0;
  let prev: [number, number] | undefined;
  for (const [s, e] of offsets) {
    assert.ok(e > s, `empty span [${s}, ${e})`);
    if (prev && s === prev[0] && e === prev[1]) continue;
    assert.equal(s, end, `gap or overlap at ${s} in ${JSON.stringify(text)}`);
    end = e;
    prev = [s, e];
  }
  assert.equal(end, text.length, `offsets stop at ${end} of ${text.length}`);
}

test('any well-formed Unicode round-trips exactly and offsets cover the input', () => {
  for (const text of [...tricky, ...randomTexts, ...sample.slice(0, 5)]) {
    const { ids, offsets } = tokenizer.encode(text);
    assert.equal(ids.length, offsets.length);
    assert.equal(tokenizer.decode(ids), text);
    assertOffsetsCover(text, offsets);
  }
});

test('characters outside the vocabulary become <0xNN> byte tokens', () => {
  const { ids, offsets } = tokenizer.encode('a🙂');
  const tokens = ids.map((id) => tokenizer.idToToken(id));
  assert.deepEqual(tokens.slice(-4), ['<0xF0>', '<0x9F>', '<0x99>', '<0x82>']);
  assert.deepEqual(offsets.slice(-4), Array(4).fill([1, 3]));
});

test('a lone surrogate (not Unicode text) is encoded as U+FFFD and never enters the vocabulary', () => {
  assert.equal(tokenizer.decode(tokenizer.encode('a\ud800b').ids), 'a\ufffdb');
  const trained = trainTokenizer(['x\ud800y '.repeat(50)], { vocabSize: 400 });
  assert.equal(trained.tokenToId('\ud800'), undefined);
  assert.notEqual(trained.tokenToId('x'), undefined);
});

test('invalid byte runs decode to one U+FFFD per byte, as HF ByteFallback does', () => {
  const ff = tokenizer.tokenToId('<0xFF>')!;
  const e2 = tokenizer.tokenToId('<0xE2>')!;
  assert.equal(tokenizer.decode([ff, e2, tokenizer.tokenToId('a')!]), '\ufffd\ufffda');
  assert.throws(() => tokenizer.decode([tokenizer.vocabSize]), RangeError);
});

test('special tokens sit at T5 ids and are matched in text', () => {
  const v = tokenizer.vocabSize;
  assert.equal(v, 2000);
  assert.deepEqual([tokenizer.padId, tokenizer.eosId, tokenizer.unkId], [0, 1, 2]);
  assert.deepEqual([0, 1, 2].map((id) => tokenizer.idToToken(id)), ['<pad>', '</s>', '<unk>']);
  assert.equal(tokenizer.sentinelId(0), v - 1);
  assert.equal(tokenizer.sentinelId(99), v - 100);
  assert.equal(tokenizer.idToToken(v - 1), '<extra_id_0>');
  assert.equal(tokenizer.idToToken(v - 100), '<extra_id_99>');
  assert.ok(tokenizer.isSentinel(v - 100) && !tokenizer.isSentinel(v - 101));
  assert.deepEqual(tokenizer.encode('<extra_id_10></s>').ids, [tokenizer.sentinelId(10), 1]);
  assert.throws(() => tokenizer.sentinelId(100), RangeError);
});

test('encodeWords tells which word each token belongs to', () => {
  const words = ['The', 'jury', 'said', '``', 'irregularities', "''", '1-1/2', 'naïve', '日本'];
  const { ids, wordIndex } = tokenizer.encodeWords(words);
  assert.equal(wordIndex.length, ids.length);
  const inWords = wordIndex.filter((w) => w >= 0);
  assert.deepEqual([...inWords].sort((a, b) => a - b), inWords, 'word indices are in order');
  words.forEach((word, w) => {
    const own = ids.filter((_, k) => wordIndex[k] === w);
    assert.equal(tokenizer.decode(own).trimStart(), word);
  });
  const separators = ids.filter((_, k) => wordIndex[k] === -1);
  assert.ok(separators.length > 0, 'this vocabulary splits a leading space off some word');
  assert.match(tokenizer.decode(separators), /^ +$/);
});

test('tokenizer.json save/load gives identical ids', () => {
  const saved = JSON.stringify(tokenizer.toJSON());
  const loaded = Tokenizer.fromJSON(JSON.parse(saved));
  assert.equal(JSON.stringify(loaded.toJSON()), saved);
  for (const text of [...tricky, ...randomTexts.slice(0, 100), brown[100].text]) {
    assert.deepEqual(loaded.encode(text), tokenizer.encode(text));
  }
  const json = tokenizer.toJSON();
  assert.equal(json.model.type, 'BPE');
  assert.equal(json.model.byte_fallback, true);
  assert.equal(json.model.vocab['<0x00>'], 3);
  assert.equal(json.added_tokens.length, 103);
});

test("HF's tokenizers.js loads our tokenizer.json and produces the same ids", () => {
  const hf = new HfTokenizer(JSON.parse(JSON.stringify(tokenizer.toJSON())), {});
  for (const text of [...tricky, ...randomTexts, brown[200].text]) {
    assert.deepEqual(hf.encode(text, { add_special_tokens: false }).ids, tokenizer.encode(text).ids, JSON.stringify(text));
  }
});

test('tokenizer.json of another shape is rejected with a reason', () => {
  const json = tokenizer.toJSON() as unknown as { pre_tokenizer: unknown; model: { vocab: Record<string, number> } };
  assert.throws(() => Tokenizer.fromJSON({ ...json, pre_tokenizer: { type: 'Whitespace' } }), /unsupported tokenizer.json.*pre_tokenizer/s);
  const vocab = { ...json.model.vocab, '<pad>': 5 };
  assert.throws(() => Tokenizer.fromJSON({ ...json, model: { ...json.model, vocab } }), /tokenizer.json/);
});

test('training is deterministic and rejects a vocabulary too small for the fixed tokens', () => {
  const again = trainTokenizer(sample, { vocabSize: 2000 });
  assert.equal(JSON.stringify(again.toJSON()), JSON.stringify(tokenizer.toJSON()));
  assert.throws(() => trainTokenizer(sample, { vocabSize: 300 }), RangeError);
});

test('a tiny corpus stops early, still with every special and byte token', () => {
  const small = trainTokenizer(['abab abab'], { vocabSize: 4000 });
  assert.ok(small.vocabSize < 4000);
  assert.equal(small.idToToken(small.sentinelId(0)), '<extra_id_0>');
  assert.equal(small.decode(small.encode('abab 日本').ids), 'abab 日本');
});

// Its speed is measured by `npm run bench` (engine/bench/timings.ts), not here.
test('an 8k vocabulary trained on the full Brown corpus is full and compresses the text', (t) => {
  const start = performance.now();
  const full = trainTokenizer(
    brown.map((d) => d.text),
    { vocabSize: 8192 },
  );
  t.diagnostic(`trained in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  assert.equal(full.vocabSize, 8192);
  const text = brown[0].text;
  assert.ok(full.encode(text).ids.length < text.length / 3.5, 'an 8k vocabulary averages over 3.5 characters per token');
});
