// The status bar item: the engine's state, and while a run trains its step, cross-entropy and tokens/s.
// Clicking it opens the dashboard.
import * as vscode from 'vscode';
import type { EngineEvent } from '../engine/protocol';
import type { EngineInfo } from './engine/engineManager';
import { lossText } from './runs/runsModel';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('switchyard.status', vscode.StatusBarAlignment.Left, 50);
  private engine: EngineInfo = { state: 'stopped' };
  /** Each run training and its last step's line (an experiment's runs side by side: more than one). */
  private readonly training = new Map<string, { step: number; line: string }>();
  /** How the last run to end ended, shown when none trains. */
  private ended = '';

  constructor() {
    this.item.name = 'Switchyard';
    this.item.command = 'switchyard.openDashboard';
    this.render();
    this.item.show();
  }

  setEngine(info: EngineInfo): void {
    this.engine = info;
    if (info.state !== 'running') {
      this.training.clear();
      this.ended = '';
    }
    this.render();
  }

  onEvent(e: EngineEvent): void {
    if (e.event === 'step') {
      const d = e.data;
      const speed = d.tokensPerSecond === undefined ? '' : ` · ${Math.round(d.tokensPerSecond)} tok/s`;
      this.training.set(e.runId, { step: d.step, line: `step ${d.step}${lossText(d)}${speed}` });
    } else if (e.event === 'state' && e.data.state !== 'running') {
      this.training.delete(e.runId);
      this.ended = `${e.data.state} at step ${e.data.step}`;
    } else return;
    this.render();
  }

  /** The text shown, for tests. */
  get text(): string {
    return this.item.text;
  }

  /** One run: its step line; runs side by side: their steps; none: how the last one ended. */
  private trainingText(): string {
    const runs = [...this.training.values()];
    if (runs.length > 1) return `${runs.length} runs training · steps ${runs.map((r) => r.step).join(', ')}`;
    return runs[0]?.line ?? this.ended;
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
