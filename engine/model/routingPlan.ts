// Routing decisions, made on the host from the router probabilities. They carry no gradient (the
// gradient reaches the router through the gate that scales each expert's output), and doing them in
// JS avoids tfjs ops that have no wasm kernel or no gradient (Einsum, Cumsum on axis 0, LessEqual).

/** Slots per expert: ceil(tokensPerGroup / numExperts * capacityFactor), at least 1. */
export function expertCapacity(tokensPerGroup: number, numExperts: number, capacityFactor: number): number {
  if (tokensPerGroup <= 0) return 0;
  return Math.max(1, Math.ceil((tokensPerGroup / numExperts) * capacityFactor));
}

/**
 * Where every assignment goes. Assignment (j, t) is token t's j-th choice (j < k), stored at j*N + t.
 * Kept assignments are dispatched grouped by expert, in the order they claimed their slots.
 */
export interface RoutingPlan {
  k: number;
  numTokens: number;
  numExperts: number;
  capacity: number;
  /** [k*N] the chosen expert, or -1 for a padding token that is not routed. */
  expertIndex: Int32Array;
  /** [k*N] the slot claimed in that expert, counted before capacity (-1 for padding). */
  position: Int32Array;
  /** [k*N] 1 when the slot is within capacity. */
  kept: Uint8Array;
  /** [E] assignments that chose each expert, before capacity. */
  routedPerExpert: Int32Array;
  /** [E] assignments each expert processes. */
  keptPerExpert: Int32Array;
  /** [sum(kept)] row (j*N + t) of the k-times-tiled input for each dispatched slot. */
  dispatchIdx: Int32Array;
  /** [k*N] row of the concatenated expert outputs for each assignment, -1 when dropped. */
  combineIdx: Int32Array;
  /** Assignments no expert processes (expert choice: real tokens that no expert took). */
  dropped: number;
  /** No-Token-Left-Behind: [r] tokens kept at their r-th choice (0 = first choice, 1 = re-routed once, ...). */
  keptAtChoice?: Int32Array;
  /** Expert choice: [c] real tokens taken by c experts (c = 0..E). */
  expertsPerToken?: Int32Array;
}

/**
 * Index of the largest of probs[row*E .. row*E+E), skipping `exclude`; the first wins a tie. A row of
 * NaNs (a diverged router) still picks an expert, so that the step can report the NaN, not crash.
 */
export function argmaxRow(probs: ArrayLike<number>, row: number, numExperts: number, exclude = -1): number {
  let best = exclude === 0 ? 1 : 0;
  let bestP = -Infinity;
  for (let e = 0; e < numExperts; e++) {
    const p = probs[row * numExperts + e];
    if (e !== exclude && p > bestP) {
      best = e;
      bestP = p;
    }
  }
  return best;
}

/**
 * Experts of row `row` from most to least probable, the lower index first on a tie; `first` (a drawn
 * expert) leads when given. NaN counts as least probable.
 */
export function expertsByProb(probs: ArrayLike<number>, row: number, numExperts: number, first = -1): number[] {
  const p = (e: number) => (Number.isNaN(probs[row * numExperts + e]) ? -Infinity : probs[row * numExperts + e]);
  const order = Array.from({ length: numExperts }, (_, e) => e).sort((a, b) => p(b) - p(a) || a - b);
  return first < 0 ? order : [first, ...order.filter((e) => e !== first)];
}

/**
 * Top-k routing with capacity, as Mesh-TF does it: every token's first choice claims a slot in
 * token order, then every second choice queues behind all first choices of that expert.
 * probs: [N, E] row-major; mask: [N] 1 for a real token (null: all real); firstChoice: [N] a drawn
 * first expert per token (router exploration), instead of the argmax.
 */
export function planTopK(
  probs: ArrayLike<number>,
  mask: ArrayLike<number> | null,
  numTokens: number,
  numExperts: number,
  k: 1 | 2,
  capacity: number,
  firstChoice?: Int32Array,
): RoutingPlan {
  const n = numTokens;
  const expertIndex = new Int32Array(k * n).fill(-1);
  const position = new Int32Array(k * n).fill(-1);
  const kept = new Uint8Array(k * n);
  const routedPerExpert = new Int32Array(numExperts);
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < n; t++) {
      if (mask && !mask[t]) continue;
      const a = j * n + t;
      const e = j === 0 && firstChoice ? firstChoice[t] : argmaxRow(probs, t, numExperts, j === 0 ? -1 : expertIndex[t]);
      expertIndex[a] = e;
      position[a] = routedPerExpert[e]++;
      kept[a] = position[a] < capacity ? 1 : 0;
    }
  }
  return finishPlan({ k, numTokens: n, numExperts, capacity, expertIndex, position, kept, routedPerExpert });
}

