// Activation, in the real extension host: the extension activates and returns its API, every command
// it contributes is registered, and the engine it bundles really starts.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { EngineInfo } from '../../../extension/engine/engineManager';
import type { SwitchyardApi } from '../../../extension/extension';

const EXTENSION_ID = 'switchyard.switchyard';

suite('activation', () => {
  let extension: vscode.Extension<SwitchyardApi>;
  let api: SwitchyardApi;

  suiteSetup(async () => {
    const found = vscode.extensions.getExtension<SwitchyardApi>(EXTENSION_ID);
    assert.ok(found, `${EXTENSION_ID} is not loaded in this extension host`);
    extension = found;
    api = await extension.activate();
  });

  suiteTeardown(async () => {
    await api?.engine.stop();
  });

  test('the extension activates and returns its API', () => {
    assert.equal(extension.isActive, true);
    for (const part of ['engine', 'runs', 'runsTree', 'dashboard', 'routingView', 'decorations', 'statusBar', 'refreshRuns'] as const) {
      assert.ok(api[part], `the API has no ${part}`);
    }
  });

  test('every command in package.json contributes.commands is registered', async () => {
    const contributed = (extension.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    assert.ok(contributed.length >= 10, `only ${contributed.length} contributed commands`);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((id) => !registered.has(id)), []);
  });

  test('Restart Engine starts the real engine', async () => {
    const info = await vscode.commands.executeCommand<EngineInfo>('switchyard.restartEngine');
    assert.equal(info.state, 'running', `engine info: ${JSON.stringify(info)}`);
    assert.equal(typeof info.backend, 'string');
    assert.ok(info.backend, `no backend name in ${JSON.stringify(info)}`);
    assert.match(info.where ?? '', /^local \(pid \d+\)$/);
    assert.deepEqual(api.engine.state, info);
    // The engine answers requests.
    const listed = await vscode.commands.executeCommand<string[]>('switchyard.refreshRuns');
    assert.ok(Array.isArray(listed), `refreshRuns returned ${JSON.stringify(listed)}`);
  });

  test('Show Engine Log returns true', async () => {
    assert.equal(await vscode.commands.executeCommand('switchyard.showEngineLog'), true);
  });
});
