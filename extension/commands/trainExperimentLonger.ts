// Switchyard: Train Experiment Longer… — on an experiment with a budget of steps, a new step count;
// the engine trains every run on to it, the finished ones from their last checkpoint (the learning
// rate's schedule does not depend on a run's length), with the experiment's progress notification.
import * as vscode from 'vscode';
import type { ExperimentSummary } from '../../engine/experiments/experimentSchema';
import { describeError } from '../engine/engineManager';
import type { Switchyard } from '../context';
import { experimentIdOf, showProgress } from './runExperiment';

/** The experiment (an id or its tree node) and, from a test, the steps, which skip the input box. */
export async function trainExperimentLonger(sy: Switchyard, arg: unknown): Promise<ExperimentSummary | undefined> {
  const id = experimentIdOf(arg);
  if (!id) return undefined;
  const experiment = sy.runs.experiment(id);
  if (!experiment) {
    void vscode.window.showErrorMessage(`Switchyard: no experiment ${id} in the Runs view`);
    return undefined;
  }
  if (!('steps' in experiment.budget)) {
    void vscode.window.showErrorMessage(`Switchyard: experiment ${experiment.name} gives each run ${experiment.budget.minutes} minutes; only a budget of steps can be trained longer`);
    return undefined;
  }
  const steps = stepsOf(arg) ?? (await askSteps(experiment.name, experiment.budget.steps));
  if (steps === undefined) return undefined;
  try {
    const longer = await sy.engine.request('resumeExperiment', { id, steps });
    sy.runs.applyExperiment(longer);
    await sy.refreshRuns();
    showProgress(sy, longer);
    return longer;
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not train experiment ${experiment.name} longer: ${describeError(err)}`);
    return undefined;
  }
}

function stepsOf(arg: unknown): number | undefined {
  return arg && typeof arg === 'object' && 'steps' in arg && typeof arg.steps === 'number' ? arg.steps : undefined;
}

async function askSteps(name: string, current: number): Promise<number | undefined> {
  const value = await vscode.window.showInputBox({
    title: `Switchyard: Train ${name} Longer`,
    prompt: `Its runs trained to ${current} steps. Steps per run, from now on; the runs carry on from their last checkpoint.`,
    value: String(current * 2),
    ignoreFocusOut: true,
    validateInput: (v) => (Number.isInteger(Number(v)) && Number(v) > current ? null : `a whole number of steps above ${current}`),
  });
  return value === undefined ? undefined : Number(value);
}
