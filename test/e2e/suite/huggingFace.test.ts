// Hugging Face models in the real extension host: "Open Hugging Face Model…" on a tiny random
// checkpoint in HF's layout (python/hf_reference/make_checkpoint.py, Debian's python3 with torch)
// lists it in the Runs view as imported with its source folder, and Run on Selection routes and
// paints a selection through it; a folder with a missing tensor is one error and no run; "Export to
// Hugging Face…" on a trained run writes HF's files, and the export opened again routes the same.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { InferenceResult, Result } from '../../../engine/protocol';
import type { SwitchyardApi } from '../../../extension/extension';
import { ensureEngine, EXTENSION_ID, getApi, label, spyErrorMessages, trainShortRun, treeChildren } from './helpers';

const SENTENCE = 'The cat sat on the <extra_id_0> mat.';
const PYTHON = '/usr/bin/python3';

suite('hugging face models', () => {
  let api: SwitchyardApi;
  let tmp: string;
  let model: string;
  let editor: vscode.TextEditor;

  suiteSetup(async function () {
    this.timeout(120_000);
    api = await getApi();
    await ensureEngine(api);
    tmp = mkdtempSync(join(tmpdir(), 'switchyard-e2e-hf-'));
    model = join(tmp, 'tiny-switch');
    const script = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'python', 'hf_reference', 'make_checkpoint.py');
    const made = spawnSync(PYTHON, [script, model, '--no-bin'], { encoding: 'utf8' });
    assert.equal(made.status, 0, `${PYTHON} make_checkpoint.py failed (python3-torch installed?): ${made.stderr}`);
  });

  suiteTeardown(() => rmSync(tmp, { recursive: true, force: true }));

  setup(async () => {
    const doc = await vscode.workspace.openTextDocument({ content: `${SENTENCE}\n`, language: 'plaintext' });
    editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(new vscode.Position(0, 0), new vscode.Position(0, SENTENCE.length));
  });

  teardown(async () => {
    await vscode.commands.executeCommand('switchyard.clearRouting');
    if (vscode.window.activeTextEditor?.document === editor.document) await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  const open = (arg: unknown) => vscode.commands.executeCommand<Result<'importHf'> | undefined>('switchyard.openHfModel', arg);
  const runOnSelection = (runId?: string) => vscode.commands.executeCommand<InferenceResult | undefined>('switchyard.runOnSelection', runId);

  test('Open Hugging Face Model lists the model as imported with its folder, and Run on Selection routes and paints through it', async function () {
    this.timeout(180_000);
    const opened = await open(model);
    assert.ok(opened, 'switchyard.openHfModel returned nothing (see the error notification)');
    assert.equal(opened.source, model);
    assert.equal(opened.file, 'model.safetensors');

    const row = (await treeChildren(api)).find((c) => label(c.item) === opened.run.id);
    assert.ok(row, `no Runs view row for ${opened.run.id}`);
    assert.equal(row.item.description, `imported · switch ×4 · ${model}`);
    assert.match(String(row.item.tooltip), new RegExp(`imported from ${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(inference only\\)`));
    assert.deepEqual(
      (await treeChildren(api, row.node)).map((c) => label(c.item)),
      ['encoder.block.1.layer.1', 'encoder.block.3.layer.1', 'decoder.block.1.layer.2', 'decoder.block.3.layer.2'],
    );

    // Without a run named, Run on Selection uses the model just opened.
    const result = await runOnSelection();
    assert.ok(result, 'switchyard.runOnSelection returned nothing');
    assert.equal(result.runId, opened.run.id);
    // HF's Unigram tokens: the sentinel is one.
    assert.ok(result.tokens.some((t) => t.text === '<extra_id_0>'), result.tokens.map((t) => t.text).join('|'));
    for (const t of result.tokens) assert.equal(SENTENCE.slice(t.start, t.end), t.text);
    assert.deepEqual(result.layers.map((l) => l.layer), ['encoder.block.1.layer.1', 'encoder.block.3.layer.1']);
    for (const l of result.layers) {
      assert.equal(l.capacity, 4, "HF's expert_capacity");
      assert.equal(l.tokens.length, result.tokens.length);
      for (const r of l.tokens) assert.ok(r.expert >= 0 && r.expert < 4 && r.prob > 0 && r.prob <= 1, JSON.stringify(r));
    }
    assert.equal(result.fills.length, 1, 'one fill for the one sentinel, from the decoder');

    const painted = api.decorations.current;
    assert.ok(painted, 'no decorations after Run on Selection');
    assert.equal(painted.result, result);
    assert.equal(painted.editor.document, editor.document);
    assert.equal(painted.layer, 0);
  });

  test('a model folder with a missing tensor is one error message and no run', async function () {
    this.timeout(120_000);
    const broken = join(tmp, 'broken');
    cpSync(model, broken, { recursive: true });
    // A config that wants a fifth expert the weights do not have.
    const config = JSON.parse(readFileSync(join(broken, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(broken, 'config.json'), JSON.stringify({ ...config, num_experts: 5 }));
    const before = (await treeChildren(api)).map((c) => label(c.item));
    const spy = spyErrorMessages();
    try {
      assert.equal(await open(broken), undefined);
    } finally {
      spy.restore();
    }
    assert.equal(spy.messages.length, 1, JSON.stringify(spy.messages));
    assert.match(
      spy.messages[0].text,
      /^Switchyard: could not open the model in .*broken: model\.safetensors: does not match config\.json: .*missing tensor encoder\.block\.1\.layer\.1\.mlp\.experts\.expert_4\.wi\.weight \[64,32\]; /,
    );
    await vscode.commands.executeCommand('switchyard.refreshRuns');
    assert.deepEqual((await treeChildren(api)).map((c) => label(c.item)), before, 'no run was added');
  });

  test('Export to Hugging Face writes a trained run as HF files, and the export opened again routes the same', async function () {
    this.timeout(300_000);
    const run = await trainShortRun(api, 6);
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const menu = (ext.packageJSON.contributes.menus['view/item/context'] as { command: string; when: string }[]).find((m) => m.command === 'switchyard.exportHf');
    assert.equal(menu?.when, 'view == switchyard.runs && viewItem =~ /^run\\.(paused|stopped|completed)$/');
    const row = (await treeChildren(api)).find((c) => label(c.item) === run.id);
    assert.equal(row?.item.contextValue, 'run.completed', 'the export is on this row\'s context menu');

    const out = join(tmp, 'exported');
    const exported = await vscode.commands.executeCommand<Result<'exportHf'> | undefined>('switchyard.exportHf', { runId: run.id, folder: out });
    assert.ok(exported, 'switchyard.exportHf returned nothing (see the error notification)');
    assert.equal(exported.step, 6);
    assert.deepEqual(readdirSync(out).sort(), ['README.md', 'config.json', 'model.safetensors', 'tokenizer.json']);
    const hfConfig = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(hfConfig.num_experts, 4);
    assert.equal(hfConfig.tie_word_embeddings, false);

    const reopened = await open({ folder: out, name: 'reopened' });
    assert.ok(reopened, 'the export did not open');
    const own = await runOnSelection(run.id);
    const back = await runOnSelection(reopened.run.id);
    assert.ok(own && back);
    assert.deepEqual(back.tokens, own.tokens);
    assert.deepEqual(back.layers.map((l) => l.layer), own.layers.map((l) => l.layer));
    // The first sparse layer's routing does not depend on any capacity; later ones do where the run dropped a token.
    const experts = (r: InferenceResult, i: number) => r.layers[i].tokens.map((t) => t.expert);
    assert.deepEqual(experts(back, 0), experts(own, 0));
    own.layers[0].tokens.forEach((t, j) => assert.ok(Math.abs(t.prob - back.layers[0].tokens[j].prob) < 1e-5, `token ${j}: ${t.prob} vs ${back.layers[0].tokens[j].prob}`));
    if (own.layers.every((l) => l.tokens.every((t) => !t.dropped))) {
      own.layers.forEach((_, i) => assert.deepEqual(experts(back, i), experts(own, i), own.layers[i].layer));
      assert.deepEqual(back.fills, own.fills);
    }
    assert.ok(existsSync(join(out, 'model.safetensors')));
  });
});
