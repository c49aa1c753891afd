// Switchyard: Run Experiment — a built-in grid or a grid file, steps or minutes per run, seeds per
// entry, a confirmation with the number of runs and the estimated time one after the other and two side by
// side (one core each), then the engine's experiment runner (engine/experiments) with one progress
// notification; Cancel stops it resumable. Also Resume Experiment, for an interrupted one.
import * as vscode from 'vscode';
import type { ExperimentSummary } from '../../engine/experiments/experimentSchema';
import { BUILT_IN_GRIDS } from '../../engine/experiments/grid';
import { PRESETS, type PresetName } from '../../engine/model/config';
import type { ExperimentPlan } from '../../engine/protocol';
import { TRAINING_PRESETS } from '../../engine/train/runConfig';
import { describeError } from '../engine/engineManager';
import type { Switchyard } from '../context';
import { lossText } from '../runs/runsModel';

/** What the picks decide; a test passes it to skip them (`confirmed` skips the confirmation too). */
export interface ExperimentChoice {
  /** A built-in grid's name, or a grid file's name with `entries`. */
  name: string;
  entries?: unknown[];
  preset?: string;
  /** The base config of every run: { model, training }. */
  config?: Record<string, unknown>;
  steps?: number;
  minutes?: number;
  corpus?: string;
  /** Runs per grid entry, each with its own seed (absent: one). */
  seeds?: number;
  /** Runs side by side (absent: one after the other). */
  parallel?: number;
  confirmed?: boolean;
}

/** Two runs side by side use both cores: one wasm thread each. */
const SIDE_BY_SIDE = 2;

/** The presets offered, with what the README's study found on each (base needs an accelerator). */
const EXPERIMENT_PRESETS: { preset: PresetName; found: string }[] = [
  { preset: 'mini64', found: 'the experts grid puts every Switch model ahead of dense here (README, Experiments)' },
  { preset: 'mini', found: 'the quickest: the routing mechanics show; Switch ties with dense' },
  { preset: 'tiny', found: 'what Start Training trains first' },
  { preset: 'small', found: 'hours a run on two cores' },
];

/** Seeds per entry offered: at this scale a seed alone moves validation cross-entropy by up to 0.14 (README). */
const SEED_CHOICES = [1, 2, 3, 5];

/** Stopping waits for the current step and its checkpoint. */
const STOP_TIMEOUT_MS = 120_000;

export async function runExperiment(sy: Switchyard, given?: ExperimentChoice): Promise<ExperimentSummary | undefined> {
  const choice = given ?? (await pickExperiment());
  if (!choice) return undefined;
  const { confirmed, ...params } = choice;
  try {
    const plan = await sy.engine.request('planExperiment', params);
    if (!confirmed) {
      // The tensorflow backend uses every core for one run already.
      const sideBySide = plan.runs.length > 1 && sy.engine.state.backend !== 'tensorflow' ? await sy.engine.request('planExperiment', { ...params, parallel: SIDE_BY_SIDE }) : undefined;
      const parallel = await confirm(choice, plan, sideBySide);
      if (!parallel) return undefined;
      params.parallel = parallel > 1 ? parallel : undefined;
    }
    const started = await sy.engine.request('startExperiment', params);
    sy.runs.applyExperiment(started);
    await sy.refreshRuns();
    showProgress(sy, started);
    return started;
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not run the experiment: ${describeError(err)}`);
    return undefined;
  }
}

export async function resumeExperiment(sy: Switchyard, arg: unknown): Promise<ExperimentSummary | undefined> {
  const id = experimentIdOf(arg);
  if (!id) return undefined;
  try {
    const resumed = await sy.engine.request('resumeExperiment', { id });
    sy.runs.applyExperiment(resumed);
    await sy.refreshRuns();
    showProgress(sy, resumed);
    return resumed;
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not resume experiment ${id}: ${describeError(err)}`);
    return undefined;
  }
}

