// A sparse feed-forward layer (HF: SwitchTransformersSparseMLP): a router and numExperts T5 FFNs.
import * as tf from '@tensorflow/tfjs-core';
import type { SwitchConfig } from './config';
import type { ForwardContext } from './context';
import { DenseActDense } from './denseMlp';
import { dispatchPerExpert } from './dispatch';
import { toBf16 } from './ops';
import type { ParamStore } from './params';
import { createRouter, type Router, type RouterOutput } from './router';
import { layerRouting, type LayerRouting } from './stats';

export interface SparseMlpOutput {
  /** [N, dModel] */
  y: tf.Tensor2D;
  /** What the router computed: the model's loss takes the router losses from it (as HF does). */
  router: RouterOutput;
  routing: LayerRouting;
}

export class SparseMlp {
  readonly router: Router;
  readonly experts: DenseActDense[];

  constructor(
    private readonly config: SwitchConfig,
    params: ParamStore,
    readonly name: string,
  ) {
    this.router = createRouter(config, params, `${name}.mlp`);
    this.experts = Array.from(
      { length: config.numExperts },
      (_, e) => new DenseActDense(params, `${name}.mlp.experts.expert_${e}`, config.dModel, config.dFf, config.expertDropoutRate),
    );
  }

  /** x: [N, dModel] (already layer-normed); mask: [N] 1 for real tokens; sequenceLength: see Router.route. */
  forward(x: tf.Tensor2D, mask: Float32Array | null, ctx: ForwardContext, sequenceLength?: number): SparseMlpOutput {
    const r = this.router.route(x, mask, ctx, sequenceLength); // the router always sees float32
    const expertInput = this.config.dtype === 'bfloat16' ? toBf16(x) : x;
    const y = dispatchPerExpert(expertInput, r.plan, r.gates, (e, xe) => this.experts[e].forward(xe, ctx));
    return { y, router: r, routing: layerRouting(this.name, r.probsHost, r.plan) };
  }
}
