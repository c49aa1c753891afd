// Routers: a bias-free linear map to one logit per expert, in float32, then a kind-specific choice
// of experts, decided on the host (routingPlan.ts, ntlbPlan.ts, expertChoicePlan.ts). One small
// interface, one class per kind.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../data/rng';
import type { SwitchConfig } from './config';
import type { ForwardContext } from './context';
import { planExpertChoice } from './expertChoicePlan';
import { sampleExperts } from './exploration';
import { planNoTokenLeftBehind } from './ntlbPlan';
import { dropout, linear, toBf16 } from './ops';
import type { ParamStore } from './params';
import { expertCapacity, planPerGroup, planTopK, type RoutingPlan } from './routingPlan';

export interface RouterOutput {
  /** [N, d] what the router classified, before exploration noise: for the analyses. */
  input: tf.Tensor2D;
  /** [N, E] logits of the router, for the z-loss. */
  logits: tf.Tensor2D;
  /** [N, E] softmax of the logits, for the load-balancing loss and the gates. */
  probs: tf.Tensor2D;
  /** The same probabilities on the host, for routing and statistics. */
  probsHost: Float32Array;
  plan: RoutingPlan;
  /** k tensors of [N]: the weight of each token's j-th expert output (differentiable). */
  gates: tf.Tensor1D[];
  /** [N] 1 for the tokens the router counted (null: all), for the router losses. */
  mask: Float32Array | null;
  /** Whether the load-balancing loss applies (expert choice is balanced by construction). */
  balanceLoss: boolean;
}

export interface Router {
  /**
   * x: [N, d]; mask: [N] 1 for real tokens (null: all real); sequenceLength: tokens per sequence of
   * the batch, for a fixed expertCapacity (HF's, per sequence); without it the batch is one group.
   */
  route(x: tf.Tensor2D, mask: Float32Array | null, ctx: ForwardContext, sequenceLength?: number): RouterOutput;
}

const CLASSIFIER = '.router.classifier.weight';

/** Whether a weight name is a router's classifier (HF's name, which the engine keeps). */
export const isRouterWeight = (name: string): boolean => name.endsWith(CLASSIFIER);

abstract class LinearRouter implements Router {
  protected readonly balanceLoss: boolean = true;
  /** Assignments each token makes, for the capacity: top-2 doubles the slots. */
  protected readonly assignmentsPerToken: number = 1;
  /** [d, E] the router's classifier. */
  readonly classifier: tf.Variable;

  constructor(
    protected readonly config: SwitchConfig,
    params: ParamStore,
    prefix: string,
  ) {
    this.classifier = params.weight(`${prefix}${CLASSIFIER}`, [config.dModel, config.numExperts], config.dModel, config.routerInitScale);
  }

  route(x: tf.Tensor2D, mask: Float32Array | null, ctx: ForwardContext, sequenceLength?: number): RouterOutput {
    const c = this.config;
    let input: tf.Tensor2D = x;
    // Noise on the router's input only: the experts see the clean tokens.
    if (ctx.training && c.routerExploration === 'jitter' && c.routerJitterNoise > 0) {
      const noise = tf.randomUniform(x.shape, 1 - c.routerJitterNoise, 1 + c.routerJitterNoise, 'float32', ctx.nextSeed());
      input = tf.mul(x, noise);
    }
    if (c.routerExploration === 'inputDropout') input = dropout(x, c.routerInputDropoutRate, ctx);
    let logits = linear(input, this.classifier as tf.Tensor2D) as tf.Tensor2D;
    if (c.routerDtype === 'bfloat16') logits = toBf16(logits);
    let probs = tf.softmax(logits) as tf.Tensor2D;
    if (c.routerDtype === 'bfloat16') probs = toBf16(probs);

    const [n, e] = probs.shape;
    const probsHost = probs.dataSync() as Float32Array;
    const realTokens = mask ? mask.reduce((s, m) => s + m, 0) : n;
    const factor = ctx.training ? c.capacityFactor : c.evalCapacityFactor;
    const capacity = c.expertCapacity ?? expertCapacity(realTokens * this.assignmentsPerToken, e, factor);
    const drawn = ctx.training && c.routerExploration === 'sample' ? sampleExperts(probsHost, mask, n, e, uniform(ctx)) : undefined;
    // HF's expert_capacity is a number of slots per sequence; a capacity factor's counts over the batch.
    const group = c.expertCapacity !== undefined && sequenceLength ? sequenceLength : n;
    const plan = planPerGroup(probsHost, mask, n, e, group, (p, m, gn, t0) => this.plan(p, m, gn, capacity, drawn?.subarray(t0, t0 + gn)));
    return { input: x, logits, probs, probsHost, plan, gates: this.gates(probs, plan), mask, balanceLoss: this.balanceLoss };
  }

