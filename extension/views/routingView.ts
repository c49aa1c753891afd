// The Routing side panel: the tokens of the last Run on Selection, colored by expert at a chosen
// layer, dropped tokens marked, sentinel fills listed; hovering a token says what its expert usually
// takes (the run's analysis, sent as expert notes after the tokens).
import * as vscode from 'vscode';
import type { Analysis } from '../../engine/analysis/analysisSchema';
import { routingOutboundSchema, type InferenceResult, type RoutingInbound } from '../../engine/protocol';
import { expertNotes } from '../runs/specialisationText';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const ROUTING_VIEW_ID = 'switchyard.routing';

type ExpertsMessage = Extract<RoutingInbound, { type: 'experts' }>;

export class RoutingViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | null = null;
  private last: RoutingInbound = { type: 'empty', message: 'Select text in an editor and run Switchyard: Run on Selection.' };
  /** The notes of the shown result's run, once fetched. */
  private experts: ExpertsMessage | null = null;
  private readonly layerEmitter = new vscode.EventEmitter<number>();
  private readonly revealEmitter = new vscode.EventEmitter<number>();
  /** The user chose another layer in the panel. */
  readonly onDidSelectLayer = this.layerEmitter.event;
  /** The user pressed Enter on token i. */
  readonly onDidRevealToken = this.revealEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly analysisFor: (runId: string) => Promise<{ analysis?: Analysis; why?: string }>,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'routing', 'Switchyard Routing');
    view.webview.onDidReceiveMessage((raw) => {
      const msg = routingOutboundSchema.safeParse(raw);
      if (!msg.success) return this.log.warn(`routing view: ignored an invalid message: ${JSON.stringify(raw).slice(0, 200)}`);
      if (msg.data.type === 'ready') {
        void view.webview.postMessage(this.last);
        if (this.experts && this.last.type === 'routing') void view.webview.postMessage(this.experts);
      } else if (msg.data.type === 'selectLayer') this.layerEmitter.fire(msg.data.layer);
      else this.revealEmitter.fire(msg.data.index);
    });
    view.onDidDispose(() => (this.view = null));
  }

  show(result: InferenceResult, layer: number): void {
    this.post({ type: 'routing', result, layer });
    if (this.experts?.runId === result.runId && this.experts.notes) return void this.view?.webview.postMessage(this.experts);
    void this.fetchNotes(result.runId);
  }

  clear(message: string): void {
    this.post({ type: 'empty', message });
  }

  private async fetchNotes(runId: string): Promise<void> {
    const { analysis, why } = await this.analysisFor(runId);
    const message: ExpertsMessage = analysis ? { type: 'experts', runId, notes: expertNotes(analysis) } : { type: 'experts', runId, why: why ?? 'no analysis of this run yet' };
    this.experts = message;
    // Only for the result still shown (another Run on Selection may have come since).
    if (this.last.type === 'routing' && this.last.result.runId === runId) void this.view?.webview.postMessage(message);
  }

  private post(message: RoutingInbound): void {
    this.last = message;
    void this.view?.webview.postMessage(message);
  }

  dispose(): void {
    this.layerEmitter.dispose();
    this.revealEmitter.dispose();
  }
}
