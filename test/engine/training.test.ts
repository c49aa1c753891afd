import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resolveRunConfig } from '../../engine/train/runConfig';
import { Trainer } from '../../engine/train/trainer';
import type { StepMetrics, ValidationMetrics } from '../../engine/train/metrics';
import { useTestBackend } from './setup';

let backend = '';
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

test('the tiny model learns the Brown corpus: validation loss falls over 200 steps', async () => {
  const config = resolveRunConfig({ preset: 'tiny', overrides: { training: { batchSize: 8, inputLength: 64, validateEvery: 50, checkpointEvery: 200 } }, steps: 200 });
  const trainer = await Trainer.create(runsDir, config, backend);
  const { validations } = await collect(trainer);
  trainer.dispose();
  assert.deepEqual(
    validations.map((v) => v.step),
    [0, 50, 100, 150, 200],
  );
  const ce = validations.map((v) => v.crossEntropy);
  assert.ok(ce[4] < ce[0] - 1, `validation cross-entropy went ${ce[0]} -> ${ce[4]}`);
  assert.ok(ce[4] < ce[1], `validation cross-entropy still fell after step 50: ${ce[1]} -> ${ce[4]}`);
  console.log(`validation cross-entropy: ${validations.map((v) => `${v.step}: ${v.crossEntropy.toFixed(3)}`).join(', ')}`);
});
