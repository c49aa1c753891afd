import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Batch } from '../../engine/data/batches';
import { listCheckpoints } from '../../engine/train/checkpoint';
import { resolveRunConfig } from '../../engine/train/runConfig';
import { Trainer } from '../../engine/train/trainer';
import type { StepMetrics, ValidationMetrics } from '../../engine/train/metrics';
import type { BackendName } from '../../engine/backend';
import { replayBatches, useTestBackend } from './setup';

let backend: BackendName = 'wasm';
const runsDir = mkdtempSync(join(tmpdir(), 'switchyard-train-'));
before(async () => (backend = await useTestBackend()));
after(() => rmSync(runsDir, { recursive: true, force: true }));

const smallModel = { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4 };

async function collect(trainer: Trainer): Promise<{ steps: StepMetrics[]; validations: ValidationMetrics[] }> {
  const steps: StepMetrics[] = [];
  const validations: ValidationMetrics[] = [];
  trainer.on('metrics', (m) => steps.push(m));
  trainer.on('validation', (v) => validations.push(v));
  await trainer.train();
  return { steps, validations };
}

test('a resumed run takes bit for bit the steps of a run that never stopped', async () => {
  const config = (steps: number) =>
    resolveRunConfig({ preset: 'tiny', overrides: { model: { ...smallModel, dropoutRate: 0.1, routerJitterNoise: 0.01 }, training: { batchSize: 4, inputLength: 32, vocabSize: 1024, checkpointEvery: 3, validateEvery: 100 } }, steps });

  const straight = await Trainer.create(runsDir, config(6), backend);
  const a = await collect(straight);
  const weightsA = [...straight.model.params.vars.values()].map((v) => v.dataSync().slice());
  straight.dispose();

  const first = await Trainer.create(runsDir, config(3), backend);
  await collect(first);
  const id = first.run.id;
  first.dispose();
  const resumed = await Trainer.open(runsDir, id, backend, 6);
  assert.equal(resumed.step, 3);
  const b = await collect(resumed);

  assert.deepEqual(
    b.steps.map((m) => m.step),
    [4, 5, 6],
  );
  for (const m of b.steps) {
    const twin = a.steps[m.step - 1];
    for (const key of ['loss', 'crossEntropy', 'auxLoss', 'zLoss', 'gradNorm'] as const) {
      assert.ok(Object.is(m[key], twin[key]), `step ${m.step} ${key}: ${m[key]} vs ${twin[key]}`);
    }
    assert.deepEqual(
      m.layers.map((l) => l.routed),
      twin.layers.map((l) => l.routed),
    );
  }
  [...resumed.model.params.vars.values()].forEach((v, i) => assert.deepEqual(v.dataSync(), weightsA[i], `weight ${i} differs`));
  resumed.dispose();
});

const tinyRun = (steps: number) =>
  resolveRunConfig({ preset: 'tiny', overrides: { model: smallModel, training: { batchSize: 2, inputLength: 32, vocabSize: 1024, checkpointEvery: 100, validateEvery: 100 } }, steps });

test('pause holds the loop between steps, resume continues it, stop ends it with a checkpoint', async () => {
  const trainer = await Trainer.create(runsDir, tinyRun(50), backend);
  const states: string[] = [];
  let stepWhilePaused: number | undefined;
  trainer.on('state', (s) => states.push(s.state));
  trainer.on('metrics', (m) => {
    if (m.step === 2) {
      trainer.pause();
      // While paused, the event loop is free and no step runs.
      setTimeout(() => {
        stepWhilePaused = trainer.step;
        trainer.resume();
      }, 200);
    }
    if (m.step === 4) trainer.stop();
  });
  assert.equal(await trainer.train(), 'stopped');
  assert.equal(stepWhilePaused, 2, 'no step ran while paused');
  assert.equal(trainer.step, 4);
  assert.deepEqual(states, ['running', 'paused', 'running', 'stopped']);
  assert.deepEqual(listCheckpoints(trainer.run.checkpoints), [4]);
  assert.equal((trainer.run.readJson('status.json') as { state: string }).state, 'stopped');
  trainer.dispose();
});

test('a non-finite loss pauses the run with a message naming the step and the router that went bad', async () => {
  const trainer = await Trainer.create(runsDir, tinyRun(5), backend);
  const router = trainer.model.params.vars.get('encoder.block.1.layer.1.mlp.router.classifier.weight');
  assert.ok(router, 'the tiny model has a sparse encoder layer 1');
  router.assign(tf.fill(router.shape, NaN));
  let message = '';
  trainer.on('state', (s) => {
    if (s.state !== 'paused') return;
    message = s.message ?? '';
    trainer.stop();
  });
  assert.equal(await trainer.train(), 'stopped');
  assert.equal(trainer.step, 0, 'no update was applied');
  assert.match(message, /step 1: the loss is not finite \(first bad router: encoder\.block\.1\.layer\.1\)/);
  trainer.dispose();
});

/** Calls `f` with each real (unmasked) decoder target id of `batches`. */
function forTargets(batches: Iterable<Batch>, f: (id: number) => void): void {
  for (const b of batches) b.decoderTargetIds.forEach((id, i) => b.decoderMask[i] > 0 && f(id));
}

/**
 * Nats per target of `batches`' decoder targets under the unigram distribution counted over
 * `counted`'s targets (add-one smoothing over the vocabulary): what a model that learned only token
 * frequencies would score.
 */
function unigramCrossEntropy(counted: Iterable<Batch>, batches: Iterable<Batch>, vocabSize: number): number {
  const counts = new Float64Array(vocabSize).fill(1);
  forTargets(counted, (id) => counts[id]++);
  const total = counts.reduce((a, b) => a + b, 0);
  let nll = 0;
  let n = 0;
  forTargets(batches, (id) => {
    nll -= Math.log(counts[id] / total);
    n++;
  });
  return nll / n;
}

test('the tiny model learns the Brown corpus: over 200 steps its validation loss falls below what token frequencies alone give', async (t) => {
  const config = resolveRunConfig({ preset: 'tiny', overrides: { training: { batchSize: 8, inputLength: 64, validateEvery: 50, checkpointEvery: 200 } }, steps: 200 });
  const trainer = await Trainer.create(runsDir, config, backend);
  const { validations } = await collect(trainer);
  trainer.dispose();
  assert.deepEqual(
    validations.map((v) => v.step),
    [0, 50, 100, 150, 200],
  );
  const ce = validations.map((v) => v.crossEntropy);
  t.diagnostic(`validation cross-entropy: ${validations.map((v) => `${v.step}: ${v.crossEntropy.toFixed(3)}`).join(', ')}`);
  assert.ok(ce[4] < ce[1], `validation cross-entropy still fell after step 50: ${ce[1]} -> ${ce[4]}`);
  // The bar: a unigram model counted over the 200 training batches the model saw, scored on the
  // trainer's validation batches. Beating it means the model used the context, not only token frequencies.
  const unigram = unigramCrossEntropy(replayBatches(trainer, 'train', 200), replayBatches(trainer, 'validation'), trainer.dataset.tokenizer.vocabSize);
  t.diagnostic(`unigram cross-entropy of the validation targets (counts from the training batches): ${unigram.toFixed(3)}`);
  assert.ok(ce[4] < unigram, `validation cross-entropy ${ce[4]} is not below the unigram one, ${unigram}`);
});
