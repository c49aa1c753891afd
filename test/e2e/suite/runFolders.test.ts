// External run folders, in the real extension host with the real engine: the PyTorch probe, attached
// to a small MoE that trains in a separate Python process, writes a run folder record by record while
// Open Run Folder… follows it; the Runs tree rows (marked external) follow the new steps and show
// what the probe logs (overflow where a layer has a capacity, kept/dropped or routed counts per
// expert); the switchyard.runFolders setting adds a folder.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { SwitchyardApi } from '../../../extension/extension';
import { ensureEngine, EventLog, getApi, isStep, label, startProbeRun, treeChildren, waitUntil } from './helpers';

suite('run folders', () => {
  let api: SwitchyardApi;

  suiteSetup(async () => {
    api = await getApi();
  });

  test('Open Run Folder follows a PyTorch run the probe is writing: tree rows and dashboard', async function () {
    this.timeout(180_000);
    await ensureEngine(api);
    const folder = join(mkdtempSync(join(tmpdir(), 'sy-e2e-ext-')), 'job');
    const probe = startProbeRun(folder, 200, 0.3);
    const log = new EventLog(api);
    try {
      // Python and torch take a few seconds to start on a busy machine.
      await waitUntil('the probe’s first record', () => existsSync(join(folder, 'metrics.jsonl')) && statSync(join(folder, 'metrics.jsonl')).size > 0, 90_000).catch((err: Error) => {
        throw new Error(`${err.message}; python: ${probe.stderr() || `exit ${probe.process.exitCode}`}`);
      });
      const ids = await vscode.commands.executeCommand<string[]>('switchyard.openRunFolder', folder);
      assert.equal(ids?.length, 1, `one external run: ${JSON.stringify(ids)}`);
      const id = ids[0];
      const row = async () => (await treeChildren(api)).find((r) => label(r.item) === id);
      const first = await row();
      assert.ok(first, `the Runs tree lists ${id}`);
      const firstText = String(first.item.description);
      assert.match(firstText, /^external · pytorch-probe · top-1\/top-2 ×4 · step \d+\/200 · loss \d+\.\d{3}$/, `the probe logs a total loss, no cross-entropy: ${firstText}`);
      assert.match(String(first.item.contextValue), /^run\.external\./, 'no pause/stop/resume/delete on an external run');
      const layers = await treeChildren(api, first.node);
      assert.deepEqual(
        layers.map((l) => label(l.item)),
        ['switch.router', 'mixtral.gate'],
      );

      await vscode.commands.executeCommand('switchyard.openRun', id);
      assert.equal(api.dashboard.visibleRunId, id, 'the dashboard shows the external run');
      const live = await log.waitFor(`a live step of ${id}`, isStep(id), 30_000);
      const later = await log.waitFor(`a later step of ${id}`, isStep(id, live.data.step + 3), 30_000);
      await waitUntil('the tree row reaches the later step', () => (api.runs.get(id)?.step ?? 0) >= later.data.step, 5_000);
      const now = await row();
      const run = api.runs.get(id)!;
      assert.equal(String(now?.item.description), `external · pytorch-probe · top-1/top-2 ×4 · step ${run.step}/200 · loss ${run.loss?.toFixed(3)}`);
      const [sw, mx] = await treeChildren(api, now!.node);
      const swData = run.layers.find((l) => l.layer === 'switch.router')!;
      const mxData = run.layers.find((l) => l.layer === 'mixtral.gate')!;
      // Switch: capacity, so overflow; both: the probe's router entropy. Mixtral: no capacity, no overflow.
      assert.equal(sw.item.description, `overflow ${(100 * swData.overflowRate!).toFixed(1)}% · entropy ${swData.normalizedEntropy!.toFixed(2)}`);
      assert.equal(mx.item.description, `entropy ${mxData.normalizedEntropy!.toFixed(2)}`);
      const swExperts = await treeChildren(api, sw.node);
      assert.equal(swExperts.length, 4, 'the Switch layer shows its 4 experts');
      swExperts.forEach((e, i) => assert.match(String(e.item.description), new RegExp(` · kept ${swData.kept![i]} · dropped ${swData.routed[i] - swData.kept![i]}$`)));
      const mxExperts = await treeChildren(api, mx.node);
      assert.equal(mxExperts.length, 4);
      mxExperts.forEach((e, i) => assert.match(String(e.item.description), new RegExp(` · routed ${mxData.routed[i]}$`), 'top-2 without capacity: routed counts'));
      assert.equal(
        mxData.routed.reduce((a, b) => a + b, 0),
        2 * swData.routed.reduce((a, b) => a + b, 0),
        'top-2 routes each token twice',
      );
    } finally {
      probe.process.kill();
      log.dispose();
      // The dashboard stays on this run while it is open: the suites after this one expect none.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  test('switchyard.runFolders adds a folder of runs', async function () {
    this.timeout(60_000);
    await ensureEngine(api);
    const parent = mkdtempSync(join(tmpdir(), 'sy-e2e-runs-'));
    const probe = startProbeRun(join(parent, 'other'), 3, 0);
    const exit = await new Promise((r) => probe.process.on('exit', r));
    assert.equal(exit, 0, `the probe run ends well: ${probe.stderr()}`);
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
