// Switchyard: Open Run Folder…: follows a run folder (or a folder of runs) written by another
// program. Tests pass the path as the argument; a user picks it in a folder dialog.
import * as vscode from 'vscode';
import type { RunFolders } from '../runs/runFolders';

/** Returns the ids of the external runs followed now, or undefined when the dialog was cancelled. */
export async function openRunFolder(folders: RunFolders, arg: unknown): Promise<string[] | undefined> {
  let folder = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : undefined;
  if (!folder) {
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Open Run Folder', title: 'A run folder, or a folder of runs' });
    folder = picked?.[0]?.fsPath;
  }
  if (!folder) return undefined;
  const ids = await folders.open(folder);
  await vscode.commands.executeCommand('switchyard.runs.focus');
  return ids;
}
