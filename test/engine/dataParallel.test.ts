// Data-parallel training over two worker threads: a step equals, bit for bit, the one-process step
// over the same two micro-batches; the replicas' weights stay equal to the engine's; a resume after
// a checkpoint takes the uninterrupted run's steps; a replica that fails stops the run with a clear
// error while the engine goes on training.
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BackendName } from '../../engine/backend';
import type { Batch } from '../../engine/data/batches';
import { DEFAULT_MESH_CONFIG } from '../../engine/mesh/meshConfig';
import { simulateMeshStep } from '../../engine/mesh/meshModel';
import { serverMessageSchema } from '../../engine/protocol';
import { DataParallelGroup, weightsHash } from '../../engine/train/dataParallel';
import type { StepMetrics } from '../../engine/train/metrics';
import { resolveRunConfig } from '../../engine/train/runConfig';
import { Trainer } from '../../engine/train/trainer';
import { replayBatches, useTestBackend } from './setup';

let backend: BackendName = 'wasm';
const runsDir = mkdtempSync(join(tmpdir(), 'switchyard-dp-'));
before(async () => (backend = await useTestBackend()));
after(() => rmSync(runsDir, { recursive: true, force: true }));

// Dropout, expert dropout and jitter on: every random draw must match between the two ways.
const model = { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4, dropoutRate: 0.1, expertDropoutRate: 0.1, routerJitterNoise: 0.01 };
const config = (training: object, steps: number) =>
  resolveRunConfig({ preset: 'tiny', overrides: { model, training: { batchSize: 4, inputLength: 32, vocabSize: 1024, checkpointEvery: 100, validateEvery: 100, ...training } }, steps });

const KEYS = ['loss', 'crossEntropy', 'auxLoss', 'zLoss', 'gradNorm'] as const;

function assertSameSteps(a: StepMetrics[], b: StepMetrics[]): void {
  assert.deepEqual(
    b.map((m) => m.step),
    a.map((m) => m.step),
  );
  for (const [i, m] of b.entries()) {
    for (const key of KEYS) assert.ok(Object.is(m[key], a[i][key]), `step ${m.step} ${key}: ${m[key]} vs ${a[i][key]}`);
    assert.deepEqual(
      m.layers.map((l) => [l.routed, l.kept, l.capacity]),
      a[i].layers.map((l) => [l.routed, l.kept, l.capacity]),
    );
  }
}

test('two replicas take bit for bit the steps of one process over the same two micro-batches, and keep equal weights', async () => {
  const one = await Trainer.create(runsDir, config({ microBatchSize: 2 }, 3), backend);
  const two = await Trainer.create(runsDir, config({ dataParallel: 2 }, 3), backend);
  try {
    assert.equal(one.dataParallel, 1);
    assert.equal(two.dataParallel, 2);
    assert.deepEqual(two.replicaHashes(), [weightsHash(two.model.params.vars), weightsHash(two.model.params.vars)], 'replicas start from the engine weights');
    const [a, b] = [[0, 1, 2].map(() => one.trainStep()), [0, 1, 2].map(() => two.trainStep())];
    assertSameSteps(a, b);
    assert.ok(a.some((m) => m.layers.some((l) => l.dropped > 0) || m.loss > 0), 'the steps did real work');
    const hash = weightsHash(one.model.params.vars);
    assert.equal(weightsHash(two.model.params.vars), hash, "the engine's copy equals the one-process run");
    assert.deepEqual(two.replicaHashes(), [hash, hash], 'every replica holds the same weights');
    // A step event as the engine sends it (with its simulated mesh) is one the client accepts.
    for (const m of b) {
      const event = JSON.parse(JSON.stringify({ type: 'event', event: 'step', runId: two.run.id, data: { ...m, mesh: simulateMeshStep(m.layers, two.config.model, DEFAULT_MESH_CONFIG) }, coalesced: 0 }));
      const parsed = serverMessageSchema.safeParse(event);
      assert.ok(parsed.success, JSON.stringify(parsed.error?.issues.slice(0, 2)));
    }
    assert.equal(two.runStatus().dataParallel, 2);
    assert.equal(one.runStatus().dataParallel, undefined);
  } finally {
    one.dispose();
    two.dispose();
  }
});

test('a data-parallel run resumed from a checkpoint takes the uninterrupted run’s steps', async () => {
  const collect = async (t: Trainer) => {
    const steps: StepMetrics[] = [];
    t.on('metrics', (m) => steps.push(m));
    await t.train();
    return steps;
  };
  const straight = await Trainer.create(runsDir, config({ dataParallel: 2, checkpointEvery: 2 }, 4), backend);
  const a = await collect(straight);
  const hash = weightsHash(straight.model.params.vars);
  straight.dispose();

  const first = await Trainer.create(runsDir, config({ dataParallel: 2, checkpointEvery: 2 }, 2), backend);
  await collect(first);
  first.dispose();
  const resumed = await Trainer.open(runsDir, first.run.id, backend, 4);
  try {
    assert.equal(resumed.step, 2);
    assert.equal(resumed.dataParallel, 2);
    const b = await collect(resumed);
    assertSameSteps(a.slice(2), b);
    assert.equal(weightsHash(resumed.model.params.vars), hash);
    assert.deepEqual(resumed.replicaHashes(), [hash, hash]);
  } finally {
    resumed.dispose();
  }
});

