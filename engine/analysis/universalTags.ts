// Brown's ~470 fine part-of-speech tags onto the 12 universal tags of Petrov, Das & McDonald (2012),
// for display; the fine tags stay in the data. Brown writes compounds ("ppss+md": I'll), suffixes
// ("-tl" title, "-hl" headline, "-nc" cited, "$" possessive, "*" negated) and "fw-" for foreign words.

export const UNIVERSAL_TAGS = ['NOUN', 'VERB', 'ADJ', 'ADV', 'PRON', 'DET', 'ADP', 'NUM', 'CONJ', 'PRT', '.', 'X'] as const;
export type UniversalTag = (typeof UNIVERSAL_TAGS)[number];

/** Longest prefix first: the base tag (suffixes stripped) is looked up by its leading letters. */
const BY_PREFIX: [string, UniversalTag][] = [
  ['wdt', 'DET'], ['wps', 'PRON'], ['wpo', 'PRON'], ['wp$', 'PRON'], ['wql', 'ADV'], ['wrb', 'ADV'],
  ['abl', 'ADV'], ['abn', 'DET'], ['abx', 'DET'], ['ap', 'DET'], ['at', 'DET'], ['dt', 'DET'],
  ['be', 'VERB'], ['do', 'VERB'], ['hv', 'VERB'], ['md', 'VERB'], ['vb', 'VERB'],
  ['cc', 'CONJ'], ['cs', 'CONJ'], ['cd', 'NUM'], ['od', 'NUM'],
  ['ex', 'PRON'], ['pp', 'PRON'], ['pn', 'PRON'],
  ['in', 'ADP'], ['jj', 'ADJ'], ['nn', 'NOUN'], ['np', 'NOUN'], ['nr', 'NOUN'],
  ['ql', 'ADV'], ['rb', 'ADV'], ['rn', 'ADV'], ['rp', 'PRT'], ['to', 'PRT'],
  ['uh', 'X'], ['nil', 'X'],
];

/** The universal tag of one Brown tag (case-insensitive). */
export function universalTag(brownTag: string): UniversalTag {
  const t = brownTag.toLowerCase();
  if (t.startsWith('fw-')) return 'X';
  // A compound's first part decides ("ppss+md" is a pronoun first); suffixes go.
  const base = t.split('+')[0].replace(/-(tl|hl|nc|t|n)\b/g, '').replace(/[$*]+$/, '');
  if (/^[^a-z]+$/.test(base)) return '.';
  for (const [prefix, tag] of BY_PREFIX) if (base.startsWith(prefix)) return tag;
  return 'X';
}
