// Does routing settle? Between two checkpoints, the share of the same tokens whose expert changed.
import type { RoutedTokens } from './routedTokens';

/** Share of tokens routed by both whose first choice differs; the two must route the same tokens. */
export function routingChange(before: RoutedTokens, after: RoutedTokens): number {
  if (before.expert.length !== after.expert.length || before.layer !== after.layer) {
    throw new Error(`routingChange: ${before.layer} (${before.expert.length} tokens) and ${after.layer} (${after.expert.length}) are not the same tokens`);
  }
  let both = 0;
  let changed = 0;
  for (let i = 0; i < before.expert.length; i++) {
    if (before.expert[i] < 0 || after.expert[i] < 0) continue;
    both++;
    if (before.expert[i] !== after.expert[i]) changed++;
  }
  return both ? changed / both : 0;
}