test('a data-parallel run pauses, resumes and stops between steps, and a non-finite loss pauses it unchanged', async () => {
  const trainer = await Trainer.create(runsDir, config({ dataParallel: 2 }, 50), backend);
  const states: string[] = [];
  trainer.on('state', (s) => states.push(s.state));
  trainer.on('metrics', (m) => {
    if (m.step === 2) {
      trainer.pause();
      setTimeout(() => trainer.resume(), 100);
    }
    if (m.step === 3) trainer.stop();
  });
  assert.equal(await trainer.train(), 'stopped');
  assert.deepEqual(states, ['running', 'paused', 'running', 'stopped']);
  assert.equal(trainer.step, 3);
  // A router gone bad, saved in a checkpoint: the replicas start from it when the run is opened.
  const router = trainer.model.params.vars.get('encoder.block.1.layer.1.mlp.router.classifier.weight');
  assert.ok(router);
  router.assign(tf.fill(router.shape, NaN));
  trainer.checkpoint();
  trainer.dispose();
  const bad = await Trainer.open(runsDir, trainer.run.id, backend);
  try {
    assert.equal(bad.dataParallel, 2);
    const hash = bad.replicaHashes()[0];
    let message = '';
    bad.on('state', (s) => {
      if (s.state !== 'paused') return;
      message = s.message ?? '';
      bad.stop();
    });
    assert.equal(await bad.train(), 'stopped');
    assert.match(message, /step 4: the loss is not finite \(first bad router: encoder\.block\.1\.layer\.1\)/);
    assert.equal(bad.step, 3, 'no update was applied');
    assert.deepEqual(bad.replicaHashes(), [hash, hash], 'nor by the replicas');
  } finally {
    bad.dispose();
  }
});

test('a replica that throws stops its run with an error naming it, and the engine trains on', async () => {
  const trainer = await Trainer.create(runsDir, config({ dataParallel: 2 }, 3), backend);
  const [batch] = replayBatches(trainer, 'train', 1);
  const group = await DataParallelGroup.start(trainer.config, backend, trainer.model, [], 2);
  try {
    // A micro-batch whose arrays are shorter than its shape says: the replica's model throws on it.
    const broken: Batch = { ...batch, batchSize: 2, encoderIds: batch.encoderIds.subarray(0, 5) };
    assert.throws(() => group.gradients(1, [batch, broken], [0.5, 0.5]), /data-parallel replica 2 failed at step 1: .*(shape|values)/);
    // The group stays failed, saying why, rather than hanging on a replica that answers no more.
    assert.throws(() => group.gradients(2, [batch, batch], [0.5, 0.5]), /data-parallel replica 2 failed at step 1/);
  } finally {
    group.dispose();
  }
  // The engine's thread is unharmed: its trainer (and its own replicas) train on.
  try {
    const m = trainer.trainStep();
    assert.equal(m.step, 1);
    assert.ok(Number.isFinite(m.loss));
  } finally {
    trainer.dispose();
  }
});

test('the installed command (the bundle) trains with two replicas and info reports data parallelism', () => {
  // The replica's script is its own file beside dist/engine.js (npm run build makes both).
  const root = join(__dirname, '..', '..');
  const cwd = mkdtempSync(join(tmpdir(), 'switchyard-dp-cli-'));
  try {
    writeFileSync(join(cwd, 'config.json'), JSON.stringify({ model, training: { batchSize: 4, inputLength: 32, vocabSize: 600, dataParallel: 2, validateEvery: 2, checkpointEvery: 2, validationBatches: 1 } }));
    const run = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'switchyard.js'), ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
    const train = run(['train', '--config', 'config.json', '--steps', '2', '--runs', 'runs', '--backend', backend]);
    assert.equal(train.status, 0, train.stderr);
    const out = train.stdout + train.stderr;
    assert.match(out, /; data-parallel over 2 worker threads \(1 wasm thread each\)/);
    assert.match(out, /completed at step 2/);
    const [id] = readdirSync(join(cwd, 'runs'));
    assert.equal(JSON.parse(readFileSync(join(cwd, 'runs', id, 'status.json'), 'utf8')).dataParallel, 2);
    const info = run(['info', '--backend', backend]);
    assert.equal(info.status, 0, info.stderr);
    assert.deepEqual(JSON.parse(info.stdout).dataParallel, { default: 1, max: 2, wasmThreadsPerReplica: 1, backends: ['wasm', 'cpu'] });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('training.dataParallel is 1 or 2 and needs as many micro-batches, naming the field', () => {
  assert.throws(() => config({ dataParallel: 3 }, 1), /training\.dataParallel: 1 or 2/);
  assert.throws(() => config({ dataParallel: 2, microBatchSize: 4 }, 1), /training\.dataParallel: 2 replicas need 2 micro-batches; the batch of 4 splits into 1/);
  assert.throws(() => config({ dataParallel: 2, batchSize: 1 }, 1), /training\.dataParallel: 2 replicas need 2 micro-batches/);
});