export async function stopExperiment(sy: Switchyard, arg?: unknown): Promise<ExperimentSummary | undefined> {
  try {
    return await sy.engine.request('stopExperiment', experimentIdOf(arg) ? { id: experimentIdOf(arg) } : {}, STOP_TIMEOUT_MS);
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not stop the experiment: ${describeError(err)}`);
    return undefined;
  }
}

/** An experiment id from a command's argument: an id or an Experiments tree node. */
export function experimentIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && 'experimentId' in arg && typeof arg.experimentId === 'string') return arg.experimentId;
  return undefined;
}

function formatSeconds(s: number): string {
  return s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

const estimate = (plan: ExperimentPlan) => (plan.seconds === null ? 'time unknown' : `about ${formatSeconds(plan.seconds)}`);

/** The number of runs side by side the user chose (1: one after the other), or undefined. */
async function confirm(choice: ExperimentChoice, plan: ExperimentPlan, sideBySide: ExperimentPlan | undefined): Promise<number | undefined> {
  const budget = choice.minutes !== undefined ? `${choice.minutes} min` : choice.steps !== undefined ? `${choice.steps} steps` : "the preset's steps";
  const entries = [...new Set(plan.runs.map((r) => r.entry))];
  const seeds = [...new Set(plan.runs.map((r) => r.seed))];
  const runs = seeds.length > 1 ? `${entries.join(', ')}, each with seeds ${seeds.join(', ')}` : entries.join(', ');
  const what = `Run experiment ${choice.name}${choice.preset ? ` on ${choice.preset}` : ''}: ${plan.runs.length} runs (${runs}), ${budget} each.`;
  if (!sideBySide) {
    const ok = await vscode.window.showInformationMessage(`${what} Estimated ${estimate(plan)}.`, { modal: true, detail: plan.basis }, 'Run');
    return ok === 'Run' ? 1 : undefined;
  }
  const [two, one] = [`Run ${SIDE_BY_SIDE} at a Time`, 'Run One after the Other'];
  const picked = await vscode.window.showInformationMessage(
    `${what} One after the other: ${estimate(plan)}; ${SIDE_BY_SIDE} side by side, one core each: ${estimate(sideBySide)}. The results are the same either way.`,
    { modal: true, detail: sideBySide.basis },
    two,
    one,
  );
  return picked === two ? SIDE_BY_SIDE : picked === one ? 1 : undefined;
}

/** One notification for the whole experiment: each run training and its step; Cancel stops it, resumable. */
export function showProgress(sy: Switchyard, started: ExperimentSummary): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Switchyard: experiment ${started.name}`, cancellable: true },
    (progress, cancel) =>
      new Promise<void>((done) => {
        let current = started;
        let reported = 0;
        /** Per run training (side by side: more than one), its share of its steps done and its line. */
        const training = new Map<string, { share: number; line: string }>();
        const report = () => {
          const finished = current.runs.filter((r) => r.state === 'completed' || r.state === 'diverged').length;
          const shares = [...training.values()].reduce((sum, t) => sum + t.share, 0);
          const pct = (100 * (finished + shares)) / Math.max(1, current.runs.length);
          const running = current.runs.flatMap((r, i) => (r.state === 'running' ? [`run ${i + 1}/${current.runs.length}`] : []));
          const message = training.size ? [...training.values()].map((t) => t.line).join('; ') : running.join(', ');
          progress.report({ increment: Math.max(0, pct - reported), message });
          reported = Math.max(reported, pct);
        };
        const sub = sy.engine.onEvent((e) => {
          if (e.event === 'experiment' && e.data.id === started.id) {
            current = e.data;
            if (e.data.state !== 'running') return finish();
            for (const id of training.keys()) if (!current.runs.some((r) => r.runId === id && r.state === 'running')) training.delete(id);
            return report();
          }
          if (e.event !== 'step') return;
          const index = current.runs.findIndex((r) => r.runId === e.runId);
          if (index < 0) return;
          const steps = 'steps' in current.budget ? current.budget.steps : 0;
          const line = `run ${index + 1}/${current.runs.length} ${current.runs[index].name} · step ${e.data.step}${steps ? `/${steps}` : ''}${lossText({ loss: e.data.loss })}`;
          training.set(e.runId, { share: steps ? Math.min(1, e.data.step / steps) : 0, line });
          report();
        });
        const stateSub = sy.engine.onDidChangeState((s) => s.state !== 'running' && finish());
        const cancelSub = cancel.onCancellationRequested(() => void stopExperiment(sy, started.id));
        function finish() {
          sub.dispose();
          stateSub.dispose();
          cancelSub.dispose();
          done();
        }
      }),
  );
}

