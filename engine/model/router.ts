// Routers: a bias-free linear map to one logit per expert, in float32, then a kind-specific choice
// of experts. One small interface, one class per kind: No-Token-Left-Behind or expert-choice routing
// are new subclasses of it.
import * as tf from '@tensorflow/tfjs-core';
import type { SwitchConfig } from './config';
import type { ForwardContext } from './context';
import { linear, toBf16 } from './ops';
import type { ParamStore } from './params';
import { expertCapacity, planTopK, type RoutingPlan } from './routingPlan';

export interface RouterOutput {
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
}

export interface Router {
  readonly k: 1 | 2;
  /** x: [N, d]; mask: [N] 1 for real tokens (null: all real). */
  route(x: tf.Tensor2D, mask: Float32Array | null, ctx: ForwardContext): RouterOutput;
}

abstract class LinearRouter implements Router {
  abstract readonly k: 1 | 2;
  /** [d, E] the router's classifier. */
  readonly classifier: tf.Variable;

  constructor(
    protected readonly config: SwitchConfig,
    params: ParamStore,
    prefix: string,
  ) {
    this.classifier = params.weight(`${prefix}.router.classifier.weight`, [config.dModel, config.numExperts]);
  }

  route(x: tf.Tensor2D, mask: Float32Array | null, ctx: ForwardContext): RouterOutput {
    const c = this.config;
    let input: tf.Tensor2D = x;
    if (ctx.training && c.routerJitterNoise > 0) {
      // Multiplicative jitter on the router's input only: the experts see the clean tokens.
      const noise = tf.randomUniform(x.shape, 1 - c.routerJitterNoise, 1 + c.routerJitterNoise, 'float32', ctx.nextSeed());
      input = tf.mul(x, noise);
    }
    let logits = linear(input, this.classifier as tf.Tensor2D) as tf.Tensor2D;
    if (c.routerDtype === 'bfloat16') logits = toBf16(logits);
    let probs = tf.softmax(logits) as tf.Tensor2D;
    if (c.routerDtype === 'bfloat16') probs = toBf16(probs);

    const [n, e] = probs.shape;
    const probsHost = probs.dataSync() as Float32Array;
    const realTokens = mask ? mask.reduce((s, m) => s + m, 0) : n;
    const factor = ctx.training ? c.capacityFactor : c.evalCapacityFactor;
    // Top-2 doubles the slots, since every token makes two assignments.
    const capacity = c.expertCapacity ?? expertCapacity(realTokens * this.k, e, factor);
    const plan = planTopK(probsHost, mask, n, e, this.k, capacity);
    return { logits, probs, probsHost, plan, gates: this.gates(probs, plan), mask };
  }

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

  protected abstract gates(probs: tf.Tensor2D, plan: RoutingPlan): tf.Tensor1D[];
}

/** Switch routing: each token to its single most probable expert, scaled by that probability. */
export class Top1Router extends LinearRouter {
  readonly k = 1;
  protected gates(probs: tf.Tensor2D, plan: RoutingPlan): tf.Tensor1D[] {
    return this.chosenProbs(probs, plan);
  }
}

/** Shazeer et al. (2017) top-2: both experts' outputs, weighted by their renormalized probabilities. */
export class Top2Router extends LinearRouter {
  readonly k = 2;
  protected gates(probs: tf.Tensor2D, plan: RoutingPlan): tf.Tensor1D[] {
    const [g1, g2] = this.chosenProbs(probs, plan);
    const denom = tf.add(tf.add(g1, g2), 1e-9);
    return [tf.div(g1, denom), tf.div(g2, denom)];
  }
}

export function createRouter(config: SwitchConfig, params: ParamStore, prefix: string): Router {
  switch (config.router) {
    case 'switch':
      return new Top1Router(config, params, prefix);
    case 'top2':
      return new Top2Router(config, params, prefix);
    case 'dense':
      throw new Error('a dense model has no router');
  }
}
