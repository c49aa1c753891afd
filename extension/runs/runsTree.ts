// The Runs view: runs -> their sparse layers -> their experts, refreshed from live events.
import * as vscode from 'vscode';
import { loadBar, type RunsModel } from './runsModel';

export type RunsNode = { kind: 'run'; runId: string } | { kind: 'layer'; runId: string; layer: string } | { kind: 'expert'; runId: string; layer: string; index: number };

const STATE_ICONS: Record<string, string> = { running: 'sync~spin', paused: 'debug-pause', stopped: 'debug-stop', completed: 'pass', unknown: 'question' };

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(readonly model: RunsModel) {}

  /** Redraws one run (after its event) or everything. */
  refresh(runId?: string): void {
    this.changed.fire(runId ? { kind: 'run', runId } : undefined);
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!node) return this.model.list().map((r) => ({ kind: 'run', runId: r.id }));
    const run = this.model.get(node.runId);
    if (!run) return [];
    if (node.kind === 'run') return run.layerNames.map((layer) => ({ kind: 'layer', runId: run.id, layer }));
    if (node.kind === 'layer') {
      const layer = run.layers.find((l) => l.name === node.layer);
      return (layer?.experts ?? []).map((e) => ({ kind: 'expert', runId: run.id, layer: node.layer, index: e.index }));
    }
    return [];
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    const run = this.model.get(node.runId);
    if (!run) return new vscode.TreeItem('(gone)');
    if (node.kind === 'run') {
      const item = new vscode.TreeItem(run.id, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `run:${run.id}`;
      const loss = run.loss === undefined ? '' : ` · loss ${run.loss.toFixed(3)}`;
      item.description = `${run.preset} · ${run.router} ×${run.numExperts} · step ${run.step}${run.steps ? `/${run.steps}` : ''}${loss}`;
      item.iconPath = new vscode.ThemeIcon(STATE_ICONS[run.state] ?? 'circle-outline');
      item.contextValue = `run.${run.state}`;
      item.tooltip = `${run.id}\n${run.state}${run.message ? `: ${run.message}` : ''}`;
      item.command = { command: 'switchyard.openRun', title: 'Open Run', arguments: [run.id] };
      return item;
    }
    const layer = run.layers.find((l) => l.name === node.layer);
    if (node.kind === 'layer') {
      const item = new vscode.TreeItem(node.layer, layer ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = `layer:${run.id}:${node.layer}`;
      item.description = layer ? `overflow ${(100 * layer.overflowRate).toFixed(1)}% · entropy ${layer.normalizedEntropy.toFixed(2)}` : 'no steps yet';
      item.iconPath = new vscode.ThemeIcon('layers');
      item.contextValue = 'layer';
      return item;
    }
    const e = layer?.experts[node.index];
    const item = new vscode.TreeItem(`expert ${node.index}`);
    item.id = `expert:${run.id}:${node.layer}:${node.index}`;
    if (e) {
      item.description = `${loadBar(e.share)} ${(100 * e.share).toFixed(1)}% · kept ${e.kept} · dropped ${e.dropped}`;
      item.tooltip = `${e.routed} tokens routed, ${e.kept} kept, ${e.dropped} dropped past capacity (${(100 * e.share).toFixed(1)}% of the layer's tokens)`;
    }
    item.iconPath = new vscode.ThemeIcon('circuit-board');
    item.contextValue = 'expert';
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
