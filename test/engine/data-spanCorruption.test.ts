import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../engine/data/rng';
import {
  noiseCounts,
  randomSpansNoiseMask,
  roundHalfEven,
  spanCorrupt,
  spanLengths,
  type SentinelVocab,
} from '../../engine/data/spanCorruption';

const VOCAB_SIZE = 1000;
const vocab: SentinelVocab = { eosId: 1, numSentinels: 100, sentinelId: (i) => VOCAB_SIZE - 1 - i };
const isSentinel = (id: number) => id >= VOCAB_SIZE - 100;

/** Rebuilds the original tokens: each sentinel in inputs is replaced by what follows it in targets. */
function reconstruct(inputs: number[], targets: number[]): number[] {
  assert.equal(inputs.at(-1), vocab.eosId);
  assert.equal(targets.at(-1), vocab.eosId);
  const spans = new Map<number, number[]>();
  let current: number[] | undefined;
  for (const id of targets.slice(0, -1)) {
    if (isSentinel(id)) spans.set(id, (current = []));
    else current!.push(id);
  }
  return inputs.slice(0, -1).flatMap((id) => (isSentinel(id) ? spans.get(id)! : [id]));
}

test('every original token is recoverable from inputs + targets, sentinels in order', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 300; trial++) {
    const length = 1 + rng.nextInt(600);
    const ids = Array.from({ length }, () => 3 + rng.nextInt(800));
    const { inputs, targets } = spanCorrupt(ids, randomSpansNoiseMask(length, rng), vocab);
    assert.deepEqual(reconstruct(inputs, targets), ids, `length ${length}`);
    const inSentinels = inputs.filter(isSentinel);
    assert.deepEqual(inSentinels, inSentinels.map((_, i) => vocab.sentinelId(i)));
    assert.equal(targets[0], vocab.sentinelId(0));
  }
});

test('noise density is near 0.15 and spans average about 3 tokens', () => {
  const rng = new Rng(5);
  let noise = 0;
  let total = 0;
  let spans = 0;
  const firstHalf = [0, 0];
  for (let trial = 0; trial < 500; trial++) {
    const length = 50 + rng.nextInt(600);
    const mask = randomSpansNoiseMask(length, rng);
    assert.equal(mask.length, length);
    assert.equal(mask[0], 0, 'T5 masks start with a non-noise span');
    for (let i = 0; i < length; i++) {
      noise += mask[i];
      if (mask[i] && (i === 0 || !mask[i - 1])) spans++;
      if (mask[i]) firstHalf[i < length / 2 ? 0 : 1]++;
    }
    total += length;
  }
  assert.ok(Math.abs(noise / total - 0.15) < 0.005, `density ${noise / total}`);
  assert.ok(Math.abs(noise / spans - 3) < 0.3, `mean span ${noise / spans}`);
  assert.ok(Math.abs(firstHalf[0] / noise - 0.5) < 0.03, 'noise spread over the whole sequence');
});

test('the mask is a function of the RNG state', () => {
  const a = randomSpansNoiseMask(200, new Rng(11));
  assert.deepEqual(randomSpansNoiseMask(200, new Rng(11)), a);
  assert.notDeepEqual(randomSpansNoiseMask(200, new Rng(12)), a);
});

test('spanLengths reproduces T5 random_spans_helper and the lengths come out exact', () => {
  assert.deepEqual(spanLengths(512), { rawLength: 568, targetLength: 114 });
  const rng = new Rng(1);
  for (const inputLength of [8, 16, 64, 100, 128, 256]) {
    const { rawLength, targetLength } = spanLengths(inputLength);
    const ids = Array.from({ length: rawLength }, (_, i) => 10 + i);
    const { inputs, targets } = spanCorrupt(ids, randomSpansNoiseMask(rawLength, rng), vocab);
    assert.equal(inputs.length, inputLength);
    assert.equal(targets.length, targetLength);
  }
  assert.throws(() => spanLengths(2), /too short/);
});

test('counts round half to even, like T5', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, 4, 2, 3]);
  assert.deepEqual(noiseCounts(10), { numNoise: 2, numNonNoise: 8, numSpans: 1 });
  assert.deepEqual(noiseCounts(1), { numNoise: 1, numNonNoise: 1, numSpans: 1 });
});

test('more spans than sentinels is an error, not a silent wrap', () => {
  const few: SentinelVocab = { ...vocab, numSentinels: 2 };
  const mask = Uint8Array.from([0, 1, 0, 1, 0, 1, 0]);
  assert.throws(() => spanCorrupt([5, 6, 7, 8, 9, 10, 11], mask, few), /3 noise spans but only 2 sentinels/);
});

test('spanLengths finds the longest raw length that fits, as a linear scan would, and answers at once for huge lengths', () => {
  const linear = (inputLength: number) => {
    const inputs = (raw: number) => {
      const { numNonNoise, numSpans } = noiseCounts(raw);
      return numNonNoise + numSpans + 1;
    };
    let raw = 1;
    while (inputs(raw + 1) <= inputLength) raw++;
    return raw;
  };
  for (let len = 8; len <= 700; len++) assert.equal(spanLengths(len).rawLength, linear(len), `inputLength ${len}`);
  assert.ok(spanLengths(1e12).rawLength > 1e12, 'a huge length is sized, not looped over');
});
