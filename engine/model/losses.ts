// The training objective: cross-entropy plus the two router losses of the paper, per sparse layer.
import * as tf from '@tensorflow/tfjs-core';
import { customOp } from './ops';
import type { RoutingPlan } from './routingPlan';

/**
 * Load-balancing loss, alpha * N * sum_i f_i * P_i (paper eq. 4), without alpha: f_i is the fraction
 * of tokens whose first choice is expert i (a constant), P_i the mean router probability of expert i
 * (differentiable). It is 1 when routing is uniform and grows with imbalance.
 * probs: [N, E]; mask: [N] or null.
 */
export function loadBalancingLoss(probs: tf.Tensor2D, plan: RoutingPlan, mask: Float32Array | null): tf.Scalar {
  const [n, e] = probs.shape;
  const f = new Float32Array(e);
  let real = 0;
  for (let t = 0; t < n; t++) {
    if (mask && !mask[t]) continue;
    f[plan.expertIndex[t]]++;
    real++;
  }
  if (real === 0) return tf.scalar(0);
  for (let i = 0; i < e; i++) f[i] /= real;
  const meanProb = tf.div(tf.sum(maskRows(probs, mask), 0), real);
  return tf.mul(e, tf.sum(tf.mul(meanProb, tf.tensor1d(f)))) as tf.Scalar;
}

/** Router z-loss, mean over tokens of logsumexp(logits)^2 (ST-MoE), without its coefficient. */
export function routerZLoss(logits: tf.Tensor2D, mask: Float32Array | null): tf.Scalar {
  const lse = tf.logSumExp(logits, 1);
  const sq = tf.square(lse);
  if (!mask) return tf.mean(sq) as tf.Scalar;
  const real = mask.reduce((s, m) => s + m, 0);
  return real === 0 ? tf.scalar(0) : (tf.div(tf.sum(tf.mul(sq, tf.tensor1d(mask))), real) as tf.Scalar);
}

function maskRows(x: tf.Tensor2D, mask: Float32Array | null): tf.Tensor2D {
  return mask ? tf.mul(x, tf.reshape(tf.tensor1d(mask), [-1, 1])) : x;
}

/**
 * Mean token cross-entropy over the positions where weights = 1.
 * logits: [M, V]; labels: [M]; weights: [M] (1 real, 0 padding).
 * Hand-written gradient (softmax - onehot) so that no [M, V] one-hot is kept alive between passes.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: Int32Array, weights: Float32Array): tf.Scalar {
  const total = weights.reduce((s, w) => s + w, 0);
  if (total === 0) throw new Error('crossEntropy: no target token has weight');
  const [m, v] = logits.shape;
  const flatIdx = Int32Array.from(labels, (l, i) => i * v + l);
  const op = customOp(([z], save) => {
    const lse = tf.logSumExp(z, 1);
    const picked = tf.gather(tf.reshape(z, [-1]), tf.tensor1d(flatIdx, 'int32'));
    const w = tf.tensor1d(weights);
    save([z, lse, w]);
    return {
      value: tf.div(tf.sum(tf.mul(tf.sub(lse, picked), w)), total) as tf.Scalar,
      gradFunc: (dy, [sz, slse, sw]) => {
        const soft = tf.exp(tf.sub(sz, tf.reshape(slse, [m, 1])));
        const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), v);
        const scale = tf.reshape(tf.mul(sw, tf.div(dy, total)), [m, 1]);
        return tf.mul(tf.sub(soft, onehot), scale);
      },
    };
  });
  return op(logits);
}
