// Open Run (its dashboard) and Delete Run, from the Runs view or the palette.
import * as vscode from 'vscode';
import { describeError } from '../engine/engineManager';
import { runIdOf, type Switchyard } from '../context';

export async function pickRun(sy: Switchyard, title: string): Promise<string | undefined> {
  await sy.refreshRuns();
  const pick = await vscode.window.showQuickPick(
    sy.runs.list().map((r) => ({ label: r.id, description: `${r.preset} · ${r.state} · step ${r.step}` })),
    { title },
  );
  return pick?.label;
}

export async function openRun(sy: Switchyard, arg?: unknown): Promise<{ runId: string | undefined }> {
  const runId = runIdOf(arg) ?? (await pickRun(sy, 'Switchyard: Open Run'));
  return sy.dashboard.show(runId);
}

export async function deleteRun(sy: Switchyard, arg?: unknown): Promise<{ deleted: string } | undefined> {
  const runId = runIdOf(arg) ?? (await pickRun(sy, 'Switchyard: Delete Run'));
  if (!runId) return undefined;
  const confirmed = arg && typeof arg === 'object' && 'confirmed' in arg && arg.confirmed === true;
  if (!confirmed) {
    const ok = await vscode.window.showWarningMessage(`Delete run ${runId} and all its checkpoints?`, { modal: true }, 'Delete');
    if (ok !== 'Delete') return undefined;
  }
  try {
    await sy.engine.request('deleteRun', { runId });
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not delete ${runId}: ${describeError(err)}`);
    return undefined;
  }
  await sy.refreshRuns();
  return { deleted: runId };
}
