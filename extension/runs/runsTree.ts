// The Runs view: runs -> their sparse layers -> their experts, refreshed from live events.
import * as vscode from 'vscode';
import { expertDescription, layerDescription, lossText, type RunsModel } from './runsModel';
import { describeSpecialisation } from './specialisationText';

export type RunsNode =
  | { kind: 'run'; runId: string }
  | { kind: 'layer'; runId: string; layer: string }
  | { kind: 'expert'; runId: string; layer: string; index: number }
  | { kind: 'experiments'; runId?: undefined }
  | { kind: 'experiment'; experimentId: string; runId?: undefined }
  /** A run of an experiment's grid: `runId` once it has started. */
  | { kind: 'experimentRun'; experimentId: string; index: number; runId?: string };

function nodeKey(node: RunsNode): string {
  if (node.kind === 'experiments') return 'experiments';
  if (node.kind === 'experiment') return `experiment:${node.experimentId}`;
  if (node.kind === 'experimentRun') return `xrun:${node.experimentId}:${node.index}`;
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
    if (!node) {
      const runs = this.model.list().map((r) => this.node({ kind: 'run', runId: r.id }));
      return this.model.experiments().length ? [this.node({ kind: 'experiments' }), ...runs] : runs;
    }
    if (node.kind === 'experiments') return this.model.experiments().map((e) => this.node({ kind: 'experiment', experimentId: e.id }));
    if (node.kind === 'experiment') {
      const runs = this.model.experiment(node.experimentId)?.runs ?? [];
      return runs.map((r, index) => {
        const n = this.node({ kind: 'experimentRun', experimentId: node.experimentId, index });
        if (r.runId) n.runId = r.runId;
        return n;
      });
    }
    if (node.kind === 'experimentRun' || node.runId === undefined) return [];
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
    for (const [key, node] of this.nodes) if (node.runId === runId && node.kind !== 'experimentRun') this.nodes.delete(key);
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'experiments' || node.kind === 'experiment' || node.kind === 'experimentRun') return experimentItem(this.model, node, nodeKey(node));
    const run = this.model.get(node.runId);
    if (!run) return new vscode.TreeItem('(gone)');
    if (node.kind === 'run') {
      const item = new vscode.TreeItem(run.id, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = nodeKey(node);
      const progress = `step ${run.step}${run.steps ? `/${run.steps}` : ''}${lossText(run)}`;
      item.description = run.importedFrom
        ? `imported · ${run.router} ×${run.numExperts} · ${run.importedFrom}`
        : `${run.external ? 'external · ' : ''}${run.preset} · ${run.router} ×${run.numExperts} · ${progress}`;
      // An imported or external run's icon says so; an external run's context value hides pause, stop, resume and delete.
      item.iconPath = new vscode.ThemeIcon(run.importedFrom ? 'cloud-download' : run.external ? 'remote-explorer' : (STATE_ICONS[run.state] ?? 'circle-outline'));
      item.contextValue = run.external ? `run.external.${run.state}` : `run.${run.state}`;
      const state = run.importedFrom ? `imported from ${run.importedFrom} (inference only)` : `${run.state}${run.message ? `: ${run.message}` : ''}`;
      const replicas = run.dataParallel ? [`data-parallel: ${run.dataParallel} replicas (worker threads)`] : [];
      item.tooltip = [`${run.id}`, ...(run.external ? [`external, read-only: ${run.external}`] : []), state, ...replicas, ...run.alerts.map((a) => `⚠ ${a.message}`)].join('\n');
      item.command = { command: 'switchyard.openRun', title: 'Open Run', arguments: [run.id] };
      return item;
    }
    const layer = run.layers.find((l) => l.layer === node.layer);
    if (node.kind === 'layer') {
      const item = new vscode.TreeItem(node.layer, layer ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = nodeKey(node);
      item.description = layer ? layerDescription(layer) : 'no steps yet';
      const alerts = run.alerts.filter((a) => a.layer === node.layer);
      item.iconPath = alerts.length ? WARNING : new vscode.ThemeIcon('layers');
      // Router health at the latest step (what the record has: older records and other producers log less).
      const health = layer
        ? [
            layer.overflowRate === undefined ? '' : `overflow ${(100 * layer.overflowRate).toFixed(1)}%`,
            layer.normalizedEntropy === undefined ? '' : `normalised entropy ${layer.normalizedEntropy.toFixed(2)}`,
            layer.maxVio === undefined ? '' : `MaxVio ${layer.maxVio.toFixed(2)} ((max − mean) / mean tokens per expert)`,
            layer.activeFraction === undefined ? '' : `${(100 * layer.activeFraction).toFixed(0)}% of the experts took tokens`,
          ]
        : [];
      const tooltip = [...health, ...alerts.map((a) => `⚠ ${a.message} (since step ${a.step})`)].filter(Boolean).join('\n');
      if (tooltip) item.tooltip = tooltip;
      item.contextValue = 'layer';
      return item;
    }
    const i = node.index;
    const item = new vscode.TreeItem(`expert ${i}`);
    item.id = nodeKey(node);
    if (layer && i < layer.routed.length) Object.assign(item, expertDescription(layer, i));
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

const EXPERIMENT_ICONS: Record<string, string> = { running: 'sync~spin', interrupted: 'debug-pause', completed: 'pass', pending: 'circle-outline', diverged: 'error' };

/** The Experiments group, an experiment (its state and progress), and a run of its grid. */
function experimentItem(model: RunsModel, node: Extract<RunsNode, { kind: 'experiments' | 'experiment' | 'experimentRun' }>, id: string): vscode.TreeItem {
  if (node.kind === 'experiments') {
    const item = new vscode.TreeItem('Experiments', vscode.TreeItemCollapsibleState.Expanded);
    item.id = id;
    item.description = `${model.experiments().length}`;
    item.iconPath = new vscode.ThemeIcon('beaker');
    item.contextValue = 'experiments';
    return item;
  }
  const e = model.experiment(node.experimentId);
  if (!e) return new vscode.TreeItem('(gone)');
  if (node.kind === 'experiment') {
    const item = new vscode.TreeItem(e.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = id;
    const done = e.runs.filter((r) => r.state === 'completed' || r.state === 'diverged').length;
    const budget = 'steps' in e.budget ? `${e.budget.steps} steps` : `${e.budget.minutes} min`;
    item.description = `${e.state} · ${done}/${e.runs.length} runs${e.seeds ? ` · ${e.seeds} seeds` : ''} · ${budget} each${e.parallel ? ` · ${e.parallel} at a time` : ''}`;
    item.tooltip = `${e.id}\n${e.state}${e.state === 'interrupted' ? ': Resume Experiment carries on where it stopped' : ''}`;
    item.iconPath = new vscode.ThemeIcon(EXPERIMENT_ICONS[e.state] ?? 'beaker');
    item.contextValue = `experiment.${e.state}`;
    return item;
  }
  const entry = e.runs[node.index];
  const run = entry?.runId ? model.get(entry.runId) : undefined;
  const item = new vscode.TreeItem(entry?.name ?? '(gone)');
  item.id = id;
  // A run the experiment records as training, in an experiment that no longer runs, was cut off there.
  const state = entry?.state === 'running' && e.state !== 'running' ? 'interrupted' : entry?.state;
  item.description = [state, run ? `step ${run.step}${run.steps ? `/${run.steps}` : ''}${lossText(run)}` : entry?.runId ?? 'not started'].filter(Boolean).join(' · ');
  item.tooltip = entry?.runId ?? 'not started yet';
  item.iconPath = new vscode.ThemeIcon(EXPERIMENT_ICONS[state ?? 'pending']);
  if (run) {
    item.contextValue = `run.${run.state}`;
    item.command = { command: 'switchyard.openRun', title: 'Open Run', arguments: [run.id] };
  }
  return item;
}
