// A notification the first time each kind of router-health alert fires in a run (collapse, dead
// expert, overflow, z-loss); the Runs tree's warning icons show every alert in force.
import * as vscode from 'vscode';
import type { EngineEvent } from '../../engine/protocol';

export class AlertNotifier {
  private readonly notified = new Set<string>();

  /** Returns the messages it showed, for tests. */
  onEvent(e: EngineEvent): string[] {
    if (e.event !== 'step') return [];
    const shown: string[] = [];
    for (const a of e.data.alerts ?? []) {
      const key = `${e.runId}/${a.kind}`;
      if (this.notified.has(key)) continue;
      this.notified.add(key);
      const message = `Switchyard: ${e.runId}: ${a.message} (step ${a.step})`;
      shown.push(message);
      void vscode.window.showWarningMessage(message, 'Open Dashboard').then((c) => c && vscode.commands.executeCommand('switchyard.openRun', e.runId));
    }
    return shown;
  }
}
