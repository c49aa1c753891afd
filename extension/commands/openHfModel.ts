// Switchyard: Open Hugging Face Model… — a model folder from the hub (config.json, tokenizer.json,
// model.safetensors or pytorch_model.bin) becomes an inference-only run in the Runs view, read by the
// engine (importHf) with its progress in a notification. A bad folder is one error message, no run.
import { basename, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { Result } from '../../engine/protocol';
import { describeError } from '../engine/engineManager';
import type { Switchyard } from '../context';
import { HF_TIMEOUT_MS, withHfProgress } from './hfProgress';

/** arg: a folder path (tests, scripts) or { folder, name }; otherwise a folder picker. */
export async function openHfModel(sy: Switchyard, arg?: unknown): Promise<Result<'importHf'> | undefined> {
  const given = typeof arg === 'string' ? { folder: arg } : isFolderArg(arg) ? arg : undefined;
  const folder = given?.folder ?? (await pickFolder());
  if (!folder) return undefined;
  const path = resolve(folder);
  try {
    const result = await withHfProgress(sy, 'importHf', path, `Switchyard: opening ${basename(path)}`, () =>
      sy.engine.request('importHf', { folder: path, ...(given?.name ? { name: given.name } : {}) }, HF_TIMEOUT_MS),
    );
    await sy.refreshRuns();
    void vscode.window.showInformationMessage(
      `Switchyard: opened ${basename(path)} (${result.parameters.toLocaleString('en')} parameters, from ${result.file}) as run ${result.run.id}. Select text and run Switchyard: Run on Selection.`,
    );
    return result;
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not open the model in ${path}: ${describeError(err).replace(/^importHf: /, '')}`);
    return undefined;
  }
}

async function pickFolder(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: 'Switchyard: Open Hugging Face Model',
    openLabel: 'Open Model',
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
  });
  return picked?.[0]?.fsPath;
}

function isFolderArg(arg: unknown): arg is { folder: string; name?: string } {
  return typeof arg === 'object' && arg !== null && 'folder' in arg && typeof arg.folder === 'string';
}
