// The dashboard: one webview panel showing one run live. It restores after a reload (serializer +
// the webview's own state) and refills its history from the engine. Every message it receives is
// validated against the protocol.
import * as vscode from 'vscode';
import { dashboardOutboundSchema, runEvent, type DashboardInbound, type EngineEvent } from '../../engine/protocol';
import { describeError, type EngineManager } from '../engine/engineManager';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const DASHBOARD_VIEW_TYPE = 'switchyard.dashboard';
/** Step records sent on open, thinned evenly by the engine: an init stays a few MB for long runs. */
const HISTORY_POINTS = 3000;

export class DashboardPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private runId: string | undefined;
  /** Settles when a new panel's webview has said `ready` and got its data (or the panel closed). */
  private firstInit: Promise<void> = Promise.resolve();
  private settleFirstInit = () => {};
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly engine: EngineManager,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
          const runId = (state as { runId?: unknown } | undefined)?.runId;
          this.adopt(panel, typeof runId === 'string' ? runId : undefined);
        },
      }),
      engine.onEvent((e) => this.onEngineEvent(e)),
    );
  }

  /**
   * Opens (or reveals) the dashboard on `runId`, or on the active or newest run. The data goes once:
   * a new webview asks for it with `ready` (as it does when VS Code re-creates a hidden one); an open
   * one gets it here only when it switches runs.
   */
  async show(runId?: string): Promise<{ runId: string | undefined }> {
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'Switchyard Dashboard', vscode.ViewColumn.Active, {
        ...webviewOptions(this.extensionUri),
        retainContextWhenHidden: false,
      });
      this.adopt(panel, runId);
      await this.firstInit;
    } else {
      this.panel.reveal();
      if (runId && runId !== this.runId) {
        this.runId = runId;
        await this.sendInit();
      }
    }
    return { runId: this.runId };
  }

  get visibleRunId(): string | undefined {
    return this.panel ? this.runId : undefined;
  }

  private adopt(panel: vscode.WebviewPanel, runId: string | undefined): void {
    this.panel = panel;
    this.runId = runId;
    this.firstInit = new Promise((resolve) => {
      this.settleFirstInit = resolve;
      setTimeout(resolve, 30_000); // a webview that never says `ready` must not hang the command
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'switchyard.svg');
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, 'dashboard', 'Switchyard Dashboard');
    const subs = [
      panel.webview.onDidReceiveMessage((raw) => void this.onMessage(raw)),
      panel.onDidDispose(() => {
        subs.forEach((d) => d.dispose());
        if (this.panel === panel) this.panel = null;
        this.settleFirstInit();
      }),
    ];
  }

  private async onMessage(raw: unknown): Promise<void> {
    const msg = dashboardOutboundSchema.safeParse(raw);
    if (!msg.success) return this.engine.log.warn(`dashboard: ignored an invalid message: ${JSON.stringify(raw).slice(0, 200)}`);
    if (msg.data.type === 'ready') {
      this.runId ??= msg.data.runId;
      await this.sendInit();
      return this.settleFirstInit();
    }
    if (msg.data.type === 'analyze') return this.analyze(msg.data.runId);
    const command = { pause: 'switchyard.pauseTraining', resume: 'switchyard.resumeTraining', stop: 'switchyard.stopTraining' }[msg.data.command];
    await vscode.commands.executeCommand(command, this.runId);
  }

  /** Sends the run's summary and history (thinned by the engine for long runs). */
  private async sendInit(): Promise<void> {
    try {
      const { runs } = await this.engine.request('listRuns', {});
      const run = runs.find((r) => r.id === this.runId) ?? runs.find((r) => r.active) ?? runs[runs.length - 1];
      if (!run) return this.post({ type: 'empty', message: "No run yet: run 'Switchyard: Start Training'." });
      this.runId = run.id;
      const metrics = await this.engine.request('getMetrics', { runId: run.id, maxPoints: HISTORY_POINTS });
      const history = metrics.records;
      this.post({ type: 'init', run, history, totalSteps: metrics.totalSteps });
    } catch (err) {
      this.post({ type: 'empty', message: `The engine is not available: ${describeError(err)}` });
    }
  }

  /** The engine analyzes the run at its newest checkpoint (cached there per checkpoint set). */
  private async analyze(runId: string): Promise<void> {
    try {
      this.post({ type: 'analysis', runId, analysis: await this.engine.request('analyzeRun', { runId }) });
    } catch (err) {
      this.post({ type: 'analysisError', runId, message: describeError(err) });
    }
  }

  private onEngineEvent(event: EngineEvent): void {
    const e = runEvent(event);
    if (!this.panel || !e) return;
    if (e.event === 'state' && e.data.state === 'running' && e.runId !== this.runId) {
      // A new run started: follow it.
      this.runId = e.runId;
      void this.sendInit();
      return;
    }
    if (e.runId !== this.runId) return;
    this.post(e.event === 'step' ? { type: 'step', runId: e.runId, data: e.data } : e.event === 'validation' ? { type: 'validation', runId: e.runId, data: e.data } : { type: 'state', runId: e.runId, data: e.data });
  }

  private post(message: DashboardInbound): void {
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
