// Does routing settle? Between two passes over the same tokens (two checkpoints, or two validations
// during training), the share of tokens whose expert changed.

/** Share of the tokens routed in both passes (expert ≥ 0) whose first choice differs. */
export function routingChange(before: ArrayLike<number>, after: ArrayLike<number>): number {
  if (before.length !== after.length) throw new Error(`routingChange: ${before.length} and ${after.length} tokens are not the same tokens`);
  let both = 0;
  let changed = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i] < 0 || after[i] < 0) continue;
    both++;
    if (before[i] !== after[i]) changed++;
  }
  return both ? changed / both : 0;
}
