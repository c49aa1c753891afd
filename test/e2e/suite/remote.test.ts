// Attaching to a remote engine (switchyard.engine.remoteUrl / remoteToken): a real engine started by
// the test (`dist/engine.js serve`), attached with its token; with a wrong token the engine refuses
// and the extension says so clearly (state 'crashed' with the refusal, an error notification)
// instead of hanging. The settings are put back and the local engine restarted afterwards.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as vscode from 'vscode';
import type { Handshake } from '../../../engine/protocol';
import type { EngineInfo } from '../../../extension/engine/engineManager';
import type { SwitchyardApi } from '../../../extension/extension';
import { EXTENSION_ID, getApi, spyErrorMessages } from './helpers';

/** Starts `node dist/engine.js serve` with the extension host's own runtime; resolves with its handshake. */
function startEngine(enginePath: string, runsDir: string): Promise<{ child: ChildProcess; handshake: Handshake; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [enginePath, 'serve', '--port', '0', '--runs', runsDir], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no handshake from the engine within 60 s; stderr: ${stderr}`));
    }, 60_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the engine exited (${String(code)}) before its handshake; stderr: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, handshake: JSON.parse(line) as Handshake, exited });
    });
  });
}

suite('remote engine', () => {
  let api: SwitchyardApi;
  let engine: Awaited<ReturnType<typeof startEngine>> | undefined;
  let runsDir: string;
  let url: string;
  const config = () => vscode.workspace.getConfiguration('switchyard');

  suiteSetup(async function () {
    this.timeout(120_000);
    api = await getApi();
    runsDir = mkdtempSync(join(tmpdir(), 'switchyard-remote-'));
    const enginePath = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'engine.js');
    engine = await startEngine(enginePath, runsDir);
    assert.equal(engine.handshake.switchyard, 'engine');
    url = `ws://127.0.0.1:${engine.handshake.port}`;
  });

  suiteTeardown(async function () {
    this.timeout(120_000);
    await config().update('engine.remoteUrl', undefined, vscode.ConfigurationTarget.Global);
    await config().update('engine.remoteToken', undefined, vscode.ConfigurationTarget.Global);
    const info = await vscode.commands.executeCommand<EngineInfo>('switchyard.restartEngine');
    if (engine && engine.child.exitCode === null) {
      engine.child.kill('SIGTERM');
      await engine.exited;
    }
    rmSync(runsDir, { recursive: true, force: true });
    assert.equal(info.state, 'running', `the local engine did not come back: ${JSON.stringify(info)}`);
    assert.match(info.where ?? '', /^local \(pid \d+\)$/);
  });

  test('with its token, Restart Engine attaches to the remote engine', async function () {
    this.timeout(60_000);
    await config().update('engine.remoteUrl', url, vscode.ConfigurationTarget.Global);
    await config().update('engine.remoteToken', engine!.handshake.token, vscode.ConfigurationTarget.Global);
    const info = await vscode.commands.executeCommand<EngineInfo>('switchyard.restartEngine');
    assert.deepEqual(info, { state: 'running', backend: engine!.handshake.backend.name, where: url });
    const status = await api.engine.request('status', {});
    assert.equal(status.runsDir, runsDir);
  });

  test('with a wrong token, the engine refuses and the extension says so (no hang)', async function () {
    this.timeout(60_000);
    await config().update('engine.remoteUrl', url, vscode.ConfigurationTarget.Global);
    await config().update('engine.remoteToken', 'not-the-engine-token-0123456789', vscode.ConfigurationTarget.Global);
    const spy = spyErrorMessages();
    let info: EngineInfo;
    const t0 = Date.now();
    try {
      info = await vscode.commands.executeCommand<EngineInfo>('switchyard.restartEngine');
    } finally {
      spy.restore();
    }
    const took = Date.now() - t0;
    assert.ok(took < 10_000, `the refusal took ${took} ms`);
    assert.equal(info.state, 'crashed', JSON.stringify(info));
    const reason = `cannot attach to the engine at ${url}: the engine refused the connection: the first message must be a hello with the engine token`;
    assert.equal(info.reason, reason);
    assert.deepEqual(api.engine.state, info);
    assert.deepEqual(spy.messages, [{ text: `Switchyard: the engine did not restart: ${reason}`, items: ['Show Log'] }]);
    assert.match(api.statusBar.text, /engine crashed/);
    // A request meanwhile fails the same way, at once.
    await assert.rejects(api.engine.request('listRuns', {}), (err: Error) => err.message === reason);
    // The remote engine itself is unharmed.
    assert.equal(engine!.child.exitCode, null);
  });
});
