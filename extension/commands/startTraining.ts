// Switchyard: Start Training — quick picks for preset, corpus, router, experts and capacity factor,
// a confirmation, then a run in the engine with a cancellable progress notification.
import * as vscode from 'vscode';
import { runEvent, type RunSummary } from '../../engine/protocol';
import { describeError } from '../engine/engineManager';
import type { Switchyard } from '../context';
import { lossText } from '../runs/runsModel';
import { readSettings } from '../settings';

/** Everything the picks decide; a test (or another extension) may pass it to skip them. */
export interface TrainingChoice {
  preset: string;
  /** 'brown', a folder or a glob. */
  corpus: string;
  router: 'switch' | 'top2' | 'dense';
  numExperts: number;
  capacityFactor: number;
  steps?: number;
  /** More of the run config, merged under the picks: { model, training }. */
  config?: { model?: Record<string, unknown>; training?: Record<string, unknown> };
}

export async function startTraining(sy: Switchyard, given?: TrainingChoice): Promise<RunSummary | undefined> {
  const choice = given ?? (await pickTraining());
  if (!choice) return undefined;
  let run: RunSummary;
  try {
    run = await sy.engine.request('startTraining', {
      preset: choice.preset,
      corpus: choice.corpus,
      ...(choice.steps ? { steps: choice.steps } : {}),
      config: {
        model: { ...choice.config?.model, router: choice.router, numExperts: choice.numExperts, capacityFactor: choice.capacityFactor },
        training: { alerts: readSettings().alerts, ...choice.config?.training },
      },
    });
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not start training: ${describeError(err)}`);
    return undefined;
  }
  await sy.refreshRuns();
  showTrainingProgress(sy, run);
  return run;
}

/** A notification that follows the run; Cancel stops it (with a checkpoint). */
export function showTrainingProgress(sy: Switchyard, run: RunSummary): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Switchyard: training ${run.id}`, cancellable: true },
    (progress, cancel) =>
      new Promise<void>((done) => {
        let reported = 0;
        const sub = sy.engine.onEvent((event) => {
          const e = runEvent(event);
          if (e?.runId !== run.id) return;
          if (e.event === 'step') {
            const total = run.status?.steps || 1;
            const pct = (100 * e.data.step) / total;
            progress.report({ increment: pct - reported, message: `step ${e.data.step}/${total}${lossText({ loss: e.data.loss })} · ${Math.round(e.data.tokensPerSecond ?? 0)} tok/s` });
            reported = pct;
          } else if (e.event === 'state' && (e.data.state === 'stopped' || e.data.state === 'completed')) finish();
          else if (e.event === 'state' && e.data.state === 'paused' && e.data.message) void vscode.window.showWarningMessage(`Switchyard: ${run.id} paused: ${e.data.message}`);
        });
        const stateSub = sy.engine.onDidChangeState((s) => s.state !== 'running' && finish());
        const cancelSub = cancel.onCancellationRequested(() => void sy.engine.request('stop', { runId: run.id }).catch(() => undefined));
        function finish() {
          sub.dispose();
          stateSub.dispose();
          cancelSub.dispose();
          done();
        }
      }),
  );
}

async function pickTraining(): Promise<TrainingChoice | undefined> {
  const settings = readSettings();
  const presets = ['tiny', 'small', 'base'].sort((a, b) => (a === settings.defaultPreset ? -1 : b === settings.defaultPreset ? 1 : 0));
  const preset = await vscode.window.showQuickPick(
    presets.map((p) => ({ label: p, description: { tiny: '2+2 layers, d=128, 8 experts: minutes on a laptop', small: '4+4 layers, d=256, 16 experts', base: 'switch-base-8: needs a real accelerator' }[p] })),
    { title: 'Switchyard: Start Training (1/5) preset', placeHolder: 'Model size' },
  );
  if (!preset) return undefined;
  const corpusPick = await vscode.window.showQuickPick(
    [
      { label: 'Brown corpus', description: 'a million words of edited English, with part-of-speech tags', value: 'brown' },
      ...(vscode.workspace.workspaceFolders ?? []).map((f) => ({ label: `Folder: ${f.name}`, description: f.uri.fsPath, value: f.uri.fsPath })),
      { label: 'Files matching a glob…', description: 'e.g. docs/**/*.md', value: 'glob' },
    ],
    { title: 'Switchyard: Start Training (2/5) corpus' },
  );
  if (!corpusPick) return undefined;
  let corpus = corpusPick.value;
  if (corpus === 'glob') {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const glob = await vscode.window.showInputBox({ title: 'Text files to train on', prompt: root ? `relative to ${root}` : 'an absolute glob', value: '**/*.md', validateInput: (v) => (v.trim() ? null : 'a glob, e.g. **/*.txt') });
    if (!glob) return undefined;
    corpus = root && !glob.startsWith('/') ? `${root}/${glob}` : glob;
  }
  const router = await vscode.window.showQuickPick(
    [
      { label: 'switch', description: 'top-1 routing (Switch Transformer)' },
      { label: 'top2', description: 'top-2 routing (Shazeer et al. MoE)' },
      { label: 'dense', description: 'no router: a T5 feed-forward of equal FLOPs (baseline)' },
    ],
    { title: 'Switchyard: Start Training (3/5) router' },
  );
  if (!router) return undefined;
  const experts = await vscode.window.showQuickPick(['4', '8', '16', '32', '64'], { title: 'Switchyard: Start Training (4/5) experts per sparse layer', placeHolder: '8' });
  if (!experts) return undefined;
  const factor = await vscode.window.showQuickPick(['1.0', '1.25', '1.5', '2.0'], { title: 'Switchyard: Start Training (5/5) capacity factor (train)', placeHolder: '1.25: the paper default' });
  if (!factor) return undefined;
  const choice: TrainingChoice = { preset: preset.label, corpus, router: router.label as TrainingChoice['router'], numExperts: Number(experts), capacityFactor: Number(factor) };
  const ok = await vscode.window.showInformationMessage(
    `Train ${choice.preset} with ${choice.router} routing over ${choice.numExperts} experts (capacity factor ${choice.capacityFactor}) on ${corpusPick.label}?`,
    { modal: true },
    'Start',
  );
  return ok === 'Start' ? choice : undefined;
}