/** Five steps: each stays open when focus moves (to read a grid file, or a view that took focus), until Escape. */
async function pickExperiment(): Promise<ExperimentChoice | undefined> {
  const grid = await vscode.window.showQuickPick(
    [
      ...Object.entries(BUILT_IN_GRIDS).map(([name, g]) => ({ label: name, description: `${g.entries.length} runs`, detail: g.mirrors })),
      { label: 'Grid file…', description: 'a JSON list of config overrides', detail: 'e.g. [{"name": "cf1", "model": {"capacityFactor": 1}}, …]' },
    ],
    { title: 'Switchyard: Run Experiment (1/5) grid', ignoreFocusOut: true },
  );
  if (!grid) return undefined;
  let name = grid.label;
  let entries: unknown[] | undefined;
  if (grid.label === 'Grid file…') {
    const [file] = (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Grid file': ['json'] }, title: 'Grid file' })) ?? [];
    if (!file) return undefined;
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      void vscode.window.showErrorMessage(`Switchyard: ${file.fsPath} is not valid JSON: ${(err as Error).message}`);
      return undefined;
    }
    if (!Array.isArray(parsed)) {
      void vscode.window.showErrorMessage(`Switchyard: ${file.fsPath} must hold a JSON list of config overrides`);
      return undefined;
    }
    name = file.path.split('/').pop() ?? 'grid.json';
    entries = parsed;
  }
  const preset = await vscode.window.showQuickPick(
    EXPERIMENT_PRESETS.map(({ preset, found }) => {
      const [m, t] = [PRESETS[preset], TRAINING_PRESETS[preset]];
      return { label: preset, preset, description: `d=${m.dModel}, ${m.numLayers}+${m.numDecoderLayers} layers · ${t.batchSize} sequences of ${t.inputLength} a step · ${t.steps} steps`, detail: found };
    }),
    { title: 'Switchyard: Run Experiment (2/5) preset', ignoreFocusOut: true },
  );
  if (!preset) return undefined;
  const kind = await vscode.window.showQuickPick(
    [
      { label: 'Steps', description: 'the same number of steps per run (equal steps)' },
      { label: 'Minutes', description: 'the same training time per run (equal time)' },
    ],
    { title: 'Switchyard: Run Experiment (3/5) budget per run', ignoreFocusOut: true },
  );
  if (!kind) return undefined;
  const value = await vscode.window.showInputBox({
    title: `Switchyard: Run Experiment (4/5) ${kind.label.toLowerCase()} per run`,
    ignoreFocusOut: true,
    value: kind.label === 'Steps' ? String(TRAINING_PRESETS[preset.preset].steps) : '5',
    validateInput: (v) => (Number(v) > 0 && (kind.label === 'Minutes' || Number.isInteger(Number(v))) ? null : `a positive ${kind.label === 'Steps' ? 'whole ' : ''}number`),
  });
  if (!value) return undefined;
  const seeds = await vscode.window.showQuickPick(
    SEED_CHOICES.map((n) => ({
      label: n === 1 ? '1 seed' : `${n} seeds`,
      seeds: n,
      description: n === 1 ? 'one run per entry' : `${n} runs per entry: the mean and range of each`,
      detail: n === 1 ? undefined : 'Results per entry over its seeds, and each entry against the first, seed by seed',
    })),
    { title: 'Switchyard: Run Experiment (5/5) seeds per entry', ignoreFocusOut: true },
  );
  if (!seeds) return undefined;
  return {
    name,
    ...(entries ? { entries } : {}),
    preset: preset.preset,
    ...(kind.label === 'Steps' ? { steps: Number(value) } : { minutes: Number(value) }),
    ...(seeds.seeds > 1 ? { seeds: seeds.seeds } : {}),
  };
}
