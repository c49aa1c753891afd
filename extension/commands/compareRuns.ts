// Compare Runs (Runs tree multi-select) and an experiment's Compare: the experiment results table
// (engine/experiments/results.ts: equal steps, equal time, speed, routing health) of those runs,
// computed from their recorded metrics and opened as Markdown in a new editor.
import * as vscode from 'vscode';
import { experimentResults, resultsMarkdown, type RecordedRun, type RunOutcome } from '../../engine/experiments/results';
import { describeError } from '../engine/engineManager';
import { runIdOf, type Switchyard } from '../context';
import { experimentIdOf } from './runExperiment';

/** The most step records read per run: every one for the runs this tool trains here. */
const MAX_POINTS = 100_000;

/** `arg`: the clicked node, `selected`: the tree's selection, or `{ runIds }` / an experiment id from a test. */
export async function compareRuns(sy: Switchyard, arg: unknown, selected?: unknown): Promise<{ markdown: string } | undefined> {
  const experimentId = experimentIdOf(arg);
  const experiment = experimentId ? sy.runs.experiment(experimentId) : undefined;
  let runs: { name: string; runId: string; state: RunOutcome }[];
  if (experiment) {
    runs = experiment.runs.flatMap((r) => (r.runId ? [{ name: r.name, runId: r.runId, state: r.state }] : []));
  } else {
    const given = arg && typeof arg === 'object' && 'runIds' in arg && Array.isArray(arg.runIds) ? (arg.runIds as unknown[]) : Array.isArray(selected) ? selected : [arg];
    const ids = [...new Set(given.map(runIdOf).filter((id): id is string => id !== undefined))];
    runs = ids.map((runId) => ({ name: runId, runId, state: sy.runs.get(runId)?.state === 'completed' ? 'completed' : 'running' }));
  }
  if (runs.length < 2) {
    void vscode.window.showErrorMessage('Switchyard: select two or more runs to compare (Ctrl/Cmd-click in the Runs view), or an experiment with started runs.');
    return undefined;
  }
  let recorded: RecordedRun[];
  try {
    recorded = await Promise.all(runs.map(async (r) => ({ ...r, records: (await sy.engine.request('getMetrics', { runId: r.runId, maxPoints: MAX_POINTS })).records })));
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not read the runs' metrics: ${describeError(err)}`);
    return undefined;
  }
  const title = experiment ? `Experiment ${experiment.name} (${experiment.id})` : `Runs ${runs.map((r) => r.runId).join(', ')}`;
  const markdown = resultsMarkdown(title, experimentResults(recorded));
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: markdown });
  await vscode.window.showTextDocument(doc, { preview: false });
  return { markdown };
}
