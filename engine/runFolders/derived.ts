// A record from another producer holds what that producer knew. What follows from its routed (and
// kept) counts by arithmetic is filled in, so that the tree, dashboard and alerts have it; nothing
// else is guessed: entropy, losses and throughput stay absent when the producer did not log them.
import { routedLoad } from '../train/metrics';
import type { LayerRecord, RunRecord } from '../train/runFormat';

export function withDerived<R extends RunRecord>(r: R): R {
  if (r.type !== 'step') return r;
  return { ...r, layers: r.layers.map(derivedLayer) };
}

/** The layer with its load figures from `routed`, overflow from `kept`; what the producer wrote wins. */
export function derivedLayer(l: LayerRecord): LayerRecord {
  const load = routedLoad(l.routed);
  const kept = l.kept && l.kept.length === l.routed.length ? l.kept : undefined;
  const dropped = kept ? Math.max(0, load.assignments - kept.reduce((s, x) => s + x, 0)) : undefined;
  const entropy = l.routerEntropy;
  return {
    ...load,
    ...(dropped !== undefined ? { dropped, overflowRate: load.assignments ? dropped / load.assignments : 0 } : {}),
    ...(entropy !== undefined && l.numExperts > 1 ? { normalizedEntropy: entropy / Math.log(l.numExperts) } : {}),
    ...l,
  };
}
