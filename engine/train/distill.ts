// Distillation (Switch Transformers, section 5.1): a dense student of the teacher's non-expert shape,
// started from the teacher's non-expert weights, trained on 0.25 × the soft cross-entropy against
// the teacher's distribution + 0.75 × the ordinary (hard) loss. The paper's best mix.
import * as tf from '@tensorflow/tfjs-core';
import type { SwitchConfig } from '../model/config';
import type { SwitchTransformer } from '../model/model';

export const SOFT_WEIGHT = 0.25;

/** The student's config: the teacher's, with a dense FFN of the same dFf where experts were. */
export function studentConfig(teacher: SwitchConfig): SwitchConfig {
  return { ...teacher, router: 'dense' };
}

/**
 * Copies every teacher weight the student has under the same name and shape: embeddings, attention,
 * norms, the LM head and the dense FFNs. Experts and routers have no counterpart; the student's FFNs
 * where the teacher had experts keep their fresh initialization. Returns the names copied.
 */
export function copyNonExpertWeights(teacher: SwitchTransformer, student: SwitchTransformer): string[] {
  const copied: string[] = [];
  for (const [name, v] of student.params.vars) {
    const t = teacher.params.vars.get(name);
    if (!t || t.shape.join() !== v.shape.join()) continue;
    v.assign(t);
    copied.push(name);
  }
  return copied;
}

/**
 * 0.25 × soft + 0.75 × hard, where soft is the mean over real target positions of
 * -Σ_v p_teacher(v) log p_student(v). logits: [M, V] the student's; teacherProbs: [M, V] (no
 * gradient); weights: [M] 1 for a real target, 0 for padding.
 */
export function distillationLoss(logits: tf.Tensor2D, teacherProbs: tf.Tensor2D, hardLoss: tf.Scalar, weights: Float32Array): tf.Scalar {
  const total = weights.reduce((s, w) => s + w, 0);
  if (total === 0) throw new Error('distillationLoss: no target token has weight');
  const perPosition = tf.neg(tf.sum(tf.mul(teacherProbs, tf.logSoftmax(logits)), 1)); // [M]
  const soft = tf.div(tf.sum(tf.mul(perPosition, tf.tensor1d(weights))), total);
  return tf.add(tf.mul(SOFT_WEIGHT, soft), tf.mul(1 - SOFT_WEIGHT, hardLoss)) as tf.Scalar;
}

/**
 * The share of the teacher's improvement over a dense baseline that the student keeps, from their
 * cross-entropies: (baseline - student) / (baseline - teacher). The paper reports about 30%.
 */
export function gainKept(baseline: number, teacher: number, student: number): number {
  if (!(baseline > teacher)) throw new Error(`the teacher (${teacher.toFixed(3)}) is no better than the baseline (${baseline.toFixed(3)}): there is no gain to keep`);
  return (baseline - student) / (baseline - teacher);
}
