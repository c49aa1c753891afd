// What a token is, for a corpus without part-of-speech tags: the classes a reader of code or prose
// tells apart at a glance.

export const TOKEN_CLASSES = ['word', 'number', 'punctuation', 'whitespace', 'identifier'] as const;
export type TokenClass = (typeof TOKEN_CLASSES)[number];

/** A token's class from its text (a BPE piece: leading spaces belong to the piece). */
export function tokenClass(text: string): TokenClass {
  const t = text.trim();
  if (!t) return 'whitespace';
  if (/^[+-]?\d[\d.,_]*$/.test(t)) return 'number';
  if (/^[^\p{L}\p{N}_]+$/u.test(t)) return 'punctuation';
  // snake_case, camelCase inside a word, or letters mixed with digits: code, not prose.
  if (/_/.test(t) || /\p{Ll}\p{Lu}/u.test(t) || (/\p{L}/u.test(t) && /\d/.test(t))) return 'identifier';
  return 'word';
}
