// Deterministic span-corruption batches, T5 style: documents are concatenated
// into one token stream (no separator, as T5's packing does), cut into raw
// examples of spanLengths(inputLength).rawLength tokens, and each example is
// corrupted so that its inputs and targets fill the encoder and decoder lengths
// exactly. Only the end of a non-cycling pass can fall short: the tail of its
// last example and any rows left empty are <pad> with mask 0.
//
// Everything random comes from the seed: the document order of epoch e is a
// shuffle seeded by (seed, e), and the corruption draws from one Rng whose
// state is part of the cursor. Restoring a cursor therefore replays exactly the
// batches the original run would have seen next.
//
// With `sampling: 'random'` each example is instead cut at a random position of
// the concatenated documents (nanoGPT's get_batch), drawn from the same Rng: a
// batch then mixes documents, where a stream's batch holds one or two of them.

import { Rng, deriveSeed, type RngState } from './rng';
import {
  T5_NOISE,
  randomSpansNoiseMask,
  replaceSpans,
  spanCorrupt,
  spanLengths,
  type NoiseOptions,
  type SentinelVocab,
} from './spanCorruption';
import { NO_TAG, type TokenizedDoc } from './tokenizeDocs';

export interface BatchOptions {
  batchSize: number;
  /** Encoder length: the corrupted inputs plus </s> fill it. */
  inputLength: number;
  seed: number;
  /** Reshuffle the document order every epoch (default true). */
  shuffle?: boolean;
  /** Repeat forever (default, training) or stop after one pass (validation). */
  cycle?: boolean;
  /** 'stream' (default): consecutive cuts of the epoch's documents; 'random': each at a random position (always cycles). */
  sampling?: 'stream' | 'random';
  noise?: NoiseOptions;
}

/** Where the iterator is: JSON-serializable, stored in training checkpoints. */
export interface BatchCursor {
  epoch: number;
  /** Position in the epoch's document order. */
  doc: number;
  /** Token offset inside that document. */
  token: number;
  rng: RngState;
}

/** Row-major [batchSize, length] arrays; masks are 1 for real tokens, 0 for padding. */
export interface Batch {
  batchSize: number;
  encoderLength: number;
  decoderLength: number;
  /** Rows holding real examples; the rest (end of a non-cycling pass) are all padding. */
  numExamples: number;
  encoderIds: Int32Array;
  encoderMask: Float32Array;
  /** Tag id of each encoder token, NO_TAG for sentinels, </s>, padding and untagged corpora. */
  encoderTags: Int32Array;
  /** Targets shifted right, starting with <pad> (T5's decoder start token). */
  decoderInputIds: Int32Array;
  decoderTargetIds: Int32Array;
  decoderMask: Float32Array;
}

export interface BatchVocab extends SentinelVocab {
  padId: number;
}

export class BatchIterator {
  readonly rawLength: number;
  readonly encoderLength: number;
  readonly decoderLength: number;
  private readonly noise: NoiseOptions;
  private epoch = 0;
  private doc = 0;
  private token = 0;
  private rng: Rng;
  private order: { epoch: number; docs: number[] } | undefined;
  /** For random sampling: where each document starts in the concatenated text, and its length. */
  private starts: number[] | undefined;
  private totalTokens = 0;

