// Pre- vs post-capacity load, per expert: the tokens whose first choice it is (what the router asked
// of it) and the tokens it processed within its capacity (what it did). A re-routing rule (ntlb)
// keeps some tokens at another expert than their first choice.
import type { RoutedTokens } from './routedTokens';

export interface CapacityLoad {
  /** [E] tokens whose most probable expert it is, before capacity. */
  routed: number[];
  /** [E] tokens it kept, after capacity. */
  kept: number[];
}

export function capacityLoad(r: RoutedTokens): CapacityLoad {
  const e = r.numExperts;
  const routed = new Array<number>(e).fill(0);
  const kept = new Array<number>(e).fill(0);
  for (let i = 0; i < r.expert.length; i++) {
    if (r.expert[i] < 0) continue;
    let best = 0;
    for (let j = 1; j < e; j++) if (r.probs[i * e + j] > r.probs[i * e + best]) best = j;
    routed[best]++;
    if (!r.dropped[i]) kept[r.expert[i]]++;
  }
  return { routed, kept };
}
