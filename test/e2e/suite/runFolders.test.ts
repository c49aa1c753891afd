// External run folders, in the real extension host with the real engine: a separate process writes
// a run folder record by record while Open Run Folder… follows it; the Runs tree row (marked
// external) and the dashboard follow the new steps; the switchyard.runFolders setting adds a folder.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { SwitchyardApi } from '../../../extension/extension';
import { ensureEngine, EventLog, getApi, isStep, label, startRunWriter, treeChildren, waitUntil } from './helpers';

suite('run folders', () => {
  let api: SwitchyardApi;

  suiteSetup(async () => {
    api = await getApi();
  });

  test('Open Run Folder follows a run another process is writing: tree row and dashboard', async function () {
    this.timeout(120_000);
    await ensureEngine(api);
    const folder = join(mkdtempSync(join(tmpdir(), 'sy-e2e-ext-')), 'job');
    const writer = startRunWriter(folder, 40, 300);
    const log = new EventLog(api);
    try {
      await waitUntil('the writer’s first record', () => existsSync(join(folder, 'metrics.jsonl')), 20_000);
      const ids = await vscode.commands.executeCommand<string[]>('switchyard.openRunFolder', folder);
      assert.equal(ids?.length, 1, `one external run: ${JSON.stringify(ids)}`);
      const id = ids[0];
      const row = async () => (await treeChildren(api)).find((r) => label(r.item) === id);
      const first = await row();
      assert.ok(first, `the Runs tree lists ${id}`);
      assert.match(String(first.item.description), /^external · /);
      assert.match(String(first.item.contextValue), /^run\.external\./, 'no pause/stop/resume/delete on an external run');
      const layers = await treeChildren(api, first.node);
      assert.deepEqual(layers.map((l) => label(l.item)), ['encoder.block.1.layer.1', 'encoder.block.3.layer.1']);

      await vscode.commands.executeCommand('switchyard.openRun', id);
      assert.equal(api.dashboard.visibleRunId, id, 'the dashboard shows the external run');
      const live = await log.waitFor(`a live step of ${id}`, isStep(id), 20_000);
      const later = await log.waitFor(`a later step of ${id}`, isStep(id, live.data.step + 3), 20_000);
      await waitUntil('the tree row reaches the later step', () => api.runs.get(id)?.step !== undefined && api.runs.get(id)!.step >= later.data.step, 5_000);
      const now = await row();
      assert.match(String(now?.item.description), new RegExp(`step ${api.runs.get(id)!.step}\\b`));
      const experts = await treeChildren(api, (await treeChildren(api, now!.node))[0].node);
      assert.equal(experts.length, 4, 'its first layer shows its 4 experts');
      assert.match(String(experts[0].item.description), /kept \d+ · dropped 0/);
    } finally {
      writer.kill();
      log.dispose();
      // The dashboard stays on this run while it is open: the suites after this one expect none.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  test('switchyard.runFolders adds a folder of runs', async function () {
    this.timeout(60_000);
    await ensureEngine(api);
    const parent = mkdtempSync(join(tmpdir(), 'sy-e2e-runs-'));
    const writer = startRunWriter(join(parent, 'other'), 3, 50);
    await new Promise((r) => writer.on('exit', r));
    const config = vscode.workspace.getConfiguration('switchyard');
    try {
      await config.update('runFolders', [parent], vscode.ConfigurationTarget.Global);
      await waitUntil('the setting’s run in the tree', () => api.runs.list().some((r) => r.external === join(parent, 'other')), 15_000);
      const run = api.runs.list().find((r) => r.external === join(parent, 'other'))!;
      assert.equal(run.numExperts, 4);
    } finally {
      await config.update('runFolders', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
