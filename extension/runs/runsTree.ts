// The Runs view: runs -> their sparse layers -> their experts, refreshed from live events.
import * as vscode from 'vscode';
import { loadBar, type RunsModel } from './runsModel';
import { describeSpecialisation } from './specialisationText';

export type RunsNode = { kind: 'run'; runId: string } | { kind: 'layer'; runId: string; layer: string } | { kind: 'expert'; runId: string; layer: string; index: number };

function nodeKey(node: RunsNode): string {
  if (node.kind === 'run') return `run:${node.runId}`;
  if (node.kind === 'layer') return `layer:${node.runId}:${node.layer}`;
  return `expert:${node.runId}:${node.layer}:${node.index}`;
}

const WARNING = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));

const STATE_ICONS: Record<string, string> = { running: 'sync~spin', paused: 'debug-pause', stopped: 'debug-stop', completed: 'pass', unknown: 'question' };

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  // VS Code finds the element to repaint by object identity: one node object per key, for good.
  private readonly nodes = new Map<string, RunsNode>();

  /** wantAnalysis: called when a layer of a run is opened, to fetch what its experts learned. */
  constructor(
    readonly model: RunsModel,
    private readonly wantAnalysis: (runId: string) => void = () => {},
  ) {}

  /** Redraws one run (after its event) or everything (a run that is new or gone changes the root). */
  refresh(runId?: string): void {
    if (runId !== undefined && !this.model.get(runId)) this.forget(runId);
    const node = runId === undefined ? undefined : this.nodes.get(nodeKey({ kind: 'run', runId }));
    this.changed.fire(node);
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!node) return this.model.list().map((r) => this.node({ kind: 'run', runId: r.id }));
    const run = this.model.get(node.runId);
    if (!run) return [];
    if (node.kind === 'run') return run.layerNames.map((layer) => this.node({ kind: 'layer', runId: run.id, layer }));
    if (node.kind === 'layer') {
      this.wantAnalysis(run.id);
      const layer = run.layers.find((l) => l.layer === node.layer);
      return (layer?.routed ?? []).map((_, index) => this.node({ kind: 'expert', runId: run.id, layer: node.layer, index }));
    }
    return [];
  }

  private node(wanted: RunsNode): RunsNode {
    const key = nodeKey(wanted);
    let node = this.nodes.get(key);
    if (!node) this.nodes.set(key, (node = wanted));
    return node;
  }

  /** Drops the nodes of a run that is gone (deleted). */
  private forget(runId: string): void {
    for (const [key, node] of this.nodes) if (node.runId === runId) this.nodes.delete(key);
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    const run = this.model.get(node.runId);
    if (!run) return new vscode.TreeItem('(gone)');
    if (node.kind === 'run') {
      const item = new vscode.TreeItem(run.id, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = nodeKey(node);
      const ce = run.crossEntropy === undefined ? '' : ` · cross-entropy ${run.crossEntropy.toFixed(3)}`;
      const progress = `step ${run.step}${run.steps ? `/${run.steps}` : ''}${ce}`;
      item.description = run.importedFrom
        ? `imported · ${run.router} ×${run.numExperts} · ${run.importedFrom}`
        : `${run.external ? 'external · ' : ''}${run.preset} · ${run.router} ×${run.numExperts} · ${progress}`;
      // An imported or external run's icon says so; an external run's context value hides pause, stop, resume and delete.
      item.iconPath = new vscode.ThemeIcon(run.importedFrom ? 'cloud-download' : run.external ? 'remote-explorer' : (STATE_ICONS[run.state] ?? 'circle-outline'));
      item.contextValue = run.external ? `run.external.${run.state}` : `run.${run.state}`;
      const state = run.importedFrom ? `imported from ${run.importedFrom} (inference only)` : `${run.state}${run.message ? `: ${run.message}` : ''}`;
      item.tooltip = [`${run.id}`, ...(run.external ? [`external, read-only: ${run.external}`] : []), state, ...run.alerts.map((a) => `⚠ ${a.message}`)].join('\n');
      item.command = { command: 'switchyard.openRun', title: 'Open Run', arguments: [run.id] };
      return item;
    }
    const layer = run.layers.find((l) => l.layer === node.layer);
    if (node.kind === 'layer') {
      const item = new vscode.TreeItem(node.layer, layer ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = nodeKey(node);
      item.description = layer ? `overflow ${(100 * layer.overflowRate).toFixed(1)}% · entropy ${layer.normalizedEntropy.toFixed(2)}` : 'no steps yet';
      const alerts = run.alerts.filter((a) => a.layer === node.layer);
      item.iconPath = alerts.length ? WARNING : new vscode.ThemeIcon('layers');
      if (alerts.length) item.tooltip = alerts.map((a) => `⚠ ${a.message} (since step ${a.step})`).join('\n');
      item.contextValue = 'layer';
      return item;
    }
    const i = node.index;
    const item = new vscode.TreeItem(`expert ${i}`);
    item.id = nodeKey(node);
    if (layer && i < layer.routed.length) {
      const share = `${(100 * layer.shares[i]).toFixed(1)}%`;
      const dropped = layer.routed[i] - layer.kept[i];
      item.description = `${loadBar(layer.shares[i])} ${share} · kept ${layer.kept[i]} · dropped ${dropped}`;
      item.tooltip = `${layer.routed[i]} assignments routed, ${layer.kept[i]} kept, ${dropped} dropped past capacity (${share} of the layer's load)`;
    }
    const learned = run.analysis?.layers.find((l) => l.layer === node.layer)?.specialisation.experts[i];
    if (learned && run.analysis) {
      const { description, tooltip } = describeSpecialisation(learned, run.analysis);
      item.description = `${item.description ?? ''} · ${description}`;
      item.tooltip = `${item.tooltip ?? ''}\n${tooltip}`;
    }
    const alerts = run.alerts.filter((a) => a.layer === node.layer && a.expert === i);
    item.iconPath = alerts.length ? WARNING : new vscode.ThemeIcon('circuit-board');
    if (alerts.length) item.tooltip = [item.tooltip, ...alerts.map((a) => `⚠ ${a.message} (since step ${a.step})`)].filter(Boolean).join('\n');
    item.contextValue = 'expert';
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