  constructor(
    private readonly docs: TokenizedDoc[],
    private readonly vocab: BatchVocab,
    private readonly opts: BatchOptions,
    cursor?: BatchCursor,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`batchSize ${opts.batchSize}`);
    if (!docs.some((d) => d.ids.length > 0)) throw new Error('no tokens to make batches from');
    this.noise = opts.noise ?? T5_NOISE;
    const lengths = spanLengths(opts.inputLength, this.noise);
    this.rawLength = lengths.rawLength;
    this.encoderLength = opts.inputLength;
    this.decoderLength = lengths.targetLength;
    this.rng = new Rng(opts.seed);
    if (opts.sampling === 'random') {
      this.starts = [];
      for (const d of docs) {
        this.starts.push(this.totalTokens);
        this.totalTokens += d.ids.length;
      }
    }
    if (cursor) this.restore(cursor);
  }

  cursor(): BatchCursor {
    return { epoch: this.epoch, doc: this.doc, token: this.token, rng: this.rng.state() };
  }

  /** The next batch, or undefined once a non-cycling pass is over. */
  next(): Batch | undefined {
    const { batchSize } = this.opts;
    const te = this.encoderLength;
    const td = this.decoderLength;
    const batch: Batch = {
      batchSize,
      encoderLength: te,
      decoderLength: td,
      numExamples: 0,
      encoderIds: new Int32Array(batchSize * te).fill(this.vocab.padId),
      encoderMask: new Float32Array(batchSize * te),
      encoderTags: new Int32Array(batchSize * te).fill(NO_TAG),
      decoderInputIds: new Int32Array(batchSize * td).fill(this.vocab.padId),
      decoderTargetIds: new Int32Array(batchSize * td).fill(this.vocab.padId),
      decoderMask: new Float32Array(batchSize * td),
    };
    for (let row = 0; row < batchSize; row++) {
      const raw = this.takeRaw();
      if (!raw) break;
      const mask = randomSpansNoiseMask(raw.ids.length, this.rng, this.noise);
      const { inputs, targets } = spanCorrupt(raw.ids, mask, this.vocab);
      const tags = [...replaceSpans(raw.tags, mask, () => NO_TAG), NO_TAG];
      batch.encoderIds.set(inputs, row * te);
      batch.encoderMask.fill(1, row * te, row * te + inputs.length);
      batch.encoderTags.set(tags, row * te);
      batch.decoderTargetIds.set(targets, row * td);
      batch.decoderInputIds.set(targets.slice(0, -1), row * td + 1);
      batch.decoderMask.fill(1, row * td, row * td + targets.length);
      batch.numExamples++;
    }
    return batch.numExamples > 0 ? batch : undefined;
  }

  private docOrder(epoch: number): number[] {
    if (this.order?.epoch !== epoch) {
      const docs = this.docs.map((_, i) => i);
      if (this.opts.shuffle ?? true) new Rng(deriveSeed(this.opts.seed, epoch)).shuffle(docs);
      this.order = { epoch, docs };
    }
    return this.order.docs;
  }

  /** Up to rawLength tokens from the stream (fewer only at the end of a non-cycling pass). */
  private takeRaw(): { ids: number[]; tags: number[] } | undefined {
    if (this.starts) return this.takeRandom(this.starts);
    const ids: number[] = [];
    const tags: number[] = [];
    while (ids.length < this.rawLength) {
      if (this.doc >= this.docs.length) {
        if (!(this.opts.cycle ?? true)) break;
        this.epoch++;
        this.doc = 0;
        this.token = 0;
      }
      const d = this.docs[this.docOrder(this.epoch)[this.doc]];
      const end = Math.min(d.ids.length, this.token + this.rawLength - ids.length);
      for (let k = this.token; k < end; k++) {
        ids.push(d.ids[k]);
        tags.push(d.tags ? d.tags[k] : NO_TAG);
      }
      this.token = end;
      if (this.token >= d.ids.length) {
        this.doc++;
        this.token = 0;
      }
    }
    return ids.length > 0 ? { ids, tags } : undefined;
  }

  /** rawLength tokens from a random position of the documents in corpus order (all of them, if fewer). */
  private takeRandom(starts: number[]): { ids: number[]; tags: number[] } {
    const length = Math.min(this.rawLength, this.totalTokens);
    let at = this.rng.nextInt(this.totalTokens - length + 1);
    // The last document that starts at or before `at`.
    let lo = 0;
    for (let hi = starts.length - 1; lo < hi; ) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    const ids: number[] = [];
    const tags: number[] = [];
    for (let i = lo; ids.length < length; i++) {
      const d = this.docs[i];
      for (let k = at - starts[i]; k < d.ids.length && ids.length < length; k++) {
        ids.push(d.ids[k]);
        tags.push(d.tags ? d.tags[k] : NO_TAG);
      }
      at = starts[i + 1] ?? at;
    }
    return { ids, tags };
  }

  private restore(c: BatchCursor): void {
    const whole = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
    const fits =
      whole(c.epoch) &&
      whole(c.doc) &&
      c.doc <= this.docs.length &&
      whole(c.token) &&
      c.token <= (this.docs[this.docOrder(c.epoch)[c.doc]]?.ids.length ?? 0);
    if (!fits) throw new Error(`batch cursor ${JSON.stringify(c)} does not fit this corpus`);
    this.epoch = c.epoch;
    this.doc = c.doc;
    this.token = c.token;
    this.rng = Rng.fromState(c.rng);
  }
}
