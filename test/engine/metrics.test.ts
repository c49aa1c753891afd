import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BatchIterator, type Batch } from '../../engine/data/batches';
import { isSparseLayer } from '../../engine/model/config';
import { ForwardContext } from '../../engine/model/context';
import { expertCapacity } from '../../engine/model/routingPlan';
import { listCheckpoints, loadCheckpoint, checkpointDir } from '../../engine/train/checkpoint';
import { layerMetrics, layerMetricsSchema, stepMetricsSchema, validationMetricsSchema, type StepMetrics, type ValidationMetrics } from '../../engine/train/metrics';
import { resolveRunConfig } from '../../engine/train/runConfig';
import { openRun, readMetrics } from '../../engine/train/runStore';
import { Trainer, type RunStatus } from '../../engine/train/trainer';
import type { BackendName } from '../../engine/backend';
import { replayBatches, sentences, useTestBackend } from './setup';


const root = mkdtempSync(join(tmpdir(), 'switchyard-metrics-'));
after(() => rmSync(root, { recursive: true, force: true }));

const STEPS = 3;
const VALIDATE_EVERY = 2;
const CHECKPOINT_EVERY = 2;

let trainer: Trainer;
let backend: BackendName;
let final: string;
const steps: StepMetrics[] = [];
const validations: ValidationMetrics[] = [];
const states: RunStatus[] = [];

