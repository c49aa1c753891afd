// What the experts learned, in the real extension host with the real engine: opening a layer of a
// finished run in the Runs tree fetches the run's analysis from the engine, and each expert's row then
// shows its dominant part-of-speech tag and its most over-represented tokens, as the engine computed them;
// hovering a painted token in the editor says its class and what its expert usually takes.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { InferenceResult } from '../../../engine/protocol';
import type { SwitchyardApi } from '../../../extension/extension';
import { getApi, label, trainShortRun, treeChildren, waitUntil } from './helpers';

suite('analysis', () => {
  let api: SwitchyardApi;

  suiteSetup(async () => {
    api = await getApi();
  });

  test("opening a finished run's layer shows each expert's dominant tag and top tokens", async function () {
    this.timeout(240_000);
    const run = await trainShortRun(api, 6);
    const runNode = (await treeChildren(api)).find((r) => label(r.item) === run.id);
    assert.ok(runNode, `the tree lists ${run.id}`);
    const [layer] = await treeChildren(api, runNode.node);
    assert.ok(layer, 'the run has a sparse layer');
    await treeChildren(api, layer.node); // opening a layer (listing its experts) asks for the analysis
    await waitUntil(`the analysis of ${run.id}`, () => api.runs.get(run.id)?.analysis !== undefined, 120_000);
    const analysis = api.runs.get(run.id)!.analysis!;
    assert.equal(analysis.step, 6, 'at the newest checkpoint');
    const learned = analysis.layers.find((l) => l.layer === label(layer.item));
    assert.ok(learned, `the analysis covers ${label(layer.item)}`);
    const experts = await treeChildren(api, layer.node);
    assert.equal(experts.length, learned.specialisation.experts.length);
    experts.forEach((e, i) => {
      const x = learned.specialisation.experts[i];
      const description = String(e.item.description);
      if (x.dominantLabel) assert.match(description, new RegExp(` · ${x.dominantLabel} \\d+%`), `expert ${i}: ${description}`);
      const top = (x.topByLift.length ? x.topByLift : x.topByCount)[0];
      if (top) assert.ok(description.includes(`“${analysis.tokenTexts[top.tokenId]}”`), `expert ${i}: ${description} names its top token`);
      assert.match(String(e.item.tooltip), new RegExp(`At step 6 on the validation batches: ${x.tokens} tokens`));
    });
    assert.ok(learned.specialisation.labels.includes('NOUN'), 'Brown runs are labelled by universal tags');
  });

  test('hovering a painted token tells its class and what its expert usually takes', async function () {
    this.timeout(240_000);
    const run = await trainShortRun(api, 6);
    const text = 'The cat sat on the mat.';
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' }));
    try {
      editor.selection = new vscode.Selection(0, 0, 0, text.length);
      const result = await vscode.commands.executeCommand<InferenceResult | undefined>('switchyard.runOnSelection', run.id);
      assert.ok(result, 'switchyard.runOnSelection returned nothing');
      const cat = result.tokens.findIndex((t) => t.text.trim() === 'cat');
      const index = cat >= 0 ? cat : 0;
      const token = result.tokens[index];
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, editor.document.positionAt(token.start));
      const md = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      const expert = result.layers[0].tokens[index].expert;
      assert.ok(md.startsWith(`**${JSON.stringify(token.text)}** is a *word* token`), md); // " cat" (or "The")
      assert.match(md, new RegExp(`at ${result.layers[0].layer} expert ${expert} took it`));
      // What the expert usually takes: the analysis the Runs tree shows too.
      const analysis = api.runs.get(run.id)?.analysis;
      assert.ok(analysis, 'the hover fetched the run\'s analysis');
      const learned = analysis.layers.find((l) => l.layer === result.layers[0].layer)!.specialisation.experts[expert];
      assert.match(md, new RegExp(`Expert ${expert} usually takes: ${learned.dominantLabel ?? 'no tokens'}`));
      assert.match(md, new RegExp(`- At step 6 on the validation batches: ${learned.tokens} tokens`));
    } finally {
      await vscode.commands.executeCommand('switchyard.clearRouting');
      if (vscode.window.activeTextEditor?.document === editor.document) await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });
});
