// Distill and Fine-tune…, on a run's context menu: a new run started from that one by the engine
// (engine/train/startFrom.ts), followed like any run.
import * as vscode from 'vscode';
import type { RunSummary } from '../../engine/protocol';
import { describeError } from '../engine/engineManager';
import { runIdOf, type Switchyard } from '../context';
import { showTrainingProgress } from './startTraining';

/** A test passes `{ runId, steps }` (and `corpus` for finetune) to skip the prompts. */
export interface StartFromChoice {
  runId: string;
  steps?: number;
  corpus?: string;
}

export async function distillRun(sy: Switchyard, arg: unknown): Promise<RunSummary | undefined> {
  const teacher = runIdOf(arg);
  if (!teacher) return undefined;
  const steps = (arg as StartFromChoice).steps ?? (await askSteps('Distill: student steps'));
  if (steps === null) return undefined;
  return start(sy, 'distill', () => sy.engine.request('distill', { teacher, ...(steps ? { steps } : {}) }));
}

export async function finetuneRun(sy: Switchyard, arg: unknown): Promise<RunSummary | undefined> {
  const from = runIdOf(arg);
  if (!from) return undefined;
  const given = arg as StartFromChoice;
  let corpus = given.corpus;
  if (!corpus) {
    const [folder] = (await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: false, title: 'Fine-tune on: a text file or a folder of text files' })) ?? [];
    if (!folder) return undefined;
    corpus = folder.fsPath;
  }
  const steps = given.steps ?? (await askSteps('Fine-tune: steps'));
  if (steps === null) return undefined;
  return start(sy, 'fine-tune', () => sy.engine.request('finetune', { from, corpus, ...(steps ? { steps } : {}) }));
}

async function start(sy: Switchyard, what: string, request: () => Promise<RunSummary>): Promise<RunSummary | undefined> {
  let run: RunSummary;
  try {
    run = await request();
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not ${what}: ${describeError(err)}`);
    return undefined;
  }
  await sy.refreshRuns();
  showTrainingProgress(sy, run);
  return run;
}

/** Undefined: the source's own steps; null: cancelled. */
async function askSteps(title: string): Promise<number | undefined | null> {
  const v = await vscode.window.showInputBox({ title, prompt: "empty: the source run's steps", validateInput: (s) => (!s.trim() || (Number.isInteger(Number(s)) && Number(s) > 0) ? null : 'a positive whole number') });
  if (v === undefined) return null;
  return v.trim() ? Number(v) : undefined;
}
