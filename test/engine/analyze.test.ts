// `switchyard analyze` on a real (small) run: the analyses read the run's own routing, the
// what-if replay at the run's eval capacity factor drops what the router dropped, and the
// cross-entropy re-measured at that factor is the run's own validation figure.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { analyzeCheckpoints } from '../../engine/analysis/analyzeRun';
import { formatAnalysis } from '../../engine/commands/analyze';
import { sparseLayerNames } from '../../engine/model/block';
import { checkpointDir, listCheckpoints, loadCheckpoint } from '../../engine/train/checkpoint';
import { validationBatches } from '../../engine/train/dataset';
import type { StepMetrics, ValidationMetrics } from '../../engine/train/metrics';
import { resolveRunConfig } from '../../engine/train/runConfig';
import { Trainer } from '../../engine/train/trainer';
import type { BackendName } from '../../engine/backend';
import { useTestBackend } from './setup';

let backend: BackendName = 'wasm';
const runsDir = mkdtempSync(join(tmpdir(), 'switchyard-analyze-'));
before(async () => (backend = await useTestBackend()));
after(() => rmSync(runsDir, { recursive: true, force: true }));

test('analyze a run: specialisation, drop position, what-if and stability from its own routing', async () => {
  // A small eval capacity factor, so that the validation batches overflow experts.
  const config = resolveRunConfig({
    preset: 'tiny',
    overrides: {
      model: { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4, capacityFactor: 0.75, evalCapacityFactor: 0.5 },
      // Any overflow raises an alert here: training at capacity factor 0.75 overflows.
      training: { batchSize: 4, inputLength: 32, vocabSize: 1024, checkpointEvery: 4, validateEvery: 6, validationBatches: 2, alerts: { overflowRate: 0 } },
    },
    steps: 12,
  });
  const trainer = await Trainer.create(runsDir, config, backend);
  const validations: ValidationMetrics[] = [];
  const records: StepMetrics[] = [];
  const logs: string[] = [];
  trainer.on('validation', (v) => validations.push(v));
  trainer.on('metrics', (m) => records.push(m));
  trainer.on('log', (line) => logs.push(line));
  await trainer.train();
  const steps = listCheckpoints(trainer.run.checkpoints);
  const batches = validationBatches(trainer.dataset, trainer.config.training);
  const a = analyzeCheckpoints(trainer.run.id, trainer.config, trainer.dataset.tokenizer, batches, trainer.dataset.tags, steps, 12, (s) => loadCheckpoint(checkpointDir(trainer.run.checkpoints, s)).weights);
  trainer.dispose();

  assert.deepEqual(
    a.layers.map((l) => l.layer),
    sparseLayerNames(trainer.config.model),
  );
  for (const l of a.layers) {
    const realTokens = l.layer.startsWith('encoder.') ? batches.reduce((s, b) => s + b.encoderMask.reduce((x, m) => x + m, 0), 0) : batches.reduce((s, b) => s + b.decoderMask.reduce((x, m) => x + m, 0), 0);
    assert.equal(l.tokens, realTokens, `${l.layer}: every real validation token`);
    assert.equal(
      l.specialisation.experts.reduce((s, e) => s + e.tokens, 0),
      l.tokens,
    );
    assert.ok(l.droppedShare > 0, `${l.layer}: factor 0.5 drops tokens`);
    // Pre- vs post-capacity: a switch run's first choices are each expert's tokens; what it kept plus what it dropped is all.
    assert.deepEqual(l.load.routed, l.specialisation.experts.map((e) => e.tokens), `${l.layer}: first choices`);
    assert.equal(l.load.kept.reduce((s, k) => s + k, 0), Math.round(l.tokens * (1 - l.droppedShare)), `${l.layer}: kept = tokens − dropped`);
    l.load.kept.forEach((k, e) => assert.ok(k <= l.load.routed[e], `${l.layer}: expert ${e} keeps no more than it was sent`));
    const atOwn = l.whatIf.find((p) => p.rule === 'switch' && p.capacityFactor === 0.5);
    assert.ok(atOwn, 'the run factor is in the what-if');
    assert.equal(atOwn.droppedShare, l.droppedShare, `${l.layer}: the replay drops what the router dropped`);
    for (const rule of ['switch', 'ntlb']) {
      const shares = l.whatIf.filter((p) => p.rule === rule).map((p) => p.droppedShare);
      assert.equal(shares.length, 8, `${rule}: every factor 0.5..4 (0.5 is the run's)`);
      assert.deepEqual(shares, [...shares].sort((x, y) => y - x), `${rule}: more capacity never drops more`);
    }
    const ntlbOwn = l.whatIf.find((p) => p.rule === 'ntlb' && p.capacityFactor === 0.5);
    assert.ok(ntlbOwn && ntlbOwn.dropped <= atOwn.dropped, `${l.layer}: re-routing never drops more than switch`);
    assert.equal(l.dropPosition.reduce((s, p) => s + p.dropped, 0), Math.round(l.droppedShare * l.tokens));
    assert.ok(l.specialisation.nmi >= 0 && l.specialisation.nmi <= 1);
    // The router's input over the same tokens: a share in [0, 1], and logits that differ between tokens.
    const ri = l.routerInput;
    assert.ok(ri && ri.commonShare >= 0 && ri.commonShare <= 1 && ri.tokenLogitStd > 0 && ri.commonLogitStd >= 0, `${l.layer}: ${JSON.stringify(ri)}`);
  }
  assert.equal(a.layers[0].specialisation.labels.length, 12, 'the encoder is labelled by universal tags on Brown');
  const own = a.lossAtFactor.find((p) => p.capacityFactor === 0.5);
  assert.ok(own);
  const last = validations.at(-1) as ValidationMetrics;
  assert.equal(last.step, 12);
  assert.ok(Math.abs(own.crossEntropy - last.crossEntropy) < 1e-5, `${own.crossEntropy} vs the run's ${last.crossEntropy}`);
  assert.deepEqual(
    a.nmiOverTraining.map((n) => n.step),
    steps,
    'NMI at every kept checkpoint',
  );
  const nmiAt12 = a.nmiOverTraining.at(-1)?.nmi ?? {};
  for (const l of a.layers) assert.equal(nmiAt12[l.layer], l.specialisation.nmi, `${l.layer}: the last checkpoint's NMI is the table's`);
  assert.deepEqual(
    a.stability.map((s) => [s.from, s.to]),
    steps.slice(1).map((s, i) => [steps[i], s]),
  );
  // During training: the alerts in force on each step record, a log line when one fires, and the
  // routing change between consecutive validations.
  for (const m of records) {
    const overflowing = m.layers.filter((l) => l.overflowRate > 0).map((l) => l.layer);
    assert.deepEqual((m.alerts ?? []).filter((x) => x.kind === 'overflow').map((x) => x.layer), overflowing, `step ${m.step}: an overflow alert on exactly the layers that overflow`);
  }
  assert.ok(records.some((m) => m.alerts?.length), 'some step overflowed');
  assert.ok(logs.some((l) => /^step \d+: alert: .* overflow their expert's capacity$/.test(l)), logs.join('\n'));
  assert.deepEqual(validations.map((v) => v.step), [0, 6, 12]);
  assert.equal(validations[0].routingChange, undefined, 'nothing to compare the first validation with');
  for (const v of validations.slice(1)) {
    assert.deepEqual(Object.keys(v.routingChange ?? {}), sparseLayerNames(trainer.config.model));
    for (const c of Object.values(v.routingChange ?? {})) assert.ok(c >= 0 && c <= 1);
  }
  // NMI(expert; label) at every validation, the first one included (the untrained router).
  for (const v of validations) assert.deepEqual(Object.keys(v.nmi ?? {}), sparseLayerNames(trainer.config.model), `step ${v.step}`);
  // The validation at step 12 routes the same batches with the same weights as the analysis at checkpoint 12.
  for (const l of a.layers) assert.ok(Math.abs((validations[2].nmi?.[l.layer] ?? NaN) - l.specialisation.nmi) < 1e-9, `${l.layer}: validation NMI ${validations[2].nmi?.[l.layer]}, analysis ${l.specialisation.nmi}`);

  const text = formatAnalysis(a);
  assert.match(text, /^run .* \(switch router, eval capacity factor 0.5\) at checkpoint step 12, 2 validation batches/);
  assert.match(text, /capacity what-if, switch \(dropped\): ×0.5 \d/);
  assert.match(text, /capacity what-if, ntlb \(dropped\): ×0.5 \d/);
  assert.match(text, /NMI\(expert; part-of-speech tag\) = \d\.\d{3}/);
  assert.match(text, /load before → after capacity \(first choice → kept\): E0 \d+ → \d+, E1/);
});

test('an ntlb run: the ntlb replay at its eval capacity factor drops what its router dropped', async () => {
  const config = resolveRunConfig({
    preset: 'tiny',
    overrides: {
      model: { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4, router: 'ntlb', ntlbMaxTries: 2, capacityFactor: 0.5, evalCapacityFactor: 0.3 },
      training: { batchSize: 4, inputLength: 32, vocabSize: 1024, checkpointEvery: 3, validateEvery: 3, validationBatches: 2 },
    },
    steps: 3,
  });
  const trainer = await Trainer.create(runsDir, config, backend);
  await trainer.train();
  const batches = validationBatches(trainer.dataset, trainer.config.training);
  const a = analyzeCheckpoints(trainer.run.id, trainer.config, trainer.dataset.tokenizer, batches, trainer.dataset.tags, [3], 3, (s) => loadCheckpoint(checkpointDir(trainer.run.checkpoints, s)).weights);
  trainer.dispose();
  assert.equal(a.router, 'ntlb');
  for (const l of a.layers) {
    const own = (rule: string) => l.whatIf.find((p) => p.rule === rule && p.capacityFactor === 0.3);
    assert.ok(l.droppedShare > 0, `${l.layer}: factor 0.3 with two tries still drops`);
    assert.equal(own('ntlb')?.droppedShare, l.droppedShare, `${l.layer}: the ntlb replay (2 tries) drops what the router dropped`);
    assert.ok((own('switch')?.droppedShare ?? 0) >= l.droppedShare, `${l.layer}: switch would have dropped at least as many`);
  }
});
