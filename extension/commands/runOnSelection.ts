// Switchyard: Run on Selection — routes the selected text through a run, paints each token in its
// expert's color in the editor, and shows the tokens, drops and sentinel fills in the Routing panel.
import * as vscode from 'vscode';
import type { InferenceResult } from '../../engine/protocol';
import { describeError } from '../engine/engineManager';
import { runIdOf, type Switchyard } from '../context';
import { readSettings } from '../settings';
import { ROUTING_VIEW_ID } from '../views/routingView';

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
  let result: InferenceResult;
  try {
    result = await sy.engine.request('infer', { text, ...(runId ? { runId } : {}) });
  } catch (err) {
    return fail(`could not run the model: ${describeError(err)}`);
  }
  const layer = 0;
  sy.decorations.paint({ editor, result, selectionStart: editor.document.offsetAt(editor.selection.start), layer });
  sy.routingView.show(result, layer);
  void vscode.commands.executeCommand(`${ROUTING_VIEW_ID}.focus`, { preserveFocus: true });
  return result;
}
