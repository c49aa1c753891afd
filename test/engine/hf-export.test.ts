// export-hf's round trip: a run exported to HF's layout and imported back routes and predicts exactly
// as the run does, and HF's forward in PyTorch on the exported folder gives the run's logits.
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { trainTokenizer } from '../../engine/data/bpeTrainer';
import { exportHfModel } from '../../engine/formats/hf/exportRun';
import { importHfModel } from '../../engine/formats/hf/importRun';
import { openSafetensors } from '../../engine/formats/hf/safetensors';
import { infer } from '../../engine/infer';
import { newSparseReport } from '../../engine/model/block';
import { ForwardContext } from '../../engine/model/context';
import { SwitchTransformer } from '../../engine/model/model';
import { saveCheckpoint, type NamedTensor } from '../../engine/train/checkpoint';
import { parseRunConfig, TRAINING_PRESETS } from '../../engine/train/runConfig';
import { loadRunModel } from '../../engine/train/runModel';
import { createRun } from '../../engine/train/runStore';
import { makeCheckpoint, python } from './hf-helpers';
import { sentences, testConfig, useTestBackend } from './setup';

let tmp: string;
before(async () => {
  await useTestBackend();
  tmp = mkdtempSync(join(tmpdir(), 'switchyard-hf-export-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const TEXT = 'The old river <extra_id_0> quietly through the green garden — café — and the train <extra_id_1> late.';

/** A run of the engine's own, with random weights at step 1 and a fixed expert capacity of 3. */
function makeRun(runsDir: string) {
  const tokenizer = trainTokenizer([sentences(200, 3)], { vocabSize: 600 });
  const c = testConfig({ vocabSize: tokenizer.vocabSize, numLayers: 2, numDecoderLayers: 2, expertCapacity: 3 });
  const model = new SwitchTransformer(c, 7);
  const run = createRun(runsDir, 'own');
  const weights = new Map<string, NamedTensor>([...model.params.vars].map(([name, v]) => [name, { shape: v.shape, values: v.dataSync() as Float32Array }]));
  saveCheckpoint(run.checkpoints, { step: 1, weights, optimizer: [], state: {} });
  run.writeJson('tokenizer.json', tokenizer.toJSON());
  run.writeJson('config.json', parseRunConfig({ preset: 'tiny', model: c, training: TRAINING_PRESETS.tiny, corpus: { kind: 'brown' } }));
  model.dispose();
  return run;
}

function logitsOf(model: SwitchTransformer, inputIds: number[], decoderIds: number[]): Float32Array {
  const seq = (ids: number[]) => ({ ids: Int32Array.from(ids), mask: new Float32Array(ids.length).fill(1), length: ids.length });
  const ctx = new ForwardContext(false);
  const report = newSparseReport();
  return tf.tidy(() => {
    const enc = seq(inputIds);
    return model.decode(seq(decoderIds), enc, model.encode(enc, 1, ctx, report), 1, ctx, report);
  }).dataSync() as Float32Array;
}

test('import(export(run)) routes, fills and predicts exactly as the run; PyTorch\'s HF forward gives its logits', async () => {
  const run = makeRun(join(tmp, 'runs'));
  const out = join(tmp, 'exported');
  await exportHfModel(run, out);
  const hfConfig = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(hfConfig.expert_capacity, 3);
  assert.equal(hfConfig.tie_word_embeddings, false);

  const { run: back } = await importHfModel(out, join(tmp, 'runs'), 'back');
  const own = loadRunModel(run);
  const imported = loadRunModel(back);
  try {
    const a = infer(own.model, own.tokenizer, TEXT, 12);
    const b = infer(imported.model, imported.tokenizer, TEXT, 12);
    assert.deepEqual(b.tokens, a.tokens, 'HF\'s library tokenizes the exported tokenizer.json as the engine does');
    assert.deepEqual(b.layers, a.layers);
    assert.deepEqual(b.fills, a.fills);

    const ids = [...own.tokenizer.encode(TEXT).ids, own.tokenizer.eosId];
    const decoderIds = [0, ...ids.slice(0, 9)];
    const engine = logitsOf(own.model, ids, decoderIds);
    assert.deepEqual(logitsOf(imported.model, ids, decoderIds), engine, 'bit for bit');
    const [ref] = JSON.parse(python(['run_reference.py', out], JSON.stringify([{ input_ids: ids, decoder_input_ids: decoderIds }]))) as { logits: number[] }[];
    let worst = 0;
    ref.logits.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - engine[i]))));
    console.log(`exported run: max |Δ| decoder logits against PyTorch ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `logits differ by ${worst}`);

    // The run's validation loss on this batch (eval mode, its own loss()) against the cross-entropy
    // of PyTorch's logits, computed here in float64.
    const targets = ids.slice(0, decoderIds.length);
    const one = (xs: number[]) => new Float32Array(xs.length).fill(1);
    const batch = { batchSize: 1, encoderLength: ids.length, decoderLength: decoderIds.length, encoderIds: Int32Array.from(ids), encoderMask: one(ids), decoderInputIds: Int32Array.from(decoderIds), decoderTargetIds: Int32Array.from(targets), decoderMask: one(targets) };
    const runLoss = tf.tidy(() => own.model.loss(batch, new ForwardContext(false)).crossEntropy.dataSync()[0]);
    const vocab = ref.logits.length / targets.length;
    const refLoss =
      targets.reduce((sum, t, i) => {
        const row = ref.logits.slice(i * vocab, (i + 1) * vocab);
        const max = Math.max(...row);
        return sum + Math.log(row.reduce((z, v) => z + Math.exp(v - max), 0)) + max - row[t];
      }, 0) / targets.length;
    console.log(`exported run: validation cross-entropy ${runLoss.toFixed(6)}, PyTorch's ${refLoss.toFixed(6)}`);
    assert.ok(Math.abs(runLoss - refLoss) <= 1e-4, `cross-entropy ${runLoss} vs PyTorch ${refLoss}`);
  } finally {
    own.model.dispose();
    imported.model.dispose();
  }
});

test('an imported HF model exports back to the same tensors, names and shapes', async () => {
  const original = makeCheckpoint(join(tmp, 'hf'), '--untied');
  const { run } = await importHfModel(original, join(tmp, 'runs'), 'hf');
  const out = join(tmp, 're-exported');
  await exportHfModel(run, out);
  const a = openSafetensors(original);
  const b = openSafetensors(out);
  try {
    assert.deepEqual([...b.tensors.keys()].sort(), [...a.tensors.keys()].sort());
    for (const [name, info] of a.tensors) {
      assert.deepEqual(b.tensors.get(name)?.shape, info.shape, name);
      assert.deepEqual(await b.read(name), await a.read(name), name);
    }
  } finally {
    a.close();
    b.close();
  }
});
