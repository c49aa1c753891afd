// Fetches a run's analysis (what its experts learned) from the engine once per run, when the Runs
// tree first opens one of its layers, and repaints the run; a run still training is analyzed at its
// next opening after it stops.
import type * as vscode from 'vscode';
import { describeError, type EngineManager } from '../engine/engineManager';
import type { RunsModel } from './runsModel';
import type { RunsTreeProvider } from './runsTree';

export class AnalysisLoader {
  private readonly pending = new Set<string>();

  constructor(
    private readonly engine: EngineManager,
    private readonly runs: RunsModel,
    private readonly log: vscode.LogOutputChannel,
    private readonly tree: () => RunsTreeProvider,
  ) {}

  /** Starts fetching the run's analysis unless it has one, is training, or is being fetched. */
  want(runId: string): void {
    const run = this.runs.get(runId);
    if (!run || run.analysis || run.state === 'running' || this.pending.has(runId)) return;
    this.pending.add(runId);
    this.engine
      .request('analyzeRun', { runId })
      .then((analysis) => {
        if (this.runs.setAnalysis(runId, analysis)) this.tree().refresh(runId);
      })
      .catch((err: unknown) => this.log.warn(`could not analyze ${runId}: ${describeError(err)}`))
      .finally(() => this.pending.delete(runId));
  }
}
