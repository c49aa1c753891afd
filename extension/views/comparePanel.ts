// The Compare view: one webview panel comparing two or more runs (compareData.ts reads them). It
// restores after a reload (serializer + the webview's own state holds the selection) and exports
// the results table as Markdown and each chart as PNG. Every message it receives is validated.
import { writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { compareOutboundSchema, compareSelectionSchema, type CompareInbound, type CompareSelection } from '../../engine/protocol';
import { describeError, type EngineManager } from '../engine/engineManager';
import { CompareError, loadComparison, type Comparison } from './compareData';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const COMPARE_VIEW_TYPE = 'switchyard.compare';
/** How long a PNG asked of the webview may take. */
const PNG_TIMEOUT_MS = 15_000;

export class ComparePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private selection: CompareSelection | undefined;
  private shown: Comparison | null = null;
  /** Settles when a new panel's webview has said `ready` and got its data (or the panel closed). */
  private firstInit: Promise<void> = Promise.resolve();
  private settleFirstInit = () => {};
  private nextRequest = 1;
  private readonly pngRequests = new Map<number, { resolve: (dataUrl: string) => void; reject: (err: Error) => void }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly engine: EngineManager,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
        // The webview's state holds the selection (its ready message says it too).
        deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) =>
          this.adopt(panel, compareSelectionSchema.safeParse((state as { selection?: unknown } | undefined)?.selection).data),
      }),
    );
  }

  /** Opens (or reveals) the Compare view on `selection`; resolves once it has its data. */
  async show(selection: CompareSelection): Promise<Comparison> {
    const comparison = await loadComparison(this.engine, selection);
    this.selection = selection;
    this.shown = comparison;
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'Switchyard: Compare', vscode.ViewColumn.Active, {
        ...webviewOptions(this.extensionUri),
        retainContextWhenHidden: false,
      });
      this.adopt(panel, selection);
      await this.firstInit;
    } else {
      this.panel.reveal();
      this.post(comparison.init);
    }
    return comparison;
  }

  /** The comparison on screen, if the panel is open. */
  get current(): Comparison | null {
    return this.panel ? this.shown : null;
  }

  /** The results table as Markdown, to `path` or where the save dialog says. Returns the path written. */
  async exportMarkdown(path?: string): Promise<string | undefined> {
    const shown = this.requireShown();
    const target = path ?? (await this.saveTarget('results.md', { Markdown: ['md'] }));
    if (!target) return undefined;
    await writeFile(target, shown.markdown);
    return target;
  }

  /** Chart `chart` (a Compare chart id) as a PNG, to `path` or where the save dialog says. */
  async exportPng(chart: string, path?: string): Promise<string | undefined> {
    this.requireShown();
    const requestId = this.nextRequest++;
    const dataUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`the Compare view did not draw chart ${chart} within ${PNG_TIMEOUT_MS / 1000} s`)), PNG_TIMEOUT_MS);
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.pngRequests.delete(requestId);
        reject(err);
      };
      this.pngRequests.set(requestId, {
        resolve: (d) => {
          clearTimeout(timer);
          this.pngRequests.delete(requestId);
          resolve(d);
        },
        reject: fail,
      });
      this.post({ type: 'requestPng', chart, requestId });
    });
    return this.writePng(chart, dataUrl, path);
  }

  private async writePng(chart: string, dataUrl: string, path?: string): Promise<string | undefined> {
    const target = path ?? (await this.saveTarget(`compare-${chart}.png`, { PNG: ['png'] }));
    if (!target) return undefined;
    await writeFile(target, Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'));
    return target;
  }

  private requireShown(): Comparison {
    if (!this.panel || !this.shown) throw new CompareError('no Compare view is open: run Compare Runs first');
    return this.shown;
  }

  private async saveTarget(name: string, filters: Record<string, string[]>): Promise<string | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const uri = await vscode.window.showSaveDialog({ defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined, filters, title: `Save ${name}` });
    return uri?.fsPath;
  }

  private adopt(panel: vscode.WebviewPanel, selection: CompareSelection | undefined): void {
    this.panel = panel;
    this.selection = selection;
    this.firstInit = new Promise((resolve) => {
      this.settleFirstInit = resolve;
      setTimeout(resolve, 30_000); // a webview that never says `ready` must not hang the command
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'switchyard.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, 'compare', 'Switchyard: Compare', ['dashboard', 'compare']);
    const subs = [
      panel.webview.onDidReceiveMessage((raw) => void this.onMessage(raw)),
      panel.onDidDispose(() => {
        subs.forEach((d) => d.dispose());
        if (this.panel === panel) {
          this.panel = null;
          this.shown = null;
        }
        for (const r of this.pngRequests.values()) r.reject(new Error('the Compare view was closed'));
        this.settleFirstInit();
      }),
    ];
  }

  private async onMessage(raw: unknown): Promise<void> {
    const msg = compareOutboundSchema.safeParse(raw);
    if (!msg.success) return this.engine.log.warn(`compare: ignored an invalid message: ${JSON.stringify(raw).slice(0, 200)}`);
    const m = msg.data;
    try {
      if (m.type === 'ready') {
        this.selection ??= m.selection;
        await this.sendInit();
        return this.settleFirstInit();
      }
      if (m.type === 'pngError') return this.pngRequests.get(m.requestId)?.reject(new Error(m.message));
      if (m.type === 'png') {
        if (m.requestId !== undefined) return this.pngRequests.get(m.requestId)?.resolve(m.dataUrl);
        const saved = await this.writePng(m.chart, m.dataUrl);
        if (saved) void vscode.window.showInformationMessage(`Switchyard: saved ${saved}`);
        return;
      }
      const saved = await this.exportMarkdown();
      if (saved) await vscode.window.showTextDocument(vscode.Uri.file(saved), { preview: false });
    } catch (err) {
      void vscode.window.showErrorMessage(`Switchyard: ${describeError(err)}`);
    }
  }

  /** Sends the comparison on screen (read again from the engine after a reload). */
  private async sendInit(): Promise<void> {
    if (!this.selection) return this.post({ type: 'empty', message: 'Nothing to compare: select two or more runs in the Runs view and run Compare Runs.' });
    try {
      this.shown = this.shown && sameSelection(this.shown.init.selection, this.selection) ? this.shown : await loadComparison(this.engine, this.selection);
      this.post(this.shown.init);
    } catch (err) {
      this.post({ type: 'empty', message: `Cannot compare these runs: ${describeError(err)}` });
    }
  }

  private post(message: CompareInbound): void {
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}

function sameSelection(a: CompareSelection, b: CompareSelection): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
