// External run folders: those of the `switchyard.runFolders` setting and those opened with Open Run
// Folder… (kept per workspace), sent to the engine whenever it starts and whenever either changes.
import * as vscode from 'vscode';
import { describeError, type EngineManager } from '../engine/engineManager';
import { readSettings } from '../settings';

const OPENED_KEY = 'switchyard.openedRunFolders';

export class RunFolders implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly state: vscode.Memento,
    private readonly engine: EngineManager,
    private readonly refreshRuns: () => Promise<void>,
  ) {
    this.subscriptions = [
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('switchyard.runFolders') && void this.sync()),
      engine.onDidChangeState((s) => s.state === 'running' && void this.sync()),
    ];
  }

  /** Every folder followed: the setting's, then those opened by command. */
  folders(): string[] {
    return [...new Set([...readSettings().runFolders, ...this.state.get<string[]>(OPENED_KEY, [])])];
  }

  async open(folder: string): Promise<string[]> {
    await this.state.update(OPENED_KEY, [...new Set([...this.state.get<string[]>(OPENED_KEY, []), folder])]);
    return this.sync();
  }

  /** Tells the engine (starting it if need be) which folders to follow; returns the external run ids. */
  async sync(): Promise<string[]> {
    try {
      const { runs, warnings } = await this.engine.request('watchRunFolders', { folders: this.folders() });
      for (const w of warnings) {
        this.engine.log.warn(w);
        void vscode.window.showWarningMessage(`Switchyard: ${w}`);
      }
      await this.refreshRuns();
      return runs.map((r) => r.id);
    } catch (err) {
      void vscode.window.showErrorMessage(`Switchyard: could not follow the run folders: ${describeError(err)}`);
      return [];
    }
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }
}
