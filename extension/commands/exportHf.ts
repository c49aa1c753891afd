// Switchyard: Export to Hugging Face… (a run's context menu in the Runs view) — the run's newest
// checkpoint (or an imported model's weights) written by the engine (exportHf) as a folder that
// transformers' from_pretrained loads: config.json, model.safetensors, tokenizer.json, README.md.
import { basename, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { Result } from '../../engine/protocol';
import { describeError } from '../engine/engineManager';
import { runIdOf, type Switchyard } from '../context';
import { HF_TIMEOUT_MS, withHfProgress } from './hfProgress';
import { pickRun } from './runs';

/** arg: a run id or Runs view node (then a save-folder picker), or { runId, folder } (tests, scripts). */
export async function exportHf(sy: Switchyard, arg?: unknown): Promise<Result<'exportHf'> | undefined> {
  const runId = runIdOf(arg) ?? (await pickRun(sy, 'Switchyard: Export to Hugging Face'));
  if (!runId) return undefined;
  const given = typeof arg === 'object' && arg !== null && 'folder' in arg && typeof arg.folder === 'string' ? arg.folder : undefined;
  const folder = given ?? (await pickFolder(runId));
  if (!folder) return undefined;
  const path = resolve(folder);
  try {
    const result = await withHfProgress(sy, 'exportHf', path, `Switchyard: exporting ${runId}`, () =>
      sy.engine.request('exportHf', { runId, folder: path }, HF_TIMEOUT_MS),
    );
    void vscode.window.showInformationMessage(`Switchyard: exported run ${runId} (step ${result.step}) to ${result.folder}`);
    return result;
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not export ${runId}: ${describeError(err).replace(/^exportHf: /, '')}`);
    return undefined;
  }
}

/** A new folder's name, chosen in a save dialog: the export makes it. */
async function pickFolder(runId: string): Promise<string | undefined> {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri;
  const picked = await vscode.window.showSaveDialog({
    title: `Switchyard: Export ${runId} to Hugging Face (a new or empty folder)`,
    saveLabel: 'Export',
    ...(base ? { defaultUri: vscode.Uri.file(join(base.fsPath, `${basename(runId)}-hf`)) } : {}),
  });
  return picked?.fsPath;
}
