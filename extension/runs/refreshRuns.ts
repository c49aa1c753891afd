// Fetches the run list from the engine into the Runs model and repaints the tree.
import type * as vscode from 'vscode';
import { describeError, type EngineManager } from '../engine/engineManager';
import type { RunsModel } from './runsModel';
import type { RunsTreeProvider } from './runsTree';

export async function refreshRuns(engine: EngineManager, runs: RunsModel, tree: RunsTreeProvider, log: vscode.LogOutputChannel): Promise<void> {
  try {
    const [list, experiments] = await Promise.all([engine.request('listRuns', {}), engine.request('listExperiments', {})]);
    runs.setRuns(list.runs);
    runs.setExperiments(experiments.experiments);
  } catch (err) {
    log.warn(`could not list runs: ${describeError(err)}`);
    runs.setRuns([]);
    runs.setExperiments([]);
  }
  tree.refresh();
}
