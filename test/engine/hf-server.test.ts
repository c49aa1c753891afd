// An imported model through the engine server, as the extension reaches it: listed as imported with
// its source folder, and Run on Selection's infer request answered with HF's tokens and its routing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { importHfModel } from '../../engine/formats/hf/importRun';
import { HfTokenizer } from '../../engine/formats/hf/tokenizer';
import { makeCheckpoint } from './hf-helpers';
import { cleanUp, connect, ensureBuilt, startEngine, tempDir } from './server-harness';

after(cleanUp);

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
