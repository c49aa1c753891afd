// No-Token-Left-Behind routing (Switch Transformers, "No Token Left Behind" in the appendix on token
// dropping): a token past its first choice's capacity is re-routed to its next most probable expert
// that still has a free slot, instead of riding the residual. Decided on the host, like routingPlan.
import { expertsByProb, finishPlan, type RoutingPlan } from './routingPlan';

/**
 * First choices claim slots in token order, exactly as top-1 routing; then, in rounds r = 1, 2, ...
 * up to maxTries - 1, every token still dropped tries its r-th choice, in token order, and takes it
 * if that expert has a free slot. Rounds give a token's second choice priority over another token's
 * third. A token still dropped after its last try keeps its first choice as its expert, not kept.
 * probs: [N, E] row-major; mask: [N] 1 for a real token (null: all real); maxTries: experts a token
 * may try, its first included (E: all); firstChoice: [N] a drawn first expert (router exploration).
 */
export function planNoTokenLeftBehind(
  probs: ArrayLike<number>,
  mask: ArrayLike<number> | null,
  numTokens: number,
  numExperts: number,
  capacity: number,
  maxTries = numExperts,
  firstChoice?: Int32Array,
): RoutingPlan {
  const n = numTokens;
  const tries = Math.min(maxTries, numExperts);
  const expertIndex = new Int32Array(n).fill(-1);
  const position = new Int32Array(n).fill(-1);
  const kept = new Uint8Array(n);
  const routedPerExpert = new Int32Array(numExperts);
  const keptAtChoice = new Int32Array(tries);
  const order: number[][] = [];
  for (let t = 0; t < n; t++) {
    if (mask && !mask[t]) continue;
    order[t] = expertsByProb(probs, t, numExperts, firstChoice ? firstChoice[t] : -1);
    const e = order[t][0];
    expertIndex[t] = e;
    position[t] = routedPerExpert[e]++;
    kept[t] = position[t] < capacity ? 1 : 0;
    keptAtChoice[0] += kept[t];
  }
  const used = Int32Array.from(routedPerExpert, (r) => Math.min(r, capacity)); // [E] slots taken
  for (let r = 1; r < tries; r++) {
    for (let t = 0; t < n; t++) {
      if (expertIndex[t] < 0 || kept[t]) continue;
      const e = order[t][r];
      if (used[e] >= capacity) continue;
      expertIndex[t] = e;
      position[t] = used[e]++;
      kept[t] = 1;
      keptAtChoice[r]++;
    }
  }
  return finishPlan({ k: 1, numTokens: n, numExperts, capacity, expertIndex, position, kept, routedPerExpert, keptAtChoice });
}