  /** probs: [N, E] on the host; drawn: [N] a first expert per token drawn by exploration. */
  protected abstract plan(probs: Float32Array, mask: Float32Array | null, n: number, capacity: number, drawn?: Int32Array): RoutingPlan;

  /** p[t, expertIndex[j*N + t]] for each choice j, as differentiable [N] tensors. */
  protected chosenProbs(probs: tf.Tensor2D, plan: RoutingPlan): tf.Tensor1D[] {
    const [n, e] = probs.shape;
    return Array.from({ length: plan.k }, (_, j) => {
      const onehot = new Float32Array(n * e);
      for (let t = 0; t < n; t++) {
        const ex = plan.expertIndex[j * n + t];
        if (ex >= 0) onehot[t * e + ex] = 1;
      }
      return tf.sum(tf.mul(probs, tf.tensor2d(onehot, [n, e])), 1) as tf.Tensor1D;
    });
  }

  /** The weights of the chosen experts' outputs: by default their probabilities. */
  protected gates(probs: tf.Tensor2D, plan: RoutingPlan): tf.Tensor1D[] {
    return this.chosenProbs(probs, plan);
  }
}

/** Switch routing: each token to its single most probable expert, scaled by that probability. */
export class Top1Router extends LinearRouter {
  protected plan(probs: Float32Array, mask: Float32Array | null, n: number, capacity: number, drawn?: Int32Array): RoutingPlan {
    return planTopK(probs, mask, n, this.config.numExperts, 1, capacity, drawn);
  }
}

/** Shazeer et al. (2017) top-2: both experts' outputs, weighted by their renormalized probabilities. */
export class Top2Router extends LinearRouter {
  protected override readonly assignmentsPerToken = 2;
  protected plan(probs: Float32Array, mask: Float32Array | null, n: number, capacity: number, drawn?: Int32Array): RoutingPlan {
    return planTopK(probs, mask, n, this.config.numExperts, 2, capacity, drawn);
  }
  protected override gates(probs: tf.Tensor2D, plan: RoutingPlan): tf.Tensor1D[] {
    const [g1, g2] = this.chosenProbs(probs, plan);
    const denom = tf.add(tf.add(g1, g2), 1e-9);
    return [tf.div(g1, denom), tf.div(g2, denom)];
  }
}

/** No-Token-Left-Behind: top-1, with overflow re-routed to next choices; the gate is the taker's probability. */
export class NtlbRouter extends LinearRouter {
  protected plan(probs: Float32Array, mask: Float32Array | null, n: number, capacity: number, drawn?: Int32Array): RoutingPlan {
    const c = this.config;
    return planNoTokenLeftBehind(probs, mask, n, c.numExperts, capacity, c.ntlbMaxTries ?? c.numExperts, drawn);
  }
}

/**
 * Expert choice (Zhou et al. 2022): each expert takes its top-C tokens, C = tokens × capacityFactor
 * / E; each taken token's gate is that expert's probability. The load is equal by construction, so
 * no balance loss: the run's auxiliary loss is the router z-loss alone.
 */
export class ExpertChoiceRouter extends LinearRouter {
  protected override readonly balanceLoss = false;
  protected plan(probs: Float32Array, mask: Float32Array | null, n: number, capacity: number): RoutingPlan {
    return planExpertChoice(probs, mask, n, this.config.numExperts, capacity);
  }
}

/** Uniform draws in [0, 1) from the pass's seed stream, so a replayed step draws the same. */
function uniform(ctx: ForwardContext): () => number {
  const rng = new Rng(ctx.nextSeed());
  return () => rng.nextFloat();
}

export function createRouter(config: SwitchConfig, params: ParamStore, prefix: string): Router {
  switch (config.router) {
    case 'switch':
      return new Top1Router(config, params, prefix);
    case 'top2':
      return new Top2Router(config, params, prefix);
    case 'ntlb':
      return new NtlbRouter(config, params, prefix);
    case 'expertChoice':
      return new ExpertChoiceRouter(config, params, prefix);
    case 'dense':
      throw new Error('a dense model has no router');
  }
}
