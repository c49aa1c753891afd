// Pause / Resume / Stop Training, on the run given (a Runs view item) or the one training.
import * as vscode from 'vscode';
import type { RunStatus } from '../../engine/protocol';
import { describeError } from '../engine/engineManager';
import { runIdOf, type Switchyard } from '../context';

export type Control = 'pause' | 'resume' | 'stop';

export async function controlTraining(sy: Switchyard, control: Control, arg?: unknown): Promise<RunStatus | undefined> {
  try {
    const runId = runIdOf(arg);
    const status = await sy.engine.request(control, runId ? { runId } : {});
    if (sy.runs.apply({ type: 'event', event: 'state', runId: status.id, data: status })) sy.runsTree.refresh(status.id);
    return status;
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not ${control} training: ${describeError(err)}`);
    return undefined;
  }
}
