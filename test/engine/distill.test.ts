import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { isSparseLayer } from '../../engine/model/config';
import { SwitchTransformer } from '../../engine/model/model';
import { copyNonExpertWeights, distillationLoss, gainKept, studentConfig } from '../../engine/train/distill';
import { testConfig, useTestBackend } from './setup';

before(useTestBackend);

test('distillation loss = 0.25 × soft cross-entropy + 0.75 × hard, over real positions only', () => {
  // Position 0: student softmax [1, 2, 1] / 4, teacher [0.5, 0.5, 0]:
  //   soft = -(0.5 ln 0.25 + 0.5 ln 0.5) = 1.0397208. Position 1: uniform student, soft = ln 3 = 1.0986123.
  const logits = tf.tensor2d([[0, Math.log(2), 0], [1, 1, 1]]);
  const teacher = tf.tensor2d([[0.5, 0.5, 0], [0.2, 0.3, 0.5]]);
  const hard = tf.scalar(2);
  const onlyFirst = distillationLoss(logits, teacher, hard, Float32Array.from([1, 0])).dataSync()[0];
  assert.ok(Math.abs(onlyFirst - (0.25 * 1.0397208 + 0.75 * 2)) < 1e-6, `${onlyFirst}`); // 1.7599302
  const both = distillationLoss(logits, teacher, hard, Float32Array.from([1, 1])).dataSync()[0];
  assert.ok(Math.abs(both - (0.25 * (1.0397208 + 1.0986123) / 2 + 1.5)) < 1e-6, `${both}`); // 1.7672916
  assert.throws(() => distillationLoss(logits, teacher, hard, Float32Array.from([0, 0])), /no target token/);
});

test("the distillation loss's gradient is 0.25 × (student softmax - teacher) per real position", () => {
  const z = tf.tensor2d([[0.3, -1, 2], [0.5, 0.1, -0.2]]);
  const p = tf.tensor2d([[0.1, 0.1, 0.8], [0.6, 0.2, 0.2]]);
  const w = Float32Array.from([1, 1]);
  const g = tf.grad((x: tf.Tensor) => distillationLoss(x as tf.Tensor2D, p, tf.scalar(0), w))(z);
  const want = tf.mul(0.25 / 2, tf.sub(tf.softmax(z), p));
  assert.ok(tf.max(tf.abs(tf.sub(g, want))).dataSync()[0] < 1e-6);
});

test("the student is dense, with every non-expert weight of the teacher's and fresh FFNs where experts were", () => {
  const config = testConfig({ router: 'switch', numLayers: 2, numDecoderLayers: 2 });
  const teacher = new SwitchTransformer(config, 3);
  const student = new SwitchTransformer(studentConfig(config), 4);
  assert.equal(student.config.router, 'dense');
  const fresh = new Map([...student.params.vars].map(([n, v]) => [n, v.dataSync().slice()]));
  const copied = copyNonExpertWeights(teacher, student);
  for (const [name, v] of student.params.vars) {
    const t = teacher.params.vars.get(name);
    if (copied.includes(name)) {
      assert.deepEqual(v.dataSync(), t!.dataSync(), `${name} is the teacher's`);
    } else {
      assert.equal(t, undefined, `${name}: the teacher has it, so it must be copied`);
      assert.match(name, /^(encoder|decoder)\.block\.\d+\.layer\.\d+\.mlp\.w[io]\.weight$/, `${name} is a dense FFN weight`);
      assert.deepEqual(v.dataSync(), fresh.get(name), `${name} keeps its fresh initialization`);
    }
  }
  // Exactly the FFNs of the sparse layers are fresh: two weights each.
  const sparse = [0, 1].filter((i) => isSparseLayer(config, i, config.encoderSparseStep)).length + [0, 1].filter((i) => isSparseLayer(config, i, config.decoderSparseStep)).length;
  assert.equal(student.params.vars.size - copied.length, 2 * sparse);
  assert.ok(sparse > 0);
  assert.ok([...teacher.params.vars.keys()].some((n) => n.includes('experts')), 'the teacher has experts that are not copied');
  teacher.dispose();
  student.dispose();
});

test("the share of the teacher's gain the student keeps", () => {
  assert.ok(Math.abs(gainKept(5.0, 4.0, 4.7) - 0.3) < 1e-12); // (5 - 4.7) / (5 - 4)
  assert.equal(gainKept(5.0, 4.0, 5.0), 0);
  assert.ok(gainKept(5.0, 4.0, 5.2) < 0, 'a student worse than the baseline keeps a negative share');
  assert.throws(() => gainKept(4.0, 4.5, 4.2), /no better than the baseline/);
});
