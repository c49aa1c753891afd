// A run's model for inference: built straight from its newest checkpoint's weights (no initial
// weights drawn first), which reads weights.bin alone; a checkpoint that lacks a weight loads nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendName } from '../../engine/backend';
import { checkpointDir, listCheckpoints, loadCheckpoint, saveCheckpoint } from '../../engine/train/checkpoint';
import { resolveRunConfig } from '../../engine/train/runConfig';
import { loadRunModel } from '../../engine/train/runModel';
import { openRun } from '../../engine/train/runStore';
import { Trainer } from '../../engine/train/trainer';
import { useTestBackend } from './setup';

let backend: BackendName = 'wasm';
const runsDir = mkdtempSync(join(tmpdir(), 'switchyard-runmodel-'));
let runId = '';
/** The trained weights, by name, as the trainer left them. */
let trained = new Map<string, Float32Array>();

before(async () => {
  backend = await useTestBackend();
  const config = resolveRunConfig({
    preset: 'tiny',
    overrides: { model: { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4 }, training: { batchSize: 2, inputLength: 32, vocabSize: 1024, validationBatches: 1 } },
    steps: 3,
  });
  const trainer = await Trainer.create(runsDir, config, backend);
  await trainer.train();
  runId = trainer.run.id;
  trained = new Map([...trainer.model.params.vars].map(([name, v]) => [name, (v.dataSync() as Float32Array).slice()]));
  trainer.dispose();
});
after(() => rmSync(runsDir, { recursive: true, force: true }));

test("loadRunModel builds the model from the newest checkpoint's weights, bit for bit", () => {
  const { model, step } = loadRunModel(openRun(runsDir, runId));
  try {
    assert.equal(step, 3);
    assert.deepEqual([...model.params.vars.keys()], [...trained.keys()], 'the same weights, in order');
    for (const [name, v] of model.params.vars) assert.deepEqual(v.dataSync(), trained.get(name), name);
  } finally {
    model.dispose();
  }
});

test('inference does not read the optimizer state; resuming training does, and refuses a damaged one', async () => {
  const run = openRun(runsDir, runId);
  const dir = checkpointDir(run.checkpoints, 3);
  const whole = loadCheckpoint(dir);
  const copy = saveCheckpoint(run.checkpoints, { ...whole, step: 4 });
  truncateSync(join(copy, 'optimizer.bin'), 100);
  try {
    const { model, step } = loadRunModel(run);
    model.dispose();
    assert.equal(step, 4);
    await assert.rejects(Trainer.open(runsDir, runId, backend), /optimizer\.bin has 100 bytes/);
  } finally {
    rmSync(copy, { recursive: true });
  }
});

test('a checkpoint that lacks a weight is refused by name, and leaves no tensor behind', () => {
  const run = openRun(runsDir, runId);
  const whole = loadCheckpoint(checkpointDir(run.checkpoints, 3));
  const name = [...whole.weights.keys()][5];
  const weights = new Map(whole.weights);
  weights.delete(name);
  const copy = saveCheckpoint(run.checkpoints, { ...whole, weights, step: 5 });
  try {
    assert.deepEqual(listCheckpoints(run.checkpoints).at(-1), 5);
    const tensors = tf.memory().numTensors;
    assert.throws(() => loadRunModel(run), new RegExp(`the checkpoint has no weight ${name.replace(/\./g, '\\.')}$`));
    assert.equal(tf.memory().numTensors, tensors);
  } finally {
    rmSync(copy, { recursive: true });
  }
});
