// The status bar item: the engine's state, and while a run trains its step, cross-entropy and tokens/s.
// Clicking it opens the dashboard.
import * as vscode from 'vscode';
import type { EngineEvent } from '../engine/protocol';
import type { EngineInfo } from './engine/engineManager';
import { lossText } from './runs/runsModel';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('switchyard.status', vscode.StatusBarAlignment.Left, 50);
  private engine: EngineInfo = { state: 'stopped' };
  /** The last step's line, or how the last run to end ended. */
  private training = '';
  /** The running experiment's runs training side by side, with each one's last step. */
  private sideBySide = new Map<string, number>();

  constructor() {
    this.item.name = 'Switchyard';
    this.item.command = 'switchyard.openDashboard';
    this.render();
    this.item.show();
  }

  setEngine(info: EngineInfo): void {
    this.engine = info;
    if (info.state !== 'running') {
      this.training = '';
      this.sideBySide.clear();
    }
    this.render();
  }

  onEvent(e: EngineEvent): void {
    if (e.event === 'step') {
      const d = e.data;
      const speed = d.tokensPerSecond === undefined ? '' : ` · ${Math.round(d.tokensPerSecond)} tok/s`;
      this.training = `step ${d.step}${lossText(d)}${speed}`;
      if (this.sideBySide.has(e.runId)) this.sideBySide.set(e.runId, d.step);
    } else if (e.event === 'state' && e.data.state !== 'running') {
      this.training = `${e.data.state} at step ${e.data.step}`;
    } else if (e.event === 'experiment') {
      // Its runs training now: more than one means side by side, whose lines would flip in turn.
      const running = e.data.state === 'running' ? e.data.runs.filter((r) => r.state === 'running' && r.runId).map((r) => r.runId!) : [];
      this.sideBySide = new Map(running.map((id) => [id, this.sideBySide.get(id) ?? 0]));
    } else return;
    this.render();
  }

  /** The text shown, for tests. */
  get text(): string {
    return this.item.text;
  }

  /** Runs side by side: their steps; otherwise the last step's line. */
  private trainingText(): string {
    if (this.sideBySide.size < 2) return this.training;
    return `${this.sideBySide.size} runs training · steps ${[...this.sideBySide.values()].join(', ')}`;
  }

  private render(): void {
    const icon = { stopped: '$(circle-outline)', starting: '$(loading~spin)', running: '$(circuit-board)', crashed: '$(error)' }[this.engine.state];
    const training = this.trainingText();
    this.item.text = `${icon} Switchyard${training ? `: ${training}` : this.engine.state === 'running' ? '' : `: engine ${this.engine.state}`}`;
    this.item.tooltip = [
      `Engine: ${this.engine.state}${this.engine.backend ? ` on ${this.engine.backend}` : ''}${this.engine.where ? `, ${this.engine.where}` : ''}`,
      this.engine.reason ?? '',
      'Click to open the dashboard',
    ]
      .filter(Boolean)
      .join('\n');
    this.item.backgroundColor = this.engine.state === 'crashed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