before(async () => {
  backend = await useTestBackend();
  const corpus = join(root, 'corpus');
  mkdirSync(join(corpus, 'notes'), { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(corpus, i < 2 ? 'notes' : '.', `doc${i}.txt`), sentences(40, 1000 + i) + '\n');
  const config = resolveRunConfig({
    preset: 'tiny',
    overrides: {
      model: { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4, numLayers: 2, numDecoderLayers: 2 },
      training: { batchSize: 4, inputLength: 32, vocabSize: 600, validateEvery: VALIDATE_EVERY, checkpointEvery: CHECKPOINT_EVERY, validationBatches: 1, steps: STEPS },
    },
    corpus: { kind: 'files', spec: corpus },
  });
  trainer = await Trainer.create(join(root, 'runs'), config, backend);
  trainer.on('metrics', (m) => steps.push(m));
  trainer.on('validation', (v) => validations.push(v));
  trainer.on('state', (s) => states.push(s));
  final = await trainer.train();
});

after(() => trainer?.dispose());

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

test('the run trains to the end: one step record per step, status completed', () => {
  assert.equal(final, 'completed');
  assert.equal(trainer.step, STEPS);
  assert.deepEqual(
    steps.map((m) => m.step),
    Array.from({ length: STEPS }, (_, i) => i + 1),
  );
  const status = trainer.run.readJson('status.json') as RunStatus;
  assert.equal(status.state, 'completed');
  assert.equal(status.step, STEPS);
  assert.equal(status.steps, STEPS);
  assert.equal(status.id, trainer.run.id);
  assert.equal(status.backend, backend);
  assert.deepEqual(
    states.map((s) => s.state),
    ['running', 'completed'],
  );
  assert.ok(openRun(join(root, 'runs'), trainer.run.id).exists());
});

test('every step record validates and carries every field', () => {
  // `alerts` is there only while an alert is in force.
  const stepKeys = Object.keys(stepMetricsSchema.shape).sort();
  // A switch run's layers carry every field but the other routers' own (ntlb's, expert choice's).
  const layerKeys = Object.keys(layerMetricsSchema.shape).filter((k) => k !== 'keptAtChoice' && k !== 'expertsPerToken').sort();
  for (const m of steps) {
    assert.deepEqual(stepMetricsSchema.parse(m), m, `step ${m.step} validates`);
    assert.deepEqual(Object.keys(m).sort(), m.alerts ? stepKeys : stepKeys.filter((k) => k !== 'alerts'), `step ${m.step} has every field`);
    for (const key of ['time', 'tokensPerSecond', 'learningRate', 'loss', 'crossEntropy', 'auxLoss', 'zLoss', 'gradNorm'] as const) {
      assert.ok(Number.isFinite(m[key]), `step ${m.step} ${key} = ${m[key]}`);
    }
    assert.ok(m.tokensPerSecond > 0 && m.learningRate > 0 && m.loss > 0 && m.crossEntropy > 0 && m.gradNorm > 0);
    // Approximately: the loss is the cross-entropy plus the weighted router losses.
    const c = trainer.config.model;
    assert.ok(Math.abs(m.loss - (m.crossEntropy + c.routerAuxLossCoef * m.auxLoss + c.routerZLossCoef * m.zLoss)) < 1e-3 * m.loss);
    for (const l of m.layers) assert.deepEqual(Object.keys(l).sort(), layerKeys, `${l.layer} has every field`);
  }
  const batches = replayBatches(trainer, 'train', steps.length);
  steps.forEach((m, i) => assert.equal(m.tokens, sum(batches[i].encoderMask) + sum(batches[i].decoderMask), `step ${m.step} token count`));
});

test('one layer record per sparse layer, encoder then decoder, under HF module names', () => {
  const c = trainer.config.model;
  const expected = [
    ...Array.from({ length: c.numLayers }, (_, i) => i)
      .filter((i) => isSparseLayer(c, i, c.encoderSparseStep))
      .map((i) => `encoder.block.${i}.layer.1`),
    ...Array.from({ length: c.numDecoderLayers }, (_, i) => i)
      .filter((i) => isSparseLayer(c, i, c.decoderSparseStep))
      .map((i) => `decoder.block.${i}.layer.2`),
  ];
  assert.ok(expected.length >= 2, 'the test config has a sparse layer in each stack');
  for (const m of steps) {
    assert.deepEqual(
      m.layers.map((l) => l.layer),
      expected,
    );
  }
});

test('per layer: the routing counts add up to the real tokens of the batch', () => {
  const c = trainer.config.model;
  assert.equal(c.router, 'switch', 'top-1: each real token is one assignment');
  const batches = replayBatches(trainer, 'train', STEPS);
  steps.forEach((m, i) => {
    const batch = batches[i];
    const encoderTokens = sum(batch.encoderMask);
    const decoderTokens = sum(batch.decoderMask);
    assert.ok(encoderTokens > 0 && decoderTokens > 0);
    for (const l of m.layers) {
      const where = `step ${m.step} ${l.layer}`;
      const real = l.layer.startsWith('encoder.') ? encoderTokens : decoderTokens;
      assert.equal(l.numExperts, c.numExperts, where);
      assert.equal(l.routed.length, c.numExperts, where);
      assert.equal(l.kept.length, c.numExperts, where);
      assert.equal(l.meanProb.length, c.numExperts, where);
      assert.equal(l.assignments, real, `${where}: a Switch layer makes one assignment per real token`);
      assert.equal(sum(l.routed), l.assignments, `${where}: sum(routed) == assignments`);
      l.routed.forEach((r, e) => assert.equal(l.shares[e], r / l.assignments, `${where}: expert ${e}'s share`));
      assert.equal(sum(l.kept) + l.dropped, sum(l.routed), `${where}: kept + dropped == routed`);
      assert.equal(l.capacity, expertCapacity(real, c.numExperts, c.capacityFactor), `${where}: training capacity`);
      l.routed.forEach((r, e) => assert.equal(l.kept[e], Math.min(r, l.capacity), `${where}: expert ${e} keeps up to its capacity`));
      assert.ok(Math.abs(l.overflowRate - l.dropped / l.assignments) < 1e-12, `${where}: overflowRate`);
      assert.ok(l.normalizedEntropy >= 0 && l.normalizedEntropy <= 1, `${where}: normalizedEntropy ${l.normalizedEntropy}`);
      assert.ok(Math.abs(l.normalizedEntropy - l.routerEntropy / Math.log(c.numExperts)) < 1e-9, `${where}: normalizedEntropy`);
      assert.equal(
        l.unusedExperts,
        l.routed.filter((r) => r === 0).length,
        `${where}: unusedExperts`,
      );
      assert.ok(Math.abs(l.maxShare - Math.max(...l.routed) / l.assignments) < 1e-12, `${where}: maxShare`);
      const mean = l.assignments / c.numExperts;
      assert.ok(Math.abs((l.maxVio ?? NaN) - (Math.max(...l.routed) - mean) / mean) < 1e-12, `${where}: maxVio ${l.maxVio}`);
      assert.equal(l.activeFraction, 1 - l.unusedExperts / c.numExperts, `${where}: activeFraction`);
      assert.ok(Math.abs(sum(l.meanProb) - 1) < 1e-4, `${where}: mean router probabilities sum to 1`);
      assert.ok(l.loadCv >= 0 && Number.isFinite(l.loadCv), `${where}: loadCv`);
    }
  });
  assert.ok(
    steps.some((m) => m.layers.some((l) => l.dropped > 0)),
    'some tokens overflowed, so the kept/dropped bookkeeping was exercised',
  );
});

test('with padding in the batch, a layer counts only the real tokens', () => {
  // Training batches are always full; the end of a non-cycling pass is not. One short document
  // gives a batch with a partly filled row and empty rows.
  const t = trainer.config.training;
  const doc = { id: 'short', ids: trainer.dataset.train[0].ids.slice(0, 40) };
  const batch = new BatchIterator([doc], trainer.dataset.tokenizer, { batchSize: t.batchSize, inputLength: t.inputLength, seed: 7, cycle: false }).next() as Batch;
  const encoderTokens = sum(batch.encoderMask);
  const decoderTokens = sum(batch.decoderMask);
  assert.ok(encoderTokens < batch.encoderMask.length && decoderTokens < batch.decoderMask.length, 'the batch has padding');
  const c = trainer.config.model;
  const layers = tf.tidy(() => trainer.model.loss(batch, ForwardContext.forStep(t.seed, 1)).routing.map(layerMetrics));
  assert.equal(layers.length, 2);
  for (const l of layers) {
    const real = l.layer.startsWith('encoder.') ? encoderTokens : decoderTokens;
    assert.equal(l.assignments, real, `${l.layer}: assignments`);
    assert.equal(sum(l.routed), real, `${l.layer}: padding is not routed`);
    assert.equal(sum(l.kept) + l.dropped, real, `${l.layer}: kept + dropped`);
    assert.equal(l.capacity, expertCapacity(real, c.numExperts, c.capacityFactor), `${l.layer}: capacity from the real tokens`);
    assert.ok(Math.abs(l.maxShare - Math.max(...l.routed) / real) < 1e-12);
  }
});

test('validation records appear before the first step, at the configured interval and at the end', () => {
  const expected = [0, ...Array.from({ length: STEPS }, (_, i) => i + 1).filter((s) => s % VALIDATE_EVERY === 0), STEPS];
  assert.deepEqual(
    validations.map((v) => v.step),
    [...new Set(expected)],
  );
  for (const v of validations) {
    assert.deepEqual(validationMetricsSchema.parse(v), v);
    assert.ok(Number.isFinite(v.loss) && v.loss > 0 && Number.isFinite(v.crossEntropy) && v.crossEntropy > 0);
  }
});

test('metrics.jsonl holds exactly the records the trainer emitted, in order', () => {
  const read = readMetrics(trainer.run.metricsFile);
  assert.deepEqual(read.warnings, []);
  const emitted = [...steps, ...validations].sort((a, b) => a.step - b.step || (a.type === 'step' ? -1 : 1));
  assert.deepEqual(read.records, emitted);
});

test('checkpoints exist on schedule and at the end, and load', () => {
  const expected = [...new Set([...Array.from({ length: STEPS }, (_, i) => i + 1).filter((s) => s % CHECKPOINT_EVERY === 0), STEPS])];
  assert.deepEqual(listCheckpoints(trainer.run.checkpoints), expected);
  const last = loadCheckpoint(checkpointDir(trainer.run.checkpoints, STEPS));
  assert.equal(last.step, STEPS);
  assert.equal((last.state as { step: number }).step, STEPS);
  assert.deepEqual([...last.weights.keys()].sort(), [...trainer.model.params.vars.keys()].sort());
  for (const [name, v] of trainer.model.params.vars) {
    assert.deepEqual(last.weights.get(name)!.values, v.dataSync(), `${name}: the final checkpoint holds the final weights`);
  }
});
