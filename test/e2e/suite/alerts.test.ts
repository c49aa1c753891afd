// Router-health alerts, in the real extension host with the real engine: a run whose layers overflow
// (capacity factor 0.5) with the overflow alert at 0% shows the warning icon on exactly the
// overflowing layers of the Runs tree, with the alert's text in their tooltip, and one notification
// for the alert kind, however many steps it fires on.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { EngineEvent, RunSummary } from '../../../engine/protocol';
import type { SwitchyardApi } from '../../../extension/extension';
import { ensureEngine, EventLog, getApi, isState, isStep, label, smallChoice, spyMessages, treeChildren } from './helpers';

suite('alerts', () => {
  let api: SwitchyardApi;

  suiteSetup(async () => {
    api = await getApi();
  });

  test('an overflow alert: a warning icon on the overflowing layers and one notification per kind', async function () {
    this.timeout(180_000);
    await ensureEngine(api);
    const log = new EventLog(api);
    const spy = spyMessages('showWarningMessage');
    try {
      const choice = smallChoice(12);
      choice.capacityFactor = 0.5;
      choice.config = { ...choice.config, training: { ...choice.config?.training, alerts: { overflowRate: 0 } } };
      const run = await vscode.commands.executeCommand<RunSummary | undefined>('switchyard.startTraining', choice);
      assert.ok(run, 'switchyard.startTraining returned nothing');
      const withAlert = await log.waitFor(`a step of ${run.id} with an alert`, (e): e is Extract<EngineEvent, { event: 'step' }> => isStep(run.id)(e) && (e.data.alerts?.length ?? 0) > 0, 120_000);
      await log.waitFor(`${run.id} completed`, isState(run.id, 'completed'), 120_000);
      // The last step event can follow the state event by one event interval (step events are paced).
      const last = await log.waitFor(`the final step event of ${run.id}`, isStep(run.id, 12), 10_000);
      assert.ok(withAlert.data.alerts?.some((a) => a.kind === 'overflow'));

      const overflowing = last.data.layers.filter((l) => (l.overflowRate ?? 0) > 0).map((l) => l.layer);
      const runNode = (await treeChildren(api)).find((r) => label(r.item) === run.id);
      assert.ok(runNode, `the tree lists ${run.id}`);
      for (const l of await treeChildren(api, runNode.node)) {
        const icon = (l.item.iconPath as vscode.ThemeIcon).id;
        const warned = overflowing.includes(label(l.item));
        assert.equal(icon, warned ? 'warning' : 'layers', `${label(l.item)}: icon ${icon}, overflow ${warned}`);
        if (warned) assert.match(String(l.item.tooltip), /⚠ .*overflow their expert's capacity \(since step \d+\)/);
      }
      const mine = spy.messages.filter((m) => m.text.includes(run.id));
      assert.deepEqual(
        mine.map((m) => /overflow/.test(m.text)),
        [true],
        `one notification for the overflow kind: ${JSON.stringify(mine)}`,
      );
      assert.deepEqual(mine[0].items, ['Open Dashboard']);
    } finally {
      spy.restore();
      log.dispose();
    }
  });
});
