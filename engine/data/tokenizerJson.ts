// Reads and writes HF tokenizers' tokenizer.json (the format of
// `Tokenizer.save` / `Tokenizer.from_file`): a BPE model with byte fallback,
// the Split pre-tokenizer from pretokenize.ts, and a ByteFallback+Fuse decoder.
// Only files of that shape load: another pre-tokenizer or normalizer would
// encode differently from our encoder, so it is rejected rather than misread.

import { z } from 'zod';
import { PRETOKENIZE_PATTERN } from './pretokenize';
import { EOS_TOKEN, PAD_TOKEN, UNK_TOKEN, sentinelToken, specialTokenIds } from './vocabLayout';
import type { TokenizerModel } from './tokenizer';

const addedToken = z.object({
  id: z.number().int().nonnegative(),
  content: z.string(),
  single_word: z.literal(false),
  lstrip: z.literal(false),
  rstrip: z.literal(false),
  normalized: z.literal(false),
  special: z.literal(true),
});

const tokenizerJsonSchema = z.object({
  version: z.literal('1.0'),
  truncation: z.null(),
  padding: z.null(),
  added_tokens: z.array(addedToken),
  normalizer: z.null(),
  pre_tokenizer: z.object({
    type: z.literal('Split'),
    pattern: z.object({ Regex: z.literal(PRETOKENIZE_PATTERN) }),
    behavior: z.literal('Isolated'),
    invert: z.literal(false),
  }),
  post_processor: z.null(),
  decoder: z.object({
    type: z.literal('Sequence'),
    decoders: z.tuple([z.object({ type: z.literal('ByteFallback') }), z.object({ type: z.literal('Fuse') })]),
  }),
  model: z.object({
    type: z.literal('BPE'),
    dropout: z.null(),
    unk_token: z.literal(UNK_TOKEN),
    continuing_subword_prefix: z.null(),
    end_of_word_suffix: z.null(),
    fuse_unk: z.literal(false),
    byte_fallback: z.literal(true),
    ignore_merges: z.literal(false),
    vocab: z.record(z.string(), z.number().int().nonnegative()),
    merges: z.array(z.tuple([z.string(), z.string()])),
  }),
});

export type TokenizerJson = z.infer<typeof tokenizerJsonSchema>;

export function toTokenizerJson(model: TokenizerModel): TokenizerJson {
  const { tokens, merges } = model;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokenIds(tokens.length, model.numSentinels).map((id) => ({
      id,
      content: tokens[id],
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: PRETOKENIZE_PATTERN }, behavior: 'Isolated', invert: false },
    post_processor: null,
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: UNK_TOKEN,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: true,
      ignore_merges: false,
      vocab: Object.fromEntries(tokens.map((t, id) => [t, id])),
      merges: merges.map(([a, b]) => [tokens[a], tokens[b]]),
    },
  };
}

export function parseTokenizerJson(json: unknown): TokenizerModel {
  const parsed = tokenizerJsonSchema.safeParse(json);
  if (!parsed.success) throw new Error(`unsupported tokenizer.json: ${z.prettifyError(parsed.error)}`);
  const { added_tokens: added, model } = parsed.data;
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(model.vocab)) {
    if (tokens[id] !== undefined) throw new Error(`tokenizer.json: id ${id} used twice`);
    tokens[id] = token;
  }
  const size = Object.keys(model.vocab).length;
  if (tokens.length !== size) throw new Error(`tokenizer.json: vocab ids are not 0..${size - 1}`);
  const sentinels = added.filter((t) => /^<extra_id_\d+>$/.test(t.content)).length;
  const wantIds = specialTokenIds(size, sentinels);
  const wantContent = [PAD_TOKEN, EOS_TOKEN, UNK_TOKEN, ...Array.from({ length: sentinels }, (_, i) => sentinelToken(i))];
  const addedOk =
    added.length === wantIds.length &&
    added.every((t, k) => t.id === wantIds[k] && t.content === wantContent[k] && tokens[t.id] === t.content);
  if (!addedOk) throw new Error('tokenizer.json: special tokens must be <pad>=0, </s>=1, <unk>=2, <extra_id_i>=size-1-i');
  const idOf = (token: string) => {
    if (!Object.hasOwn(model.vocab, token)) throw new Error(`tokenizer.json: merge uses unknown token ${JSON.stringify(token)}`);
    return model.vocab[token];
  };
  return { tokens, merges: model.merges.map(([a, b]) => [idOf(a), idOf(b)]), numSentinels: sentinels };
}
