// Fetches a run's analysis (what its experts learned) from the engine once per run: when the Runs
// tree first opens one of its layers (and then repaints the run), or on the first routing hover. A
// run still training is analyzed once it stops (the engine would analyze between training steps).
import type * as vscode from 'vscode';
import type { Analysis } from '../../engine/analysis/analysisSchema';
import { describeError, type EngineManager } from '../engine/engineManager';
import type { RunsModel } from './runsModel';
import type { RunsTreeProvider } from './runsTree';

export class AnalysisLoader {
  private readonly pending = new Map<string, Promise<{ analysis?: Analysis; why?: string }>>();

  constructor(
    private readonly engine: EngineManager,
    private readonly runs: RunsModel,
    private readonly log: vscode.LogOutputChannel,
    private readonly tree: () => RunsTreeProvider,
  ) {}

  /** Starts fetching the run's analysis unless it has one, is training, or is being fetched. */
  want(runId: string): void {
    void this.analysisFor(runId);
  }

  /** The run's analysis, fetched once; `why` says why there is none. */
  analysisFor(runId: string): Promise<{ analysis?: Analysis; why?: string }> {
    const run = this.runs.get(runId);
    if (run?.analysis) return Promise.resolve({ analysis: run.analysis });
    if (run?.state === 'running') return Promise.resolve({ why: 'it shows once the run stops training' });
    let p = this.pending.get(runId);
    if (!p) {
      p = this.engine
        .request('analyzeRun', { runId })
        .then((analysis) => {
          if (this.runs.setAnalysis(runId, analysis)) this.tree().refresh(runId);
          return { analysis };
        })
        .catch((err: unknown) => {
          this.log.warn(`could not analyze ${runId}: ${describeError(err)}`);
          return { why: `could not analyze the run: ${describeError(err)}` };
        })
        .finally(() => this.pending.delete(runId));
      this.pending.set(runId, p);
    }
    return p;
  }
}
