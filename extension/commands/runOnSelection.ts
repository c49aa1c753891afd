// Switchyard: Run on Selection — routes the selected text through a run, paints each token in its
// expert's color in the editor, and shows the tokens, drops and sentinel fills in the Routing panel.
import * as vscode from 'vscode';
import type { InferenceResult } from '../../engine/protocol';
import { describeError } from '../engine/engineManager';
import { runIdOf, type Switchyard } from '../context';
import { readSettings } from '../settings';
import { ROUTING_VIEW_ID } from '../views/routingView';
import { HF_TIMEOUT_MS } from './hfProgress';

export async function runOnSelection(sy: Switchyard, arg?: unknown): Promise<InferenceResult | undefined> {
  const editor = vscode.window.activeTextEditor;
  const fail = (message: string) => {
    void vscode.window.showErrorMessage(`Switchyard: ${message}`);
    return undefined;
  };
  if (!editor) return fail('open a text editor and select some text to run the model on.');
  const text = editor.document.getText(editor.selection);
  if (!text.trim()) return fail('the selection is empty: select the text to run the model on.');
  const max = readSettings().maxSelectionChars;
  if (text.length > max) return fail(`the selection is ${text.length} characters long; the limit is ${max} (setting switchyard.inference.maxSelectionChars).`);
  const runId = runIdOf(arg) ?? sy.dashboard.visibleRunId;
  const selectionStart = editor.document.offsetAt(editor.selection.start);
  const version = editor.document.version;
  const show = (result: InferenceResult) => {
    const layer = 0;
    sy.decorations.paint({ editor, result, selectionStart, layer });
    sy.routingView.show(result, layer);
    void vscode.commands.executeCommand(`${ROUTING_VIEW_ID}.focus`, { preserveFocus: true });
  };
  const known = runId ? sy.runs.get(runId) : undefined;
  try {
    if (known && !known.importedFrom) {
      const result = await sy.engine.request('infer', { text, runId: known.id });
      show(result);
      return result;
    }
    // An imported model (or a run not named, which may be one): the routing first, from the encoder
    // alone, shown at once; then the fills, for which an imported model's decoder is read on first
    // use (a minute for switch-base-8 on a small machine: past the usual request timeout).
    const routed = await sy.engine.request('infer', { text, maxTokens: 0, ...(runId ? { runId } : {}) });
    show(routed);
    const full = () => sy.engine.request('infer', { text, runId: routed.runId }, sy.runs.get(routed.runId)?.importedFrom ? HF_TIMEOUT_MS : undefined);
    const result = sy.runs.get(routed.runId)?.importedFrom
      ? await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Switchyard: filling the sentinels' }, full)
      : await full();
    // An edit in between cleared the paint: the routing no longer matches the text.
    if (editor.document.version === version && sy.decorations.current?.result === routed) show(result);
    return result;
  } catch (err) {
    return fail(`could not run the model: ${describeError(err)}`);
  }
}
