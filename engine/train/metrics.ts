// The records a run writes to metrics.jsonl (and, later, streams): one per training step and one
// per validation pass. Schemas, not just types, so that what is read back is checked.
import { z } from 'zod';
import type { LayerRouting } from '../model/stats';

const count = z.number().int().min(0);

export const layerMetricsSchema = z.object({
  layer: z.string(),
  numExperts: count,
  capacity: count,
  /** Real tokens routed at this layer (top-2 routes each twice). */
  tokens: count,
  /** [E] before capacity. */
  routed: z.array(count),
  /** [E] processed by each expert. */
  kept: z.array(count),
  dropped: count,
  /** dropped / tokens */
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
  /** [E] mean router probability. */
  meanProb: z.array(z.number()),
  /** ntlb: [r] tokens kept at their r-th choice (0: first choice; r ≥ 1: re-routed); `dropped` are the rest. */
  keptAtChoice: z.array(count).optional(),
  /** expertChoice: [c] tokens taken by c experts (c = 0..E); [0] is `dropped`. */
  expertsPerToken: z.array(count).optional(),
});
export type LayerMetrics = z.infer<typeof layerMetricsSchema>;

export const stepMetricsSchema = z.object({
  type: z.literal('step'),
  step: count,
  /** Wall-clock time the step ended, ms since the epoch. */
  time: z.number(),
  /** Real (non-padding) encoder and decoder tokens in the step's batch. */
  tokens: count,
  tokensPerSecond: z.number(),
  learningRate: z.number(),
  loss: z.number(),
  crossEntropy: z.number(),
  auxLoss: z.number(),
  zLoss: z.number(),
  gradNorm: z.number(),
  layers: z.array(layerMetricsSchema),
});
export type StepMetrics = z.infer<typeof stepMetricsSchema>;

export const validationMetricsSchema = z.object({
  type: z.literal('validation'),
  step: count,
  time: z.number(),
  loss: z.number(),
  crossEntropy: z.number(),
});
export type ValidationMetrics = z.infer<typeof validationMetricsSchema>;

export const metricsRecordSchema = z.discriminatedUnion('type', [stepMetricsSchema, validationMetricsSchema]);
export type MetricsRecord = z.infer<typeof metricsRecordSchema>;

export function layerMetrics(r: LayerRouting): LayerMetrics {
  const total = r.routedPerExpert.reduce((s, x) => s + x, 0);
  const mean = total / r.numExperts;
  const variance = r.routedPerExpert.reduce((s, x) => s + (x - mean) ** 2, 0) / r.numExperts;
  return {
    layer: r.layer,
    numExperts: r.numExperts,
    capacity: r.capacity,
    tokens: total,
    routed: r.routedPerExpert,
    kept: r.keptPerExpert,
    dropped: r.dropped,
    overflowRate: total ? r.dropped / total : 0,
    routerEntropy: r.routerEntropy,
    normalizedEntropy: r.numExperts > 1 ? r.routerEntropy / Math.log(r.numExperts) : 0,
    loadCv: mean > 0 ? Math.sqrt(variance) / mean : 0,
    maxShare: total ? Math.max(...r.routedPerExpert) / total : 0,
    unusedExperts: r.routedPerExpert.filter((x) => x === 0).length,
    meanProb: r.meanProbPerExpert,
    ...(r.keptAtChoice ? { keptAtChoice: r.keptAtChoice } : {}),
    ...(r.expertsPerToken ? { expertsPerToken: r.expertsPerToken } : {}),
  };
}
