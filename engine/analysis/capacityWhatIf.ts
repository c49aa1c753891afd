// What another capacity factor would have dropped, without retraining: the router's probabilities
// replayed through a routing rule at each factor, group by group. Two rules: switch (top-1, first
// come first served; an overflowing token rides the residual) and ntlb (No Token Left Behind: an
// overflowing token tries its next choices), so that a curve shows what re-routing would save.
import { planNoTokenLeftBehind } from '../model/ntlbPlan';
import { expertCapacity, planTopK, type RoutingPlan } from '../model/routingPlan';
import type { RoutedTokens } from './routedTokens';

export const WHAT_IF_FACTORS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4];
export const WHAT_IF_RULES = ['switch', 'ntlb'] as const;
export type WhatIfRule = (typeof WHAT_IF_RULES)[number];

export interface WhatIfPoint {
  rule: WhatIfRule;
  capacityFactor: number;
  dropped: number;
  /** dropped / tokens */
  droppedShare: number;
}

export interface WhatIfOptions {
  factors?: readonly number[];
  rules?: readonly WhatIfRule[];
  /** ntlb: experts a token may try, its first included (the run's ntlbMaxTries; default all). */
  ntlbMaxTries?: number;
}

/** Each rule replayed at each capacity factor: points ordered by rule, then factor. */
export function capacityWhatIf(r: RoutedTokens, { factors = WHAT_IF_FACTORS, rules = WHAT_IF_RULES, ntlbMaxTries }: WhatIfOptions = {}): WhatIfPoint[] {
  const e = r.numExperts;
  const total = r.groupSizes.reduce((s, n) => s + n, 0);
  const plan = (rule: WhatIfRule, probs: Float32Array, n: number, capacity: number): RoutingPlan =>
    rule === 'switch' ? planTopK(probs, null, n, e, 1, capacity) : planNoTokenLeftBehind(probs, null, n, e, capacity, ntlbMaxTries ?? e);
  return rules.flatMap((rule) =>
    factors.map((capacityFactor) => {
      let dropped = 0;
      let start = 0;
      for (const n of r.groupSizes) {
        const p = plan(rule, r.probs.subarray(start * e, (start + n) * e), n, expertCapacity(n, e, capacityFactor));
        dropped += n - p.kept.reduce((s, k) => s + k, 0);
        start += n;
      }
      return { rule, capacityFactor, dropped, droppedShare: total ? dropped / total : 0 };
    }),
  );
}
