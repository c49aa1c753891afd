// An imported model through the engine server, as the extension reaches it: listed as imported with
// its source folder, and Run on Selection's infer request answered with HF's tokens and its routing.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { importHfModel } from '../../engine/formats/hf/importRun';
import { openSafetensors, writeSafetensors } from '../../engine/formats/hf/safetensors';
import { HfTokenizer } from '../../engine/formats/hf/tokenizer';
import { makeCheckpoint } from './hf-helpers';
import { cleanUp, collectEvents, connect, ensureBuilt, startEngine, tempDir } from './server-harness';

after(cleanUp);

const MISSING = 'encoder.block.1.layer.1.mlp.experts.expert_2.wo.weight';

test('the server lists an imported model and runs inference on it', async () => {
  ensureBuilt();
  const dir = tempDir('hf');
  const model = makeCheckpoint(join(dir, 'model'));
  const { run } = await importHfModel(model, join(dir, 'runs'), 'tiny');
  const client = await connect(await startEngine(join(dir, 'runs')));
  try {
    const { runs } = await client.request('listRuns', {});
    const listed = runs.find((r) => r.id === run.id);
    assert.equal(listed?.preset, 'imported');
    assert.equal(listed?.status?.message, `imported from ${model}`);
    assert.deepEqual(listed?.layers, ['encoder.block.1.layer.1', 'encoder.block.3.layer.1', 'decoder.block.1.layer.2', 'decoder.block.3.layer.2']);

    const text = 'A dog walks into a bar and the <extra_id_0> sat on the mat.';
    const r = await client.request('infer', { runId: run.id, text, maxTokens: 6 });
    const hf = HfTokenizer.fromJSON(JSON.parse(readFileSync(join(model, 'tokenizer.json'), 'utf8')));
    assert.deepEqual(r.tokens.map((t) => t.id), hf.encode(text).ids);
    assert.deepEqual(r.layers.map((l) => l.layer), ['encoder.block.1.layer.1', 'encoder.block.3.layer.1']);
    assert.ok(r.layers.every((l) => l.tokens.length === r.tokens.length && l.tokens.every((t) => t.expert >= 0 && t.expert < 4)));
    assert.equal(r.fills.length, 1);
  } finally {
    client.close();
  }
});

test('importHf and exportHf requests: progress events, the run listed with its source, a bad folder one error and no run', async () => {
  ensureBuilt();
  const dir = tempDir('hf-requests');
  const model = makeCheckpoint(join(dir, 'model'));
  rmSync(join(model, 'pytorch_model.bin'));
  // The same folder with one expert's tensor left out of model.safetensors.
  const broken = join(dir, 'broken');
  cpSync(model, broken, { recursive: true });
  const source = openSafetensors(model);
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, info] of source.tensors) if (name !== MISSING) tensors.set(name, { shape: info.shape, values: await source.read(name) });
  source.close();
  writeSafetensors(join(broken, 'model.safetensors'), tensors);

  const runs = join(dir, 'runs');
  const client = await connect(await startEngine(runs));
  const events = collectEvents(client);
  try {
    await assert.rejects(client.request('importHf', { folder: broken }), (err: Error) => {
      assert.match(err.message, new RegExp(`^importHf: model.safetensors: does not match config.json: missing tensor ${MISSING.replace(/\./g, '\\.')} \\[`));
      return true;
    });
    assert.deepEqual(existsSync(runs) ? readdirSync(runs) : [], [], 'nothing half-loaded: no run folder');
    await assert.rejects(client.request('importHf', { folder: join(dir, 'nowhere') }), /importHf: .*config\.json: cannot read it \(ENOENT\)/);

    const imported = await client.request('importHf', { folder: model, name: 'opened' }, 120_000);
    assert.equal(imported.source, model);
    assert.equal(imported.file, 'model.safetensors');
    assert.equal(imported.run.preset, 'imported');
    assert.equal(imported.run.importedFrom, model);
    const progress = events.items.filter((e) => e.event === 'progress' && e.task === 'importHf' && e.folder === model);
    assert.ok(progress.length > 10, `${progress.length} progress events`);
    const last = progress[progress.length - 1];
    assert.ok(last.event === 'progress' && last.done === last.total, 'the last progress event says done');
    assert.ok(progress.some((e) => e.event === 'progress' && e.message === 'writing weights.safetensors'));
    const { runs: listed } = await client.request('listRuns', {});
    assert.deepEqual(listed.map((r) => [r.id, r.importedFrom]), [[imported.run.id, model]]);

    // Routing alone (maxTokens 0), then a fill: the decoder is read on first use.
    const text = 'The cat sat on the <extra_id_0> mat.';
    const routed = await client.request('infer', { text, maxTokens: 0 });
    assert.equal(routed.runId, imported.run.id, 'infer without a run uses the model just opened');
    assert.deepEqual(routed.fills, []);
    assert.equal(routed.layers.length, 2);
    const filled = await client.request('infer', { text, maxTokens: 4 });
    assert.deepEqual(filled.layers, routed.layers, 'the same routing with the decoder loaded');
    assert.equal(filled.fills.length, 1);

    const out = join(dir, 'exported');
    const exported = await client.request('exportHf', { runId: imported.run.id, folder: out }, 120_000);
    assert.equal(exported.folder, out);
    assert.deepEqual(readdirSync(out).sort(), ['README.md', 'config.json', 'model.safetensors', 'tokenizer.json']);
    assert.ok(events.items.some((e) => e.event === 'progress' && e.task === 'exportHf' && e.folder === out && e.done === e.total));
    await assert.rejects(client.request('exportHf', { runId: imported.run.id, folder: out }), /exportHf: .* is not empty/);
    // Re-imported, it routes the same.
    const again = await client.request('importHf', { folder: out, name: 'again' }, 120_000);
    const reRouted = await client.request('infer', { runId: again.run.id, text, maxTokens: 0 });
    assert.deepEqual(reRouted.layers, routed.layers);
  } finally {
    client.close();
  }
});
