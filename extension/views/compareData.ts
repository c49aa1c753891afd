// What a Compare view shows, read from the engine: the selected runs (an experiment's, or runs picked
// in the Runs view), their results (engine/experiments/results.ts, from every step record, so the
// numbers are those of results.md) and their curves (step records thinned by the engine).
import { entriesTable, experimentResults, overTrainingTable, resultsMarkdown, resultsTable, trainingClock, type RecordedRun, type RunOutcome } from '../../engine/experiments/results';
import type { CompareInbound, CompareSelection, RunSummary } from '../../engine/protocol';
import type { StepMetrics } from '../../engine/train/metrics';
import type { EngineManager } from '../engine/engineManager';

/** The most step records read per run for the results: every one for the runs this tool trains here. */
const MAX_POINTS = 100_000;
/** Step records per run sent to the view's charts. */
const CHART_POINTS = 2_000;

export interface Comparison {
  title: string;
  /** The results as Markdown: the table of results.md (what Export Markdown writes). */
  markdown: string;
  init: Extract<CompareInbound, { type: 'init' }>;
}

/** A user's mistake (too few runs, an unknown experiment): shown as is. */
export class CompareError extends Error {}

export async function loadComparison(engine: EngineManager, selection: CompareSelection): Promise<Comparison> {
  const { runs: summaries } = await engine.request('listRuns', {});
  const byId = new Map(summaries.map((r) => [r.id, r]));
  let title: string;
  let picked: { name: string; entry?: string; seed?: number; runId: string; state: RunOutcome }[];
  if ('experimentId' in selection) {
    const { experiments } = await engine.request('listExperiments', {});
    const experiment = experiments.find((e) => e.id === selection.experimentId);
    if (!experiment) throw new CompareError(`there is no experiment ${selection.experimentId} in the runs folder`);
    title = `Experiment ${experiment.name} (${experiment.id})`;
    picked = experiment.runs.flatMap((r) => (r.runId ? [{ name: r.name, entry: r.entry, seed: r.seed, runId: r.runId, state: r.state }] : []));
  } else {
    title = `Runs ${selection.runIds.join(', ')}`;
    picked = selection.runIds.map((runId) => ({ name: runId, runId, state: byId.get(runId)?.status?.state === 'completed' ? 'completed' : 'running' }));
  }
  if (picked.length < 2) throw new CompareError('select two or more runs to compare (Ctrl/Cmd-click in the Runs view), or an experiment with started runs.');
  const missing = picked.filter((r) => !byId.has(r.runId)).map((r) => r.runId);
  if (missing.length) throw new CompareError(`no run ${missing.join(', ')} in the runs folder`);

  const recorded: RecordedRun[] = await Promise.all(picked.map(async (r) => ({ ...r, records: (await engine.request('getMetrics', { runId: r.runId, maxPoints: MAX_POINTS })).records })));
  const results = experimentResults(recorded);
  const runs = await Promise.all(
    recorded.map(async (r, i) => {
      const charted = await engine.request('getMetrics', { runId: picked[i].runId, maxPoints: CHART_POINTS });
      const clock = trainingClock(r.records.filter((x): x is StepMetrics => x.type === 'step'));
      const steps = [...new Set(charted.records.map((x) => x.step))].filter((s) => clock.has(s));
      return {
        name: r.name,
        ...(r.entry !== undefined && r.seed !== undefined ? { entry: r.entry, seed: r.seed } : {}),
        run: byId.get(picked[i].runId) as RunSummary,
        history: charted.records,
        totalSteps: charted.totalSteps,
        clock: steps.map((s) => [s, clock.get(s) as number] as [number, number]),
      };
    }),
  );
  const entries = entriesTable(results);
  const overTraining = overTrainingTable(results);
  const init: Comparison['init'] = { type: 'init', selection, title, runs, table: resultsTable(results), ...(entries ? { entries } : {}), ...(overTraining ? { overTraining } : {}) };
  return { title, markdown: resultsMarkdown(title, results), init };
}
