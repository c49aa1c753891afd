// Where each token of a selection's inference lies in the document: token offsets are relative to
// the selected text, so they shift by the selection's start offset. Pure, for tests.
import type { InferenceResult } from '../../engine/protocol';

export interface OffsetRange {
  /** Index of the token in the inference result. */
  index: number;
  start: number;
  end: number;
}

/** Document offset ranges of the tokens that cover some text (special tokens cover none). */
export function tokenRanges(selectionStart: number, tokens: InferenceResult['tokens']): OffsetRange[] {
  return tokens.flatMap((t, index) => (t.end > t.start ? [{ index, start: selectionStart + t.start, end: selectionStart + t.end }] : []));
}

/** The hover text for token `index`: its expert, probability and drop at every sparse layer. */
export function tokenHover(result: InferenceResult, index: number): string {
  const token = result.tokens[index];
  const rows = result.layers.map((l) => {
    const r = l.tokens[index];
    return `| ${l.layer} | ${r.expert} | ${r.prob.toFixed(3)} | ${r.entropy.toFixed(2)} | ${r.dropped ? 'dropped' : ''} |`;
  });
  return [`**${JSON.stringify(token.text)}** (token ${token.id})`, '', '| layer | expert | p | entropy | |', '|---|---|---|---|---|', ...rows].join('\n');
}
