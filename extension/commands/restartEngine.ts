// Switchyard: Restart Engine — a new engine process (or a new attach to the remote one), then the
// run list again. Returns the engine's info (state `crashed` and the reason when it did not come back).
import * as vscode from 'vscode';
import type { Switchyard } from '../context';
import { describeError, type EngineInfo } from '../engine/engineManager';

export async function restartEngine(sy: Switchyard): Promise<EngineInfo> {
  try {
    const info = await sy.engine.restart();
    await sy.refreshRuns();
    return info;
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: the engine did not restart: ${describeError(err)}`, 'Show Log').then((c) => c && sy.engine.log.show());
    return sy.engine.state;
  }
}
