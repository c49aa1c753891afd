// What a router can tell apart: how much of its (layer-normed) input is the same for every token,
// and how far its logits spread over the experts within a token against the part all tokens share.
// A router whose input is mostly one direction common to all tokens gives every token nearly the
// same logits, so it routes them alike and its gates stay near 1/E, whatever it is trained with.

/** Sums gathered over a layer's real validation tokens (collect.ts). */
export interface RouterInputSums {
  /** [d] Σ_t x_t: the router's input summed over tokens. */
  sum: Float64Array;
  /** Σ_t |x_t|². */
  energy: number;
  /** [N, E] the router's logits of each token, row-major. */
  logits: Float32Array;
  numExperts: number;
}

export interface RouterInputSpread {
  /** |mean x|² / mean |x|²: 0 when tokens spread around the origin, 1 when every token is the same vector. */
  commonShare: number;
  /** Std over experts of the mean logits (the router is bias-free: the logits of mean x), the part every token shares. */
  commonLogitStd: number;
  /** Mean over tokens of the std over experts of a token's logits minus the mean logits: what sets tokens apart. */
  tokenLogitStd: number;
}

/** Population standard deviation. */
function std(values: ArrayLike<number>): number {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i] - mean) ** 2;
  return Math.sqrt(v / n);
}

export function routerInputSpread(s: RouterInputSums): RouterInputSpread {
  const e = s.numExperts;
  const n = s.logits.length / e;
  if (!n || !s.energy) return { commonShare: 0, commonLogitStd: 0, tokenLogitStd: 0 };
  let meanSquared = 0;
  for (const v of s.sum) meanSquared += (v / n) ** 2;
  const meanLogits = new Float64Array(e);
  for (let t = 0; t < n; t++) for (let i = 0; i < e; i++) meanLogits[i] += s.logits[t * e + i] / n;
  // Each token's logits minus the mean logits: the part that sets it apart.
  const residual = new Float64Array(e);
  let tokenStd = 0;
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < e; i++) residual[i] = s.logits[t * e + i] - meanLogits[i];
    tokenStd += std(residual);
  }
  return { commonShare: meanSquared / (s.energy / n), commonLogitStd: std(meanLogits), tokenLogitStd: tokenStd / n };
}

/** One line for the CLI and the dashboard. */
export function describeRouterInput(s: RouterInputSpread): string {
  return (
    `Router input: ${(100 * s.commonShare).toFixed(1)}% of its energy is common to all tokens · ` +
    `logits' spread over experts ${s.tokenLogitStd.toFixed(3)} between tokens, ${s.commonLogitStd.toFixed(3)} shared by all`
  );
}
