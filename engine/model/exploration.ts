// Router exploration (Switch Transformers, "router exploration strategies"): in training, the first
// expert may be drawn from the router's softmax instead of taken as its argmax. Eval always takes
// the argmax. (The other strategies, input dropout and jitter, act on the router's input in router.ts.)

/**
 * One expert per real token, drawn from its row of probs by inverse CDF: the first e whose running
 * sum exceeds u × (row sum), u uniform in [0, 1) from `uniform`. Padding gets -1 and draws nothing.
 * probs: [N, E] row-major; mask: [N] or null.
 */
export function sampleExperts(
  probs: ArrayLike<number>,
  mask: ArrayLike<number> | null,
  numTokens: number,
  numExperts: number,
  uniform: () => number,
): Int32Array {
  const chosen = new Int32Array(numTokens).fill(-1);
  for (let t = 0; t < numTokens; t++) {
    if (mask && !mask[t]) continue;
    let total = 0;
    for (let e = 0; e < numExperts; e++) total += probs[t * numExperts + e];
    const u = uniform() * total;
    let run = 0;
    // A NaN row falls through to the last expert, so that the step can report the NaN.
    chosen[t] = numExperts - 1;
    for (let e = 0; e < numExperts; e++) {
      run += probs[t * numExperts + e];
      if (u < run) {
        chosen[t] = e;
        break;
      }
    }
  }
  return chosen;
}
