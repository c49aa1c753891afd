// Gradient clipping by global norm: if the norm of all gradients together exceeds maxNorm, every
// gradient is scaled by maxNorm / norm. Returns the norm before clipping (a metric worth watching).
import * as tf from '@tensorflow/tfjs-core';

export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): number {
  const norm = tf.tidy(() => Math.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))).dataSync()[0]));
  if (maxNorm > 0 && norm > maxNorm) {
    const scale = maxNorm / norm;
    for (const [name, g] of grads) {
      grads.set(name, tf.mul(g, scale));
      g.dispose();
    }
  }
  return norm;
}
