// The size check that runs before a run is created: parameter counts match the model's own, the
// presets that train here pass, absurd sizes are refused in one line, and a failure while a run is
// being created leaves no folder behind.
import * as tf from '@tensorflow/tfjs-core';
import { after, before, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SwitchTransformer } from '../../engine/model/model';
import { checkTrainingFits, parameterCount, trainingMemory, WASM_HEAP_LIMIT } from '../../engine/train/memoryEstimate';
import { resolveRunConfig } from '../../engine/train/runConfig';
import { RunDir } from '../../engine/train/runStore';
import { Trainer } from '../../engine/train/trainer';
import type { BackendName } from '../../engine/backend';
import { testConfig, useTestBackend } from './setup';

let backend: BackendName = 'wasm';
const runsDir = mkdtempSync(join(tmpdir(), 'switchyard-memory-'));
before(async () => (backend = await useTestBackend()));
after(() => rmSync(runsDir, { recursive: true, force: true }));

test('parameterCount equals what the model allocates, for sparse, dense, top-2 and every-layer-sparse configs', () => {
  for (const config of [testConfig(), testConfig({ router: 'dense' }), testConfig({ router: 'top2', numLayers: 3 }), testConfig({ encoderSparseStep: 1, decoderSparseStep: 0, numDecoderLayers: 3 })]) {
    const model = new SwitchTransformer(config, 1);
    assert.equal(parameterCount(config), model.params.count(), JSON.stringify({ router: config.router, numLayers: config.numLayers }));
    model.dispose();
  }
});

test('the presets meant for this machine fit the wasm heap; base (switch-base-8, 620 M parameters) does not', () => {
  for (const preset of ['tiny', 'small']) {
    const need = trainingMemory(resolveRunConfig({ preset }));
    assert.ok(need.bytes < WASM_HEAP_LIMIT, `${preset}: ${need.bytes}`);
    assert.doesNotThrow(() => checkTrainingFits(resolveRunConfig({ preset }), 'wasm'));
  }
  const base = resolveRunConfig({ preset: 'base' });
  assert.ok(trainingMemory(base).parameters > 600e6 && trainingMemory(base).parameters < 700e6, String(trainingMemory(base).parameters));
  assert.throws(() => checkTrainingFits(base, 'wasm'), /^Error: this config cannot train here: .* need at least \d+(\.\d)? GiB; the wasm backend's heap holds 4\.0 GiB$/);
});

test('absurd sizes are refused in one line naming the size and the limit, on every backend', () => {
  const absurd = [{ model: { dFf: 1e12 } }, { model: { numLayers: 1e12 } }, { training: { batchSize: 1e12 } }, { training: { inputLength: 1e12 } }];
  for (const overrides of absurd) {
    const config = resolveRunConfig({ preset: 'tiny', overrides });
    for (const b of ['wasm', 'cpu'] as const) {
      assert.throws(
        () => checkTrainingFits(config, b),
        (err: Error) => !err.message.includes('\n') && /need at least [\d.]+ [KMGTPE]iB; .* [\d.]+ GiB(; set training\.microBatchSize to \d+ or less to accumulate the batch in smaller passes)?$/.test(err.message),
        JSON.stringify(overrides),
      );
    }
  }
});

test('small at batch 16 × 256 is refused with the micro-batch that fits; with it, the check passes', () => {
  const config = (microBatchSize?: number) => resolveRunConfig({ preset: 'small', overrides: { training: { batchSize: 16, inputLength: 256, ...(microBatchSize ? { microBatchSize } : {}) } } });
  let suggested = 0;
  assert.throws(
    () => checkTrainingFits(config(), 'wasm'),
    (err: Error) => {
      const m = /batch 16 × 256 need at least ([\d.]+) GiB; the wasm backend's heap holds 4\.0 GiB; set training\.microBatchSize to (\d+) or less/.exec(err.message);
      suggested = Number(m?.[2]);
      return Boolean(m) && Number(m?.[1]) > 4;
    },
  );
  assert.ok(suggested >= 1 && suggested < 16, String(suggested));
  assert.doesNotThrow(() => checkTrainingFits(config(suggested), 'wasm'));
  // Micro-batches of 8 were measured at a 3.4 GiB peak (tf.profile), within the heap.
  assert.doesNotThrow(() => checkTrainingFits(config(8), 'wasm'));
});

test('the estimate is a floor: a measured training step peaks above it, and not by more than 2×', async () => {
  // The tiny preset's shapes (the calibration's proportions) at a quick batch.
  const config = resolveRunConfig({ preset: 'tiny', overrides: { training: { batchSize: 4, inputLength: 64, validateEvery: 100, checkpointEvery: 100 } }, steps: 3 });
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-memory-floor-'));
  const trainer = await Trainer.create(dir, config, backend);
  trainer.trainStep();
  const { peakBytes } = await tf.profile(() => {
    trainer.trainStep();
  });
  trainer.dispose();
  rmSync(dir, { recursive: true, force: true });
  const floor = trainingMemory(config).bytes;
  assert.ok(peakBytes >= floor && peakBytes < 2 * floor, `peak ${peakBytes} vs estimate ${floor}`);
});

test('Trainer.create refuses an absurd config before it writes anything', async () => {
  const config = resolveRunConfig({ preset: 'tiny', overrides: { model: { dFf: 1e12 } } });
  await assert.rejects(Trainer.create(runsDir, config, backend), /cannot train here/);
  assert.deepEqual(readdirSync(runsDir), []);
});

test('a failure while a run is being created removes the folder it had written', async (t) => {
  const config = resolveRunConfig({ preset: 'tiny', overrides: { model: { dModel: 16, dKv: 4, dFf: 32, numHeads: 2, numExperts: 2 }, training: { batchSize: 2, inputLength: 16, vocabSize: 600 } } });
  const writeJson = RunDir.prototype.writeJson;
  t.mock.method(RunDir.prototype, 'writeJson', function (this: RunDir, name: string, value: unknown) {
    if (name === 'tags.json') throw new Error('disk full (simulated)');
    writeJson.call(this, name, value);
  });
  await assert.rejects(Trainer.create(runsDir, config, backend), /disk full/);
  assert.deepEqual(readdirSync(runsDir), [], 'config.json, hf_config.json and tokenizer.json had been written; all are gone');
  mock.restoreAll();
});
