// Run on Selection, in the real extension host: it routes the selected text through a trained run and
// returns the routing of every token at every sparse layer, paints the tokens in the editor, and the
// paint goes away with Clear Routing (what Escape runs) or an edit. An empty or too long selection
// gives a clear error and paints nothing.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { InferenceResult, RunSummary } from '../../../engine/protocol';
import type { SwitchyardApi } from '../../../extension/extension';
import { getApi, spyErrorMessages, trainShortRun, waitUntil } from './helpers';

const SENTENCE = 'The <extra_id_0> walks into a bar.';
const CONTENT = `A line before it.\n${SENTENCE}\nA line after it.\n`;

suite('routing', () => {
  let api: SwitchyardApi;
  let run: RunSummary;
  let editor: vscode.TextEditor;

  suiteSetup(async function () {
    this.timeout(180_000);
    api = await getApi();
    run = await trainShortRun(api, 6);
  });

  setup(async () => {
    const doc = await vscode.workspace.openTextDocument({ content: CONTENT, language: 'plaintext' });
    editor = await vscode.window.showTextDocument(doc);
  });

  teardown(async () => {
    await vscode.commands.executeCommand('switchyard.clearRouting');
    // An untitled document: close it without a "save?" prompt.
    if (vscode.window.activeTextEditor?.document === editor.document) await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  const selectSentence = () => {
    const start = editor.document.positionAt(CONTENT.indexOf(SENTENCE));
    editor.selection = new vscode.Selection(start, start.translate(0, SENTENCE.length));
    return editor.document.offsetAt(start);
  };

  const runOnSelection = (arg?: unknown) => vscode.commands.executeCommand<InferenceResult | undefined>('switchyard.runOnSelection', arg);

  test('Run on Selection returns the routing of every token at every sparse layer and paints the tokens', async function () {
    this.timeout(120_000);
    const offset = selectSentence();
    const result = await runOnSelection(run.id);
    assert.ok(result, 'switchyard.runOnSelection returned nothing (see the error notification)');
    assert.equal(result.runId, run.id);
    assert.equal(result.step, 6);
    const n = result.tokens.length;
    assert.ok(n >= 5, `${n} tokens for ${JSON.stringify(SENTENCE)}`);
    assert.ok(
      result.tokens.some((t) => t.text === '<extra_id_0>'),
      `the sentinel is not one token: ${result.tokens.map((t) => JSON.stringify(t.text)).join(' ')}`,
    );
    // Tokens cover the sentence in order, at their offsets.
    for (const t of result.tokens) assert.equal(SENTENCE.slice(t.start, t.end), t.text);
    // Layers x tokens: every encoder sparse layer routes every token to one of its experts.
    assert.ok(result.layers.length >= 1);
    for (const l of result.layers) {
      assert.ok(run.layers.includes(l.layer), `${l.layer} is not a sparse layer of the run (${run.layers.join(', ')})`);
      assert.equal(l.numExperts, 4);
      assert.equal(l.tokens.length, n, `${l.layer}: ${l.tokens.length} routings for ${n} tokens`);
      for (const r of l.tokens) {
        assert.ok(Number.isInteger(r.expert) && r.expert >= 0 && r.expert < 4, `expert ${r.expert}`);
        assert.ok(r.prob > 0 && r.prob <= 1, `prob ${r.prob}`);
      }
    }
    // Exactly one fill, for the sentence's one sentinel: text or an explicit null (no fill).
    assert.deepEqual(result.fills.map((f) => f.sentinel), [0]);
    assert.ok(result.fills[0].text === null || typeof result.fills[0].text === 'string');
    assert.equal(typeof result.output, 'string');

    const painted = api.decorations.current;
    assert.ok(painted, 'no decorations after Run on Selection');
    assert.equal(painted.editor.document, editor.document);
    assert.equal(painted.selectionStart, offset);
    assert.equal(painted.layer, 0);
    assert.equal(painted.result.tokens.length, n);
    // Each painted range holds its token's text in the document.
    for (const t of painted.result.tokens) {
      const range = new vscode.Range(editor.document.positionAt(offset + t.start), editor.document.positionAt(offset + t.end));
      assert.equal(editor.document.getText(range), t.text);
    }
  });

  test('without a run named, Run on Selection uses the run the engine trained last', async function () {
    this.timeout(120_000);
    selectSentence();
    const result = await runOnSelection();
    assert.ok(result, 'switchyard.runOnSelection returned nothing');
    assert.equal(result.runId, run.id);
    assert.equal(api.decorations.current?.result, result);
  });

  test('Clear Routing Colors, which Escape runs in the editor, clears the decorations', async function () {
    this.timeout(120_000);
    const ext = vscode.extensions.getExtension(`switchyard.switchyard`)!;
    const keys = (ext.packageJSON.contributes.keybindings as { command: string; key: string; when: string }[]).filter((k) => k.command === 'switchyard.clearRouting');
    assert.deepEqual(keys, [{ command: 'switchyard.clearRouting', key: 'escape', when: 'editorTextFocus && switchyard.routingShown' }]);
    selectSentence();
    assert.ok(await runOnSelection(run.id));
    assert.ok(api.decorations.current);
    assert.equal(await vscode.commands.executeCommand('switchyard.clearRouting'), true);
    assert.equal(api.decorations.current, null);
  });

  test('an edit of the document clears the decorations', async function () {
    this.timeout(120_000);
    selectSentence();
    assert.ok(await runOnSelection(run.id));
    assert.ok(api.decorations.current);
    assert.ok(await editor.edit((b) => b.insert(new vscode.Position(0, 0), 'Edited. ')));
    await waitUntil('the decorations are cleared after the edit', () => api.decorations.current === null, 5_000);
  });

  test('an empty selection gives a clear error and paints nothing', async function () {
    this.timeout(60_000);
    const start = editor.document.positionAt(CONTENT.indexOf(SENTENCE));
    editor.selection = new vscode.Selection(start, start);
    const spy = spyErrorMessages();
    try {
      assert.equal(await runOnSelection(run.id), undefined);
      // Whitespace only is empty too.
      editor.selection = new vscode.Selection(new vscode.Position(0, 0), new vscode.Position(0, 0));
      await editor.edit((b) => b.insert(new vscode.Position(0, 0), '   '));
      editor.selection = new vscode.Selection(new vscode.Position(0, 0), new vscode.Position(0, 3));
      assert.equal(await runOnSelection(run.id), undefined);
    } finally {
      spy.restore();
    }
    assert.deepEqual(
      spy.messages.map((m) => m.text),
      ['Switchyard: the selection is empty: select the text to run the model on.', 'Switchyard: the selection is empty: select the text to run the model on.'],
    );
    assert.equal(api.decorations.current, null);
  });

  test('a selection over switchyard.inference.maxSelectionChars gives a clear error and paints nothing', async function () {
    this.timeout(60_000);
    const config = vscode.workspace.getConfiguration('switchyard');
    await config.update('inference.maxSelectionChars', 10, vscode.ConfigurationTarget.Global);
    const spy = spyErrorMessages();
    try {
      selectSentence();
      assert.equal(await runOnSelection(run.id), undefined);
    } finally {
      spy.restore();
      await config.update('inference.maxSelectionChars', undefined, vscode.ConfigurationTarget.Global);
    }
    assert.deepEqual(
      spy.messages.map((m) => m.text),
      [`Switchyard: the selection is ${SENTENCE.length} characters long; the limit is 10 (setting switchyard.inference.maxSelectionChars).`],
    );
    assert.equal(api.decorations.current, null);
  });
});
