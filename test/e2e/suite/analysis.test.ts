// What the experts learned, in the real extension host with the real engine: opening a layer of a
// finished run in the Runs tree fetches the run's analysis from the engine, and each expert's row then
// shows its dominant part-of-speech tag and its most over-represented tokens, as the engine computed them.
import * as assert from 'node:assert/strict';
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
});
