// T5's span-corruption objective, after t5.data.preprocessors
// (random_spans_noise_mask, noise_span_to_unique_sentinel,
// nonnoise_span_to_unique_sentinel, random_spans_helper). Counts use T5's
// rounding (half to even); only the random numbers differ, coming from our
// seeded Rng so a resumed run corrupts exactly as the original would have.

import type { Rng } from './rng';

export interface NoiseOptions {
  noiseDensity: number;
  meanNoiseSpanLength: number;
}

export const T5_NOISE: NoiseOptions = { noiseDensity: 0.15, meanNoiseSpanLength: 3 };

export interface SentinelVocab {
  eosId: number;
  numSentinels: number;
  /** <extra_id_i>, in the order spans appear. */
  sentinelId(i: number): number;
}

export interface Corrupted {
  /** Original tokens with each noise span replaced by one sentinel, then </s>. */
  inputs: number[];
  /** Each sentinel followed by the span it replaced, then </s>. */
  targets: number[];
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** How many noise tokens and spans a sequence of this length gets (never all noise, never none). */
export function noiseCounts(length: number, opts: NoiseOptions = T5_NOISE) {
  const len = Math.max(length, 2);
  const numNoise = Math.min(Math.max(roundHalfEven(len * opts.noiseDensity), 1), len - 1);
  const numSpans = Math.max(roundHalfEven(numNoise / opts.meanNoiseSpanLength), 1);
  if (numSpans > numNoise || numSpans > len - numNoise) {
    throw new RangeError(`cannot place ${numSpans} noise spans in ${len} tokens (noiseDensity ${opts.noiseDensity})`);
  }
  return { numNoise, numNonNoise: len - numNoise, numSpans };
}

/** Splits numItems into numSegments non-empty runs, uniformly at random. */
function randomSegmentation(numItems: number, numSegments: number, rng: Rng): number[] {
  const startsSegment = rng.shuffle(Array.from({ length: numItems - 1 }, (_, i) => i < numSegments - 1));
  const lengths = [1];
  for (const starts of startsSegment) {
    if (starts) lengths.push(1);
    else lengths[lengths.length - 1]++;
  }
  return lengths;
}

/**
 * 1 marks a noise token. Non-noise and noise spans alternate, starting with
 * non-noise, so the sequence never begins with a sentinel.
 */
export function randomSpansNoiseMask(length: number, rng: Rng, opts: NoiseOptions = T5_NOISE): Uint8Array {
  const { numNoise, numNonNoise, numSpans } = noiseCounts(length, opts);
  const noiseLengths = randomSegmentation(numNoise, numSpans, rng);
  const nonNoiseLengths = randomSegmentation(numNonNoise, numSpans, rng);
  const mask = new Uint8Array(numNoise + numNonNoise);
  let pos = 0;
  for (let s = 0; s < numSpans; s++) {
    pos += nonNoiseLengths[s];
    mask.fill(1, pos, pos + noiseLengths[s]);
    pos += noiseLengths[s];
  }
  return mask.subarray(0, length);
}

/** Keeps tokens where mask is 0 and replaces each run of 1s by sentinel(runIndex). */
export function replaceSpans<T>(values: ArrayLike<T>, mask: ArrayLike<number>, sentinel: (span: number) => T): T[] {
  const out: T[] = [];
  let span = 0;
  for (let i = 0; i < values.length; i++) {
    if (!mask[i]) out.push(values[i]);
    else if (i === 0 || !mask[i - 1]) out.push(sentinel(span++));
  }
  return out;
}

export function invertMask(mask: Uint8Array): Uint8Array {
  return mask.map((m) => 1 - m);
}

export function spanCorrupt(ids: ArrayLike<number>, mask: Uint8Array, vocab: SentinelVocab): Corrupted {
  const sentinel = (span: number) => {
    if (span >= vocab.numSentinels) throw new RangeError(`${span + 1} noise spans but only ${vocab.numSentinels} sentinels`);
    return vocab.sentinelId(span);
  };
  return {
    inputs: [...replaceSpans(ids, mask, sentinel), vocab.eosId],
    targets: [...replaceSpans(ids, invertMask(mask), sentinel), vocab.eosId],
  };
}

/**
 * T5's random_spans_helper: the longest raw length whose corrupted inputs
 * (plus </s>) fit in inputLength, and the resulting targets length. E.g.
 * inputLength 512 gives 568 raw tokens and 114 target tokens.
 */
export function spanLengths(inputLength: number, opts: NoiseOptions = T5_NOISE) {
  const lengthsFor = (raw: number) => {
    const { numNoise, numNonNoise, numSpans } = noiseCounts(raw, opts);
    return { inputs: numNonNoise + numSpans + 1, targets: numNoise + numSpans + 1 };
  };
  if (!Number.isInteger(inputLength) || lengthsFor(1).inputs > inputLength) {
    throw new RangeError(`inputLength ${inputLength} is too short for span corruption`);
  }
  // Inputs grow with raw, so a binary search finds the longest fit (a linear one hangs on huge lengths).
  let raw = 1;
  let over = 2;
  while (lengthsFor(over).inputs <= inputLength) {
    raw = over;
    over *= 2;
  }
  while (over - raw > 1) {
    const mid = Math.floor((raw + over) / 2);
    if (lengthsFor(mid).inputs <= inputLength) raw = mid;
    else over = mid;
  }
  return { rawLength: raw, targetLength: lengthsFor(raw).targets };
}