type PlanParts = Pick<RoutingPlan, 'k' | 'numTokens' | 'numExperts' | 'capacity' | 'expertIndex' | 'position' | 'kept' | 'routedPerExpert'> &
  Partial<Pick<RoutingPlan, 'dropped' | 'keptAtChoice' | 'expertsPerToken'>>;

/**
 * Derives the dispatch and combine indices from each assignment's expert, slot and kept flag, and
 * the dropped count (routed minus kept, unless the rule says otherwise). groupSize: tokens per group
 * when slots were counted per group (HF's per-sequence capacity); the whole batch by default.
 */
export function finishPlan(p: PlanParts, groupSize = p.numTokens): RoutingPlan {
  const E = p.numExperts;
  const groups = Math.max(1, Math.ceil(p.numTokens / groupSize));
  const groupOf = (a: number) => Math.floor((a % p.numTokens) / groupSize);
  // [G, E] kept per group and expert; a group's rows of an expert follow the earlier groups' rows.
  const before = new Int32Array(groups * E);
  for (let a = 0; a < p.kept.length; a++) if (p.kept[a]) before[groupOf(a) * E + p.expertIndex[a]]++;
  const keptPerExpert = new Int32Array(E);
  for (let g = 0; g < groups; g++) {
    for (let e = 0; e < E; e++) {
      const n = before[g * E + e];
      before[g * E + e] = keptPerExpert[e];
      keptPerExpert[e] += n;
    }
  }
  const offset = new Int32Array(E);
  for (let e = 1; e < E; e++) offset[e] = offset[e - 1] + keptPerExpert[e - 1];
  const total = offset[E - 1] + keptPerExpert[E - 1];
  const dispatchIdx = new Int32Array(total);
  const combineIdx = new Int32Array(p.kept.length).fill(-1);
  for (let a = 0; a < p.kept.length; a++) {
    if (!p.kept[a]) continue;
    // Kept slots of an expert in a group are exactly 0..kept-1, so the slot is the offset within the expert's rows of the group.
    const e = p.expertIndex[a];
    const row = offset[e] + before[groupOf(a) * E + e] + p.position[a];
    dispatchIdx[row] = a;
    combineIdx[a] = row;
  }
  const dropped = p.dropped ?? p.routedPerExpert.reduce((s, r) => s + r, 0) - total;
  return { ...p, keptPerExpert, dispatchIdx, combineIdx, dropped };
}

/**
 * HF's fixed expert_capacity is per sequence: each group of `groupSize` tokens (a sequence of a
 * batch) is planned on its own by `plan`, then the plans are joined as one over all N tokens.
 * probs: [N, E]; mask: [N] or null.
 */
export function planPerGroup(
  probs: Float32Array,
  mask: Float32Array | null,
  numTokens: number,
  numExperts: number,
  groupSize: number,
  plan: (probs: Float32Array, mask: Float32Array | null, n: number, offset: number) => RoutingPlan,
): RoutingPlan {
  if (groupSize >= numTokens) return plan(probs, mask, numTokens, 0);
  if (numTokens % groupSize) throw new Error(`${numTokens} tokens are not whole groups of ${groupSize}`);
  const parts: RoutingPlan[] = [];
  for (let t0 = 0; t0 < numTokens; t0 += groupSize) {
    parts.push(plan(probs.subarray(t0 * numExperts, (t0 + groupSize) * numExperts), mask?.subarray(t0, t0 + groupSize) ?? null, groupSize, t0));
  }
  const { k, capacity } = parts[0];
  const n = numTokens;
  const expertIndex = new Int32Array(k * n);
  const position = new Int32Array(k * n);
  const kept = new Uint8Array(k * n);
  const routedPerExpert = new Int32Array(numExperts);
  let dropped = 0;
  const sum = (field: 'keptAtChoice' | 'expertsPerToken') => {
    if (!parts[0][field]) return undefined;
    const out = new Int32Array(parts[0][field].length);
    for (const q of parts) (q[field] as Int32Array).forEach((v, i) => (out[i] += v));
    return out;
  };
  parts.forEach((q, g) => {
    for (let j = 0; j < k; j++) {
      // Assignment (j, t) of the group is (j, g*groupSize + t) of the batch.
      const from = j * groupSize;
      const to = j * n + g * groupSize;
      expertIndex.set(q.expertIndex.subarray(from, from + groupSize), to);
      position.set(q.position.subarray(from, from + groupSize), to);
      kept.set(q.kept.subarray(from, from + groupSize), to);
    }
    q.routedPerExpert.forEach((r, e) => (routedPerExpert[e] += r));
    dropped += q.dropped;
  });
  const keptAtChoice = sum('keptAtChoice');
  const expertsPerToken = sum('expertsPerToken');
  return finishPlan(
    { k, numTokens: n, numExperts, capacity, expertIndex, position, kept, routedPerExpert, dropped, ...(keptAtChoice ? { keptAtChoice } : {}), ...(expertsPerToken ? { expertsPerToken } : {}) },
    groupSize,
  );
}
