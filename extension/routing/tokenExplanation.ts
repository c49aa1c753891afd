// The routing hover's explanation of one token: what it is (its token class: a tagger runs only on
// the Brown corpus, not on the editor's text) and what the expert that took it usually takes, from
// the run's analysis. Pure, for tests.
import type { Analysis } from '../../engine/analysis/analysisSchema';
import { tokenClass } from '../../engine/analysis/tokenClass';
import type { InferenceResult } from '../../engine/protocol';
import { describeSpecialisation } from '../runs/specialisationText';

/** Markdown for token `index` at sparse layer `layer`; `analysis` undefined when the run has none yet. */
export function tokenExplanation(result: InferenceResult, index: number, layer: number, analysis: Analysis | undefined, why = 'no analysis of this run yet'): string {
  const token = result.tokens[index];
  const l = result.layers[layer];
  const r = l?.tokens[index];
  if (!token || !l || !r) return '';
  // A sentinel is the objective's marker, not text (the analyses give it no class either).
  const kind = /^<extra_id_\d+>$/.test(token.text) ? 'sentinel' : tokenClass(token.text);
  const head = `**${JSON.stringify(token.text)}** is a *${kind}* token; at ${l.layer} expert ${r.expert} took it${r.dropped ? ' (then dropped it: over capacity)' : ''}.`;
  const learned = analysis?.layers.find((x) => x.layer === l.layer)?.specialisation.experts[r.expert];
  if (!analysis || !learned) return `${head}\n\nWhat expert ${r.expert} usually takes: ${analysis ? `the analysis has no ${l.layer}` : why}.`;
  const { description, tooltip } = describeSpecialisation(learned, analysis);
  return [head, '', `Expert ${r.expert} usually takes: ${description}`, '', ...tooltip.split('\n').map((line) => `- ${line}`)].join('\n');
}
