// Paints a selection's routing onto the editor: each token in its expert's color at the chosen layer,
// dropped tokens struck through with a dashed outline, and a hover with every layer's routing.
// Cleared on an edit of the document or Escape.
import * as vscode from 'vscode';
import type { InferenceResult } from '../../engine/protocol';
import { expertColor, expertTextColor } from '../../webview/shared/expertColors';
import { tokenHover, tokenRanges } from './tokenRanges';

export interface PaintedRouting {
  editor: vscode.TextEditor;
  result: InferenceResult;
  selectionStart: number;
  layer: number;
}

export class RoutingDecorations implements vscode.Disposable {
  private readonly types = new Map<string, vscode.TextEditorDecorationType>();
  private painted: PaintedRouting | null = null;
  private readonly subscription: vscode.Disposable;

  constructor() {
    this.subscription = vscode.workspace.onDidChangeTextDocument((e) => {
      if (this.painted && e.document === this.painted.editor.document && e.contentChanges.length) this.clear();
    });
  }

  get current(): PaintedRouting | null {
    return this.painted;
  }

  /** Paints and returns how many tokens got a decoration. */
  paint(p: PaintedRouting): number {
    this.clear();
    this.painted = p;
    const doc = p.editor.document;
    const layer = p.result.layers[p.layer];
    const byType = new Map<vscode.TextEditorDecorationType, vscode.DecorationOptions[]>();
    const ranges = tokenRanges(p.selectionStart, p.result.tokens);
    for (const r of ranges) {
      const routing = layer?.tokens[r.index];
      const type = this.typeFor(routing ? routing.expert : -1, routing?.dropped ?? false);
      const list = byType.get(type) ?? [];
      list.push({ range: new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.end)), hoverMessage: new vscode.MarkdownString(tokenHover(p.result, r.index)) });
      byType.set(type, list);
    }
    for (const [type, options] of byType) p.editor.setDecorations(type, options);
    void vscode.commands.executeCommand('setContext', 'switchyard.routingShown', true);
    return ranges.length;
  }

  /** Selects and reveals one painted token in its editor (the Routing panel's token click). */
  reveal(index: number): void {
    const p = this.painted;
    const token = p?.result.tokens[index];
    if (!p || !token) return;
    const doc = p.editor.document;
    const range = new vscode.Range(doc.positionAt(p.selectionStart + token.start), doc.positionAt(p.selectionStart + token.end));
    p.editor.selection = new vscode.Selection(range.start, range.end);
    p.editor.revealRange(range);
  }

  clear(): void {
    if (!this.painted) return;
    for (const type of this.types.values()) this.painted.editor.setDecorations(type, []);
    this.painted = null;
    void vscode.commands.executeCommand('setContext', 'switchyard.routingShown', false);
  }

  /** One decoration type per (expert, dropped): the same colors as the Routing panel's. */
  private typeFor(expert: number, dropped: boolean): vscode.TextEditorDecorationType {
    const key = `${expert}/${dropped}`;
    let type = this.types.get(key);
    if (!type) {
      type = vscode.window.createTextEditorDecorationType({
        backgroundColor: expert >= 0 ? expertColor(expert) : undefined,
        color: expert >= 0 ? expertTextColor(expert) : undefined,
        borderRadius: '2px',
        ...(dropped ? { textDecoration: 'line-through', border: '1px dashed', borderColor: new vscode.ThemeColor('editorError.foreground') } : {}),
      });
      this.types.set(key, type);
    }
    return type;
  }

  dispose(): void {
    this.clear();
    this.subscription.dispose();
    for (const t of this.types.values()) t.dispose();
  }
}
