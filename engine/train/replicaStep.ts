// The two halves of a training step that every replica of the model runs: forward and backward on
// its micro-batches, and the optimizer step on the step's summed gradients. The trainer runs both
// in one process; with data parallelism each worker runs the first on its share of the batch and
// every replica (the workers and the engine's own copy) runs the second on the same sum.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/batches';
import { ForwardContext } from '../model/context';
import type { SwitchTransformer } from '../model/model';
import { isRouterWeight } from '../model/router';
import type { LayerRouting } from '../model/stats';
import { Adam, namedGradients } from './adam';
import { clipByGlobalNorm } from './clip';
import { distillationLoss } from './distill';
import type { TrainingOptions } from './runConfig';
import { learningRate } from './schedule';

export interface MicroBatchResult {
  grads: Map<string, tf.Tensor>;
  routing: LayerRouting[];
  /** The loss scaled by the micro-batch's weight; ce, aux and z unscaled. */
  loss: number;
  ce: number;
  aux: number;
  z: number;
}

/** Forward and backward of one micro-batch, its loss scaled by `weight` (its share of the step). */
export function microBatchGradients(model: SwitchTransformer, batch: Batch, ctx: ForwardContext, weight: number, teacher: SwitchTransformer | null): MicroBatchResult {
  let parts: tf.Scalar[] = [];
  let routing: LayerRouting[] = [];
  // The teacher runs in eval mode (no dropout, eval capacity), outside the gradient.
  const teacherProbs = teacher ? tf.tidy(() => tf.softmax(teacher.loss(batch, new ForwardContext(false)).logits) as tf.Tensor2D) : null;
  const { value, grads } = namedGradients(model.params.vars, () => {
    const out = model.loss(batch, ctx);
    parts = [tf.keep(out.crossEntropy), tf.keep(out.auxLoss), tf.keep(out.zLoss)];
    routing = out.routing;
    const loss = teacherProbs ? distillationLoss(out.logits, teacherProbs, out.loss, batch.decoderMask) : out.loss;
    return weight === 1 ? loss : (tf.mul(loss, weight) as tf.Scalar);
  });
  const [loss, ce, aux, z] = [value, ...parts].map((s) => s.dataSync()[0]);
  tf.dispose([value, ...parts, ...(teacherProbs ? [teacherProbs] : [])]);
  return { grads, routing, loss, ce, aux, z };
}

/**
 * Clips the step's gradients (replacing them in `grads`) and, when their norm is finite, applies
 * Adam at the step's learning rate. Returns the norm before clipping and that rate.
 */
export function optimizerStep(vars: Map<string, tf.Variable>, adam: Adam, grads: Map<string, tf.Tensor>, t: TrainingOptions, step: number): { gradNorm: number; lr: number } {
  const gradNorm = clipByGlobalNorm(grads, t.clipNorm);
  const lr = learningRate(step, t.learningRate, t.warmupSteps);
  const routerScale = t.routerLearningRateScale ?? 1;
  if (Number.isFinite(gradNorm)) adam.apply(vars, grads, lr, (name) => (isRouterWeight(name) ? routerScale : 1));
  return { gradNorm, lr };
}
