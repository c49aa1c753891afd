// Sentinel fills read the T5 way from hand-made decoder outputs: one fill per sentinel of the input,
// in order; missing, repeated and extra sentinels in the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainTokenizer } from '../../engine/data/bpeTrainer';
import { sentinelFills } from '../../engine/infer';
import { sentences } from './setup';

const tokenizer = trainTokenizer([sentences(200, 3)], { vocabSize: 600 });
const s = (i: number) => tokenizer.sentinelId(i);
const words = (text: string) => tokenizer.encode(text).ids;

test('two sentinels, both filled: the text between each and the next sentinel', () => {
  const out = [s(0), ...words('old river'), s(1), ...words('the station'), s(2)];
  assert.deepEqual(sentinelFills([0, 1], out, tokenizer), [
    { sentinel: 0, text: 'old river' },
    { sentinel: 1, text: 'the station' },
  ]);
});

test('a sentinel the output never has gets an explicit no fill (null), not a missing row', () => {
  const out = [s(0), ...words('garden')];
  assert.deepEqual(sentinelFills([0, 1], out, tokenizer), [
    { sentinel: 0, text: 'garden' },
    { sentinel: 1, text: null },
  ]);
  assert.deepEqual(sentinelFills([0], [], tokenizer), [{ sentinel: 0, text: null }]);
});

test('a repeated sentinel counts once (its first appearance); sentinels the input lacks are ignored', () => {
  // The defect seen on a tiny run: <extra_id_1> eleven times, then <extra_id_2> and <extra_id_3>.
  const out = [s(1), ...words('the'), s(1), ...words('the'), s(1), s(2), ...words('music'), s(3), s(0), ...words('window')];
  assert.deepEqual(sentinelFills([0, 1], out, tokenizer), [
    { sentinel: 0, text: 'window' },
    { sentinel: 1, text: 'the' },
  ]);
});

test('a sentinel followed at once by the next one has an empty fill, which is not "no fill"', () => {
  assert.deepEqual(sentinelFills([0], [s(0), s(1)], tokenizer), [{ sentinel: 0, text: '' }]);
});

test('the fills follow the input order, whatever the sentinels are numbered', () => {
  const out = [s(5), ...words('train'), s(2), ...words('letter')];
  assert.deepEqual(
    sentinelFills([5, 2], out, tokenizer).map((f) => f.sentinel),
    [5, 2],
  );
  assert.deepEqual(
    sentinelFills([5, 2], out, tokenizer).map((f) => f.text),
    ['train', 'letter'],
  );
});

test('an input without sentinels has no fills', () => {
  assert.deepEqual(sentinelFills([], [s(0), ...words('a')], tokenizer), []);
});
