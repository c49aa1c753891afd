// The records a run writes to metrics.jsonl and streams in step events: one per training step and
// one per validation pass. Schemas, not just types, so that what is read back is checked.
import { z } from 'zod';
import { activeFraction, maxVio } from '../analysis/health';
import type { LayerRouting } from '../model/stats';

const count = z.number().int().min(0);

export const layerMetricsSchema = z.object({
  layer: z.string(),
  numExperts: count,
  capacity: count,
  /** Token-to-expert assignments at this layer, before capacity: real tokens × k (top-2 counts each twice). */
  assignments: count,
  /** [E] assignments that chose each expert, before capacity. */
  routed: z.array(count),
  /** [E] assignments each expert processed (kept within its capacity). */
  kept: z.array(count),
  /** [E] routed / assignments: each expert's share of the layer's load; sums to 1 (all 0 with no tokens). */
  shares: z.array(z.number()),
  /** Assignments past capacity. */
  dropped: count,
  /** dropped / assignments */
  overflowRate: z.number(),
  /** Mean router entropy per token, nats. */
  routerEntropy: z.number(),
  /** routerEntropy / ln(E): 1 is a uniform router, 0 a certain one. */
  normalizedEntropy: z.number(),
  /** Coefficient of variation of the routed counts (0 = perfectly balanced). */
  loadCv: z.number(),
  /** Largest share of the tokens taken by one expert. */
  maxShare: z.number(),
  unusedExperts: count,
  /** MaxVio: (max − mean) / mean routed per expert (0 = perfectly balanced); absent in older records. */
  maxVio: z.number().min(0).optional(),
  /** Share of the experts that took at least one token; absent in older records. */
  activeFraction: z.number().min(0).max(1).optional(),
  /** [E] mean router probability. */
  meanProb: z.array(z.number()),
  /** ntlb: [r] tokens kept at their r-th choice (0: first choice; r ≥ 1: re-routed); `dropped` are the rest. */
  keptAtChoice: z.array(count).optional(),
  /** expertChoice: [c] tokens taken by c experts (c = 0..E); [0] is `dropped`. */
  expertsPerToken: z.array(count).optional(),
});
export type LayerMetrics = z.infer<typeof layerMetricsSchema>;

export const alertSchema = z.object({
  kind: z.enum(['collapse', 'deadExpert', 'overflow', 'zLoss']),
  /** The sparse layer (none for a run-wide alert: the z-loss). */
  layer: z.string().optional(),
  expert: count.optional(),
  /** The step it fired at. */
  step: count,
  message: z.string(),
});
export type Alert = z.infer<typeof alertSchema>;

export const stepMetricsSchema = z.object({
  type: z.literal('step'),
  step: count,
  /** Wall-clock time the step ended, ms since the epoch. */
  time: z.number(),
  /** Real (non-padding) encoder and decoder tokens in the step's batch. */
  tokens: count,
  tokensPerSecond: z.number(),
  learningRate: z.number(),
  /** The total loss the optimizer minimised: crossEntropy + routerAuxLossCoef × auxLoss + routerZLossCoef × zLoss. */
  loss: z.number(),
  /** Cross-entropy of the targets, nats per real target token. */
  crossEntropy: z.number(),
  /** The load-balancing loss, summed over sparse layers (before its coefficient). */
  auxLoss: z.number(),
  /** The router z-loss, summed over sparse layers (before its coefficient). */
  zLoss: z.number(),
  gradNorm: z.number(),
  layers: z.array(layerMetricsSchema),
  /** Router-health alerts in force at this step (engine/analysis/health.ts); absent when none. */
  alerts: z.array(alertSchema).optional(),
});
export type StepMetrics = z.infer<typeof stepMetricsSchema>;

export const validationMetricsSchema = z.object({
  type: z.literal('validation'),
  step: count,
  time: z.number(),
  loss: z.number(),
  crossEntropy: z.number(),
  /** Per sparse layer, the share of validation tokens whose expert changed since the previous validation. */
  routingChange: z.record(z.string(), z.number()).optional(),
  /**
   * Per sparse layer, NMI(expert; label) over the validation tokens, in [0, 1]: the label is the
   * universal part-of-speech tag (encoder layers on a tagged corpus) or the token class.
   */
  nmi: z.record(z.string(), z.number().min(0).max(1)).optional(),
});
export type ValidationMetrics = z.infer<typeof validationMetricsSchema>;

export const metricsRecordSchema = z.discriminatedUnion('type', [stepMetricsSchema, validationMetricsSchema]);
export type MetricsRecord = z.infer<typeof metricsRecordSchema>;

/** What the routed counts alone say about a layer's load: any producer's record can have these. */
export function routedLoad(routed: readonly number[]): Pick<LayerMetrics, 'assignments' | 'shares' | 'loadCv' | 'maxShare' | 'unusedExperts' | 'maxVio' | 'activeFraction'> {
  const total = routed.reduce((s, x) => s + x, 0);
  const mean = routed.length ? total / routed.length : 0;
  const variance = routed.length ? routed.reduce((s, x) => s + (x - mean) ** 2, 0) / routed.length : 0;
  return {
    assignments: total,
    shares: routed.map((x) => (total ? x / total : 0)),
    loadCv: mean > 0 ? Math.sqrt(variance) / mean : 0,
    maxShare: total ? Math.max(...routed) / total : 0,
    unusedExperts: routed.filter((x) => x === 0).length,
    maxVio: maxVio(routed),
    activeFraction: activeFraction(routed),
  };
}

export function layerMetrics(r: LayerRouting): LayerMetrics {
  const load = routedLoad(r.routed);
  return {
    layer: r.layer,
    numExperts: r.numExperts,
    capacity: r.capacity,
    assignments: load.assignments,
    routed: r.routed,
    kept: r.kept,
    shares: load.shares,
    dropped: r.dropped,
    overflowRate: load.assignments ? r.dropped / load.assignments : 0,
    routerEntropy: r.routerEntropy,
    normalizedEntropy: r.numExperts > 1 ? r.routerEntropy / Math.log(r.numExperts) : 0,
    loadCv: load.loadCv,
    maxShare: load.maxShare,
    unusedExperts: load.unusedExperts,
    maxVio: load.maxVio,
    activeFraction: load.activeFraction,
    meanProb: r.meanProb,
    ...(r.keptAtChoice ? { keptAtChoice: r.keptAtChoice } : {}),
    ...(r.expertsPerToken ? { expertsPerToken: r.expertsPerToken } : {}),
  };
}
