// The routing of a set of tokens at one sparse layer, gathered for analysis: per real token its
// position in its sequence, its label (a part-of-speech tag id or a token class), its token id, the
// expert the router chose, whether capacity dropped it, and the router's probabilities.
import type { RouterInputSums } from './routerInput';

export interface RoutedTokens {
  layer: string;
  numExperts: number;
  /** The label names that `label` indexes (fine tags, universal tags or token classes). */
  labels: readonly string[];
  /** [N] each token's position in its sequence. */
  position: Int32Array;
  /** [N] index into `labels`, or -1 for a token without one. */
  label: Int32Array;
  /** [N] vocabulary id. */
  tokenId: Int32Array;
  /** [N] the router's first choice. */
  expert: Int32Array;
  /** [N] 1 where capacity dropped the token. */
  dropped: Uint8Array;
  /** [N, E] router probabilities, row-major. */
  probs: Float32Array;
  /** Tokens per routing group, in order (a group shares its experts' capacity: one batch). */
  groupSizes: number[];
  /** The router's input and logits over the same tokens (absent where only the routing is known). */
  routerInput?: RouterInputSums;
}

/** Counts of how often each value of `b` comes with each value of `a`: [numA][numB]. */
export function contingency(a: ArrayLike<number>, b: ArrayLike<number>, numA: number, numB: number): number[][] {
  const table = Array.from({ length: numA }, () => new Array<number>(numB).fill(0));
  for (let i = 0; i < a.length; i++) if (a[i] >= 0 && b[i] >= 0) table[a[i]][b[i]]++;
  return table;
}
