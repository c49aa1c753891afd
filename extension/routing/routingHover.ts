// Hovering a painted token in the editor: its token class and what its expert usually takes (the
// run's analysis, fetched from the engine on the first hover). The decorations' own hover lists
// every layer's routing beside it.
import * as vscode from 'vscode';
import type { Analysis } from '../../engine/analysis/analysisSchema';
import { explainToken, explanationMarkdown } from '../../webview/shared/tokenExplanation';
import { expertNotes } from '../runs/specialisationText';
import type { RoutingDecorations } from './decorations';
import { tokenRanges } from './tokenRanges';

export class RoutingHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly decorations: RoutingDecorations,
    private readonly analysisFor: (runId: string) => Promise<{ analysis?: Analysis; why?: string }>,
  ) {}

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    const p = this.decorations.current;
    if (!p || p.editor.document !== doc) return undefined;
    const offset = doc.offsetAt(pos);
    const hit = tokenRanges(p.selectionStart, p.result.tokens).find((r) => offset >= r.start && offset < r.end);
    if (!hit) return undefined;
    const { analysis, why } = await this.analysisFor(p.result.runId);
    const x = explainToken(p.result, hit.index, p.layer, analysis && expertNotes(analysis), why);
    if (!x) return undefined;
    return new vscode.Hover(new vscode.MarkdownString(explanationMarkdown(x)), new vscode.Range(doc.positionAt(hit.start), doc.positionAt(hit.end)));
  }
}
