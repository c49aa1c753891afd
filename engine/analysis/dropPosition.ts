// Overflow by position in the sequence. Slots are claimed in token order, so a token late in its
// sequence (and its batch) finds its expert full more often (OpenMoE reports the same).
import type { RoutedTokens } from './routedTokens';

export interface DropPositionPoint {
  /** First position of the bucket. */
  from: number;
  tokens: number;
  dropped: number;
  /** dropped / tokens */
  rate: number;
}

/** The drop rate per bucket of `bucket` positions, from position 0 to the longest sequence. */
export function dropByPosition(r: RoutedTokens, bucket = 8): DropPositionPoint[] {
  let longest = 0;
  for (const p of r.position) longest = Math.max(longest, p + 1);
  const n = Math.ceil(longest / bucket);
  const tokens = new Array<number>(n).fill(0);
  const dropped = new Array<number>(n).fill(0);
  for (let i = 0; i < r.position.length; i++) {
    if (r.expert[i] < 0) continue;
    const b = Math.floor(r.position[i] / bucket);
    tokens[b]++;
    dropped[b] += r.dropped[i];
  }
  return tokens.map((t, b) => ({ from: b * bucket, tokens: t, dropped: dropped[b], rate: t ? dropped[b] / t : 0 }));
}
