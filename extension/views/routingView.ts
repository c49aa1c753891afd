// The Routing side panel: the tokens of the last Run on Selection, colored by expert at a chosen
// layer, dropped tokens marked, sentinel fills listed.
import * as vscode from 'vscode';
import { routingOutboundSchema, type InferenceResult, type RoutingInbound } from '../../engine/protocol';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const ROUTING_VIEW_ID = 'switchyard.routing';

export class RoutingViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | null = null;
  private last: RoutingInbound = { type: 'empty', message: 'Select text in an editor and run Switchyard: Run on Selection.' };
  private readonly layerEmitter = new vscode.EventEmitter<number>();
  private readonly revealEmitter = new vscode.EventEmitter<number>();
  /** The user chose another layer in the panel. */
  readonly onDidSelectLayer = this.layerEmitter.event;
  /** The user pressed Enter on token i. */
  readonly onDidRevealToken = this.revealEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'routing', 'Switchyard Routing');
    view.webview.onDidReceiveMessage((raw) => {
      const msg = routingOutboundSchema.safeParse(raw);
      if (!msg.success) return this.log.warn(`routing view: ignored an invalid message: ${JSON.stringify(raw).slice(0, 200)}`);
      if (msg.data.type === 'ready') void view.webview.postMessage(this.last);
      else if (msg.data.type === 'selectLayer') this.layerEmitter.fire(msg.data.layer);
      else this.revealEmitter.fire(msg.data.index);
    });
    view.onDidDispose(() => (this.view = null));
  }

  show(result: InferenceResult, layer: number): void {
    this.post({ type: 'routing', result, layer });
  }

  clear(message: string): void {
    this.post({ type: 'empty', message });
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
