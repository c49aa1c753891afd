// The routing figures of each validation step, on the fixed validation batches: per sparse layer,
// NMI(expert; label) (does specialisation grow over training?) and the share of validation tokens
// whose expert changed since the previous validation (does routing settle?).
import { contingency } from './routedTokens';
import { normalisedMutualInformation } from './specialisation';
import { routingChange } from './stability';

/** One sparse layer's routing of the validation tokens (all positions; -1 for padding). */
export interface ValidationLayerPass {
  layer: string;
  numExperts: number;
  /** How many label names `label` indexes. */
  numLabels: number;
  /** [N] the router's first choice, -1 for padding. */
  expert: Int32Array;
  /** [N] the token's label (TokenLabels), -1 for padding and markers. */
  label: Int32Array;
}

export interface ValidationRoutingFigures {
  nmi: Record<string, number>;
  /** Absent at the first validation: nothing to compare with. */
  routingChange?: Record<string, number>;
}

/** `previous`: each layer's `expert` at the previous validation (the same tokens), or null. */
export function validationRouting(passes: readonly ValidationLayerPass[], previous: ReadonlyMap<string, Int32Array> | null): ValidationRoutingFigures {
  const nmi: Record<string, number> = {};
  for (const p of passes) {
    if (p.expert.length !== p.label.length) throw new Error(`validationRouting: ${p.layer} has ${p.expert.length} experts for ${p.label.length} labels`);
    nmi[p.layer] = normalisedMutualInformation(contingency(p.expert, p.label, p.numExperts, p.numLabels));
  }
  if (!previous) return { nmi };
  const changed: Record<string, number> = {};
  for (const p of passes) {
    const before = previous.get(p.layer);
    if (before) changed[p.layer] = routingChange(before, p.expert);
  }
  return { nmi, routingChange: changed };
}
