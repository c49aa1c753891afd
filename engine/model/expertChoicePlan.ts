// Expert-choice routing (Zhou et al. 2022, "Mixture-of-Experts with Expert Choice Routing"): the
// experts pick tokens instead of tokens picking experts. Every expert takes its C most probable
// tokens, so the load is balanced by construction; a token gets 0..E experts. Decided on the host.
import { argmaxRow, expertsByProb, finishPlan, type RoutingPlan } from './routingPlan';

/**
 * Each expert e takes the `capacity` real tokens with the largest probs[t, e], the lower token index
 * first on a tie. A token's choices (k = the most experts any token got) are the experts that took
 * it, most probable first; a token no expert took is dropped, with its argmax as its expert.
 * routedPerExpert counts argmax choices: the router's own preference, which no capacity bounds.
 * probs: [N, E] row-major; mask: [N] 1 for a real token (null: all real).
 */
export function planExpertChoice(
  probs: ArrayLike<number>,
  mask: ArrayLike<number> | null,
  numTokens: number,
  numExperts: number,
  capacity: number,
): RoutingPlan {
  const n = numTokens;
  const real = Array.from({ length: n }, (_, t) => t).filter((t) => !mask || mask[t]);
  const p = (t: number, e: number) => (Number.isNaN(probs[t * numExperts + e]) ? -Infinity : probs[t * numExperts + e]);
  // slotOf[t * E + e]: the slot expert e gave token t, or -1.
  const slotOf = new Int32Array(n * numExperts).fill(-1);
  for (let e = 0; e < numExperts; e++) {
    const picked = [...real].sort((a, b) => p(b, e) - p(a, e) || a - b).slice(0, capacity);
    picked.forEach((t, slot) => (slotOf[t * numExperts + e] = slot));
  }
  const takenBy: number[][] = Array.from({ length: n }, (_, t) =>
    expertsByProb(probs, t, numExperts).filter((e) => slotOf[t * numExperts + e] >= 0),
  );
  const k = Math.max(1, ...takenBy.map((es) => es.length));
  const expertIndex = new Int32Array(k * n).fill(-1);
  const position = new Int32Array(k * n).fill(-1);
  const kept = new Uint8Array(k * n);
  const routedPerExpert = new Int32Array(numExperts);
  const expertsPerToken = new Int32Array(numExperts + 1);
  for (const t of real) {
    const es = takenBy[t];
    expertsPerToken[es.length]++;
    routedPerExpert[argmaxRow(probs, t, numExperts)]++;
    if (es.length === 0) expertIndex[t] = argmaxRow(probs, t, numExperts);
    es.forEach((e, j) => {
      expertIndex[j * n + t] = e;
      position[j * n + t] = slotOf[t * numExperts + e];
      kept[j * n + t] = 1;
    });
  }
  return finishPlan({ k, numTokens: n, numExperts, capacity, expertIndex, position, kept, routedPerExpert, dropped: expertsPerToken[0], expertsPerToken });
}
