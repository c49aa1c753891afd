// What another capacity factor would have dropped, without retraining: the router's probabilities
// replayed through the same routing rule at each factor, group by group.
import { expertCapacity, planTopK } from '../model/routingPlan';
import type { RoutedTokens } from './routedTokens';

export const WHAT_IF_FACTORS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4];

export interface WhatIfPoint {
  capacityFactor: number;
  dropped: number;
  /** dropped / tokens */
  droppedShare: number;
}

/** Switch routing (top-1, first come first served) replayed at each capacity factor. */
export function capacityWhatIf(r: RoutedTokens, factors: readonly number[] = WHAT_IF_FACTORS): WhatIfPoint[] {
  const e = r.numExperts;
  const total = r.groupSizes.reduce((s, n) => s + n, 0);
  return factors.map((capacityFactor) => {
    let dropped = 0;
    let start = 0;
    for (const n of r.groupSizes) {
      const probs = r.probs.subarray(start * e, (start + n) * e);
      const plan = planTopK(probs, null, n, e, 1, expertCapacity(n, e, capacityFactor));
      dropped += n - plan.kept.reduce((s, k) => s + k, 0);
      start += n;
    }
    return { capacityFactor, dropped, droppedShare: total ? dropped / total : 0 };
  });
}
