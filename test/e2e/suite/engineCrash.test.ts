// The engine dies: SIGKILL to the real engine process. The extension notices within 2 s (state
// 'crashed', an error notification with Restart and Show Log, the status bar), a request that was on
// its way fails at once with a clear error instead of hanging, the Runs view still answers from
// what it knew, and Restart Engine brings a new engine that lists the old run.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { EngineInfo } from '../../../extension/engine/engineManager';
import type { SwitchyardApi } from '../../../extension/extension';
import { ensureEngine, enginePid, getApi, label, spyErrorMessages, trainShortRun, treeChildren, waitForEngineState } from './helpers';

suite('engine crash', () => {
  let api: SwitchyardApi;
  let runId: string;
  let killedPid = 0;

  suiteSetup(async function () {
    this.timeout(180_000);
    api = await getApi();
    runId = (await trainShortRun(api, 6)).id;
    await vscode.commands.executeCommand('switchyard.refreshRuns');
  });

  suiteTeardown(async function () {
    this.timeout(120_000);
    await ensureEngine(api);
  });

  test('killing the engine process is reported within 2 s; a pending request fails fast; the Runs view still answers', async function () {
    this.timeout(60_000);
    await ensureEngine(api);
    const pid = enginePid(api);
    const spy = spyErrorMessages();
    try {
      const crashed = waitForEngineState(api, 'crashed', 10_000);
      // Sent just after the kill: the engine can never answer it.
      const t0 = Date.now();
      process.kill(pid, 'SIGKILL');
      killedPid = pid;
      // Its outcome is taken at once, so that its rejection is never an unhandled one.
      const pending = api.engine.request('listRuns', {}).then(
        () => new Error('the killed engine answered listRuns'),
        (err: Error) => err,
      );
      const info = await crashed;
      const noticed = Date.now() - t0;
      assert.ok(noticed < 2_000, `the crash was noticed after ${noticed} ms`);
      assert.equal(info.reason, 'the engine process ended (SIGKILL)');
      assert.match((await pending).message, /^the engine connection closed \(\d+\) before listRuns answered$/);
      const failed = Date.now() - t0;
      assert.ok(failed < 2_000, `the pending request failed after ${failed} ms`);
      assert.deepEqual(spy.messages, [{ text: 'Switchyard: the engine process ended (SIGKILL).', items: ['Restart', 'Show Log'] }]);
    } finally {
      spy.restore();
    }
    assert.equal(api.engine.state.state, 'crashed');
    assert.match(api.statusBar.text, /Switchyard: engine crashed/);
    assert.throws(() => process.kill(pid, 0), 'the engine process is still there');
    // The Runs view answers from what it knew.
    const runs = await treeChildren(api);
    assert.ok(
      runs.some((r) => label(r.item) === runId),
      `the tree lists ${runs.map((r) => label(r.item)).join(', ')}`,
    );
    const layers = await treeChildren(api, runs.find((r) => label(r.item) === runId)!.node);
    assert.ok(layers.length >= 2, `${layers.length} layers under ${runId}`);
  });

  test('Restart Engine brings it back: running, listRuns works, the old run is listed', async function () {
    this.timeout(120_000);
    if (!killedPid) this.skip();
    const info = await vscode.commands.executeCommand<EngineInfo>('switchyard.restartEngine');
    assert.equal(info.state, 'running', JSON.stringify(info));
    const pid = enginePid(api);
    assert.notEqual(pid, killedPid);
    const { runs } = await api.engine.request('listRuns', {});
    const old = runs.find((r) => r.id === runId);
    assert.ok(old, `listRuns after the restart: ${runs.map((r) => r.id).join(', ')}`);
    assert.equal(old.status?.state, 'completed');
    assert.ok(api.runs.get(runId), 'the Runs view lost the run after the restart');
    assert.doesNotMatch(api.statusBar.text, /crashed/);
  });
});
