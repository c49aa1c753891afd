// Sending tokens to experts and their outputs back. `dispatchPerExpert` is the engine's: a gather of
// only the kept tokens, two fused 2-D matmuls per expert, a gather back. `dispatchOneHot` is the
// Mesh-TF formulation (one-hot dispatch and combine tensors, batched expert matmuls), kept as the
// oracle the tests compare against and the baseline the benchmark measures.
import * as tf from '@tensorflow/tfjs-core';
import { permuteRows } from './ops';
import type { RoutingPlan } from './routingPlan';

/** Runs expert `e` on its tokens: [n_e, d] -> [n_e, d]. */
export type ExpertFn = (e: number, x: tf.Tensor2D) => tf.Tensor2D;

/** sum_j gate_j * expert_j(x) per token; dropped assignments add nothing. x: [N, d] -> [N, d] */
export function dispatchPerExpert(x: tf.Tensor2D, plan: RoutingPlan, gates: tf.Tensor1D[], expert: ExpertFn): tf.Tensor2D {
  const [n, d] = x.shape;
  if (plan.dispatchIdx.length === 0) return tf.zeros([n, d]);
  const tiled = plan.k === 1 ? x : tf.concat(Array<tf.Tensor2D>(plan.k).fill(x), 0); // [k*N, d]
  const dispatched = permuteRows(tiled, plan.dispatchIdx); // [K, d], grouped by expert
  const used = Array.from(plan.keptPerExpert.keys()).filter((e) => plan.keptPerExpert[e] > 0);
  // tf.split's gradient is one concat; slicing would pad a [K, d] gradient once per expert. (A split
  // into a single piece has no gradient in tfjs 4.22, hence the collapsed-router case.)
  const parts = used.length === 1 ? [dispatched] : (tf.split(dispatched, used.map((e) => plan.keptPerExpert[e]), 0) as tf.Tensor2D[]);
  const outputs = tf.concat(parts.map((part, i) => expert(used[i], part)), 0) as tf.Tensor2D; // [K, d]
  const back = permuteRows(outputs, plan.combineIdx); // [k*N, d], zero rows where dropped
  const perChoice = plan.k === 1 ? [back] : (tf.split(back, plan.k, 0) as tf.Tensor2D[]);
  return tf.addN(perChoice.map((y, j) => tf.mul(y, tf.reshape(gates[j], [n, 1])))) as tf.Tensor2D;
}

/** The same computation with one-hot [N, E*C] dispatch and combine tensors. */
export function dispatchOneHot(
  x: tf.Tensor2D,
  plan: RoutingPlan,
  gates: tf.Tensor1D[],
  wi: tf.Tensor2D[],
  wo: tf.Tensor2D[],
): tf.Tensor2D {
  const [n, d] = x.shape;
  const { numExperts: e, capacity: c } = plan;
  const onehots = Array.from({ length: plan.k }, (_, j) => {
    const m = new Float32Array(n * e * c);
    for (let t = 0; t < n; t++) {
      const a = j * n + t;
      if (plan.kept[a]) m[t * e * c + plan.expertIndex[a] * c + plan.position[a]] = 1;
    }
    return tf.tensor2d(m, [n, e * c]);
  });
  const dispatch = tf.addN(onehots) as tf.Tensor2D; // [N, E*C]
  const combine = tf.addN(onehots.map((m, j) => tf.mul(m, tf.reshape(gates[j], [n, 1])))) as tf.Tensor2D;
  const expertIn = tf.reshape(tf.matMul(dispatch, x, true, false), [e, c, d]); // einsum('tec,td->ecd')
  const h = tf.relu(tf.matMul(expertIn, tf.stack(wi) as tf.Tensor3D)); // [E, C, ff]
  const y = tf.reshape(tf.matMul(h, tf.stack(wo) as tf.Tensor3D), [e * c, d]); // [E*C, d]
  return tf.matMul(combine, y); // einsum('tec,ecd->td')
}
