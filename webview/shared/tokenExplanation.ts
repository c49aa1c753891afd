// One routed token explained, for the editor's routing hover and the Routing view's tooltip: what it
// is (its token class: the selected text has no part-of-speech tagger, only the Brown corpus is
// tagged) and what the expert that took it usually takes (the run's analysis, as expert notes).
// Pure.
import { tokenClass } from '../../engine/analysis/tokenClass';
import type { ExpertNote, InferenceResult } from '../../engine/protocol';

export interface TokenExplanation {
  token: string;
  /** Its token class, or "sentinel" (the objective's marker, not text). */
  kind: string;
  layer: string;
  expert: number;
  dropped: boolean;
  /** What the expert usually takes; absent when not known, with `why`. */
  note?: ExpertNote;
  why?: string;
}

/** Token `index` at sparse layer `layer`; `notes` undefined when the run has no analysis (yet). */
export function explainToken(result: InferenceResult, index: number, layer: number, notes: readonly ExpertNote[] | undefined, why = 'no analysis of this run yet'): TokenExplanation | undefined {
  const token = result.tokens[index];
  const l = result.layers[layer];
  const r = l?.tokens[index];
  if (!token || !l || !r) return undefined;
  const base = { token: token.text, kind: /^<extra_id_\d+>$/.test(token.text) ? 'sentinel' : tokenClass(token.text), layer: l.layer, expert: r.expert, dropped: r.dropped };
  if (!notes) return { ...base, why };
  const note = notes.find((n) => n.layer === l.layer && n.expert === r.expert);
  return note ? { ...base, note } : { ...base, why: `the analysis has no ${l.layer}` };
}

/** The explanation in three parts; `markdown` marks the token and its kind up for a hover. */
export function explanationParts(x: TokenExplanation, markdown = false): { head: string; takes: string; details: string[] } {
  const quoted = JSON.stringify(x.token);
  return {
    head: `${markdown ? `**${quoted}**` : quoted} is a ${markdown ? `*${x.kind}*` : x.kind} token; at ${x.layer} expert ${x.expert} took it${x.dropped ? ' (then dropped it: over capacity)' : ''}.`,
    takes: x.note ? `Expert ${x.expert} usually takes: ${x.note.description}` : `What expert ${x.expert} usually takes: ${x.why ?? 'not known'}.`,
    details: x.note?.details ?? [],
  };
}

/** Markdown for the editor's hover. */
export function explanationMarkdown(x: TokenExplanation): string {
  const { head, takes, details } = explanationParts(x, true);
  return [head, '', takes, ...(details.length ? ['', ...details.map((d) => `- ${d}`)] : [])].join('\n');
}
