// Fetches the run list from the engine into the Runs model and repaints the tree.
import type * as vscode from 'vscode';
import { describeError, type EngineManager } from '../engine/engineManager';
import type { RunsModel } from './runsModel';
import type { RunsTreeProvider } from './runsTree';

export async function refreshRuns(engine: EngineManager, runs: RunsModel, tree: RunsTreeProvider, log: vscode.LogOutputChannel): Promise<void> {
  try {
    runs.setRuns((await engine.request('listRuns', {})).runs);
  } catch (err) {
    log.warn(`could not list runs: ${describeError(err)}`);
    runs.setRuns([]);
  }
  tree.refresh();
}
