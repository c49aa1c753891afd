// Splits text into pieces before BPE, GPT-2 style: a letter (plus combining
// mark), digit, or other-symbol run, each optionally led by one space, or a
// whitespace run. BPE never merges across pieces, which keeps training fast
// (it counts distinct pieces, not positions) and keeps tokens inside words.
//
// The pattern is stored in tokenizer.json as HF's Split pre-tokenizer, so it is
// written to mean the same in JavaScript and in Oniguruma (used by HF's Rust
// library): whitespace is spelled out because \s differs between the two.
// Every character matches one alternative, so the pieces tile the text.

const WS = ' \\t\\n\\r\\x0B\\x0C';

export const PRETOKENIZE_PATTERN =
  ` ?[\\p{L}\\p{M}]+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{M}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`;

const PIECE = new RegExp(PRETOKENIZE_PATTERN, 'gu');

export interface Piece {
  text: string;
  /** UTF-16 offset of the piece in the pre-tokenized string. */
  start: number;
}

export function pretokenize(text: string): Piece[] {
  const pieces: Piece[] = [];
  for (const m of text.matchAll(PIECE)) pieces.push({ text: m[0], start: m.index });
  return pieces;
}
