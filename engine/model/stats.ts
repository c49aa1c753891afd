// What a sparse layer reports about one forward pass, computed on the host from the router
// probabilities and the plan: the per-expert counts a step record is made of (train/metrics.ts) and,
// per token, the expert, probability and drop that inference returns.
import type { RoutingPlan } from './routingPlan';

export interface LayerRouting {
  /** e.g. `encoder.block.1` */
  layer: string;
  numExperts: number;
  capacity: number;
  /** Real (non-padding) tokens routed at this layer. */
  numTokens: number;
  /** [E] assignments that chose each expert, before capacity. */
  routed: number[];
  /** [E] assignments each expert processed. */
  kept: number[];
  /** Assignments past capacity (expert choice: tokens no expert took): the residual carries them. */
  dropped: number;
  /** [E] mean router probability of each expert over real tokens (P_i in the balance loss). */
  meanProb: number[];
  /** Mean over real tokens of the router distribution's entropy, in nats. */
  routerEntropy: number;
  /** No-Token-Left-Behind: [r] tokens kept at their r-th choice (r ≥ 1: re-routed). */
  keptAtChoice?: number[];
  /** Expert choice: [c] tokens taken by c experts (c = 0..E). */
  expertsPerToken?: number[];
  /** Per token (all N positions; padding has expert -1). */
  tokens: {
    expert: Int32Array;
    prob: Float32Array;
    dropped: Uint8Array;
    entropy: Float32Array;
  };
}

export function layerRouting(layer: string, probs: Float32Array, plan: RoutingPlan): LayerRouting {
  const { numTokens: n, numExperts: e } = plan;
  const meanProb = new Float64Array(e);
  const expert = plan.expertIndex.slice(0, n);
  const prob = new Float32Array(n);
  const dropped = new Uint8Array(n);
  const entropy = new Float32Array(n);
  let real = 0;
  let entropySum = 0;
  for (let t = 0; t < n; t++) {
    if (expert[t] < 0) continue;
    real++;
    let h = 0;
    for (let i = 0; i < e; i++) {
      const p = probs[t * e + i];
      meanProb[i] += p;
      if (p > 0) h -= p * Math.log(p);
    }
    entropy[t] = h;
    entropySum += h;
    prob[t] = probs[t * e + expert[t]];
    dropped[t] = plan.kept[t] ? 0 : 1;
  }
  const routed = Array.from(plan.routedPerExpert);
  const kept = Array.from(plan.keptPerExpert);
  return {
    layer,
    numExperts: e,
    capacity: plan.capacity,
    numTokens: real,
    routed,
    kept,
    dropped: plan.dropped,
    meanProb: Array.from(meanProb, (p) => (real ? p / real : 0)),
    routerEntropy: real ? entropySum / real : 0,
    ...(plan.keptAtChoice ? { keptAtChoice: Array.from(plan.keptAtChoice) } : {}),
    ...(plan.expertsPerToken ? { expertsPerToken: Array.from(plan.expertsPerToken) } : {}),
    tokens: { expert, prob, dropped, entropy },
  };
}
