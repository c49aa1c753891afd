// Switchyard's entry point: wires the engine, views and commands. Nothing starts the engine here;
// the first command or view that needs it does. Every command returns what it did, for tests.
import * as vscode from 'vscode';
import { controlTraining } from './commands/trainingControls';
import { restartEngine } from './commands/restartEngine';
import { exportHf } from './commands/exportHf';
import { openHfModel } from './commands/openHfModel';
import { deleteRun, openRun } from './commands/runs';
import { runOnSelection } from './commands/runOnSelection';
import { resumeExperiment, runExperiment, stopExperiment, type ExperimentChoice } from './commands/runExperiment';
import { trainExperimentLonger } from './commands/trainExperimentLonger';
import { distillRun, finetuneRun } from './commands/startFromRun';
import { compareRuns, exportCompareMarkdown, exportComparePng } from './commands/compareRuns';
import { startTraining, type TrainingChoice } from './commands/startTraining';
import type { Switchyard } from './context';
import { EngineManager } from './engine/engineManager';
import { RoutingDecorations } from './routing/decorations';
import { RoutingHoverProvider } from './routing/routingHover';
import { AlertNotifier } from './runs/alertNotifier';
import { AnalysisLoader } from './runs/analyses';
import { refreshRuns } from './runs/refreshRuns';
import { RunFolders } from './runs/runFolders';
import { openRunFolder } from './commands/openRunFolder';
import { RunsModel } from './runs/runsModel';
import { RunsTreeProvider } from './runs/runsTree';
import { StatusBar } from './statusBar';
import { ComparePanel } from './views/comparePanel';
import { DashboardPanel } from './views/dashboardPanel';
import { ROUTING_VIEW_ID, RoutingViewProvider } from './views/routingView';

let activeEngine: EngineManager | undefined;

/** What activate() returns: the wired parts, for the extension's own tests. */
export type SwitchyardApi = Switchyard & { statusBar: StatusBar };

export function activate(context: vscode.ExtensionContext): SwitchyardApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Switchyard', { log: true });
  const engine = new EngineManager(context, log);
  activeEngine = engine;
  const runs = new RunsModel();
  const analyses = new AnalysisLoader(engine, runs, log, () => runsTree);
  const runsTree = new RunsTreeProvider(runs, (runId) => analyses.want(runId));
  const statusBar = new StatusBar();
  const dashboard = new DashboardPanel(context.extensionUri, engine);
  const compare = new ComparePanel(context.extensionUri, engine);
  const routingView = new RoutingViewProvider(context.extensionUri, log, (runId) => analyses.analysisFor(runId));
  const decorations = new RoutingDecorations();
  const alertNotifier = new AlertNotifier();

  const sy: SwitchyardApi = {
    engine,
    runs,
    runsTree,
    dashboard,
    compare,
    routingView,
    decorations,
    statusBar,
    refreshRuns: () => refreshRuns(engine, runs, runsTree, log),
  };

  const runFolders = new RunFolders(context.workspaceState, engine, () => sy.refreshRuns());
  // A step of a run not listed yet (a new run in a followed folder of runs) brings one refresh.
  let listing: Promise<void> | undefined;
  const refreshOnce = () => (listing ??= sy.refreshRuns().finally(() => (listing = undefined)));

  const tree = vscode.window.createTreeView('switchyard.runs', { treeDataProvider: runsTree, showCollapseAll: true, canSelectMany: true });
  // The Runs view is the first thing that needs the engine: opening it starts it.
  const treeVisible = tree.onDidChangeVisibility((e) => e.visible && void sy.refreshRuns());
  if (tree.visible) void sy.refreshRuns();

  const command = (id: string, f: (...args: unknown[]) => unknown) => vscode.commands.registerCommand(id, f);
  context.subscriptions.push(
    log,
    engine,
    runsTree,
    statusBar,
    dashboard,
    compare,
    routingView,
    decorations,
    tree,
    treeVisible,
    runFolders,
    vscode.window.registerWebviewViewProvider(ROUTING_VIEW_ID, routingView),
    // Only a painted token answers: every document may be painted.
    vscode.languages.registerHoverProvider('*', new RoutingHoverProvider(decorations, (runId) => analyses.analysisFor(runId))),
    engine.onDidChangeState((s) => {
      statusBar.setEngine(s);
      if (s.state === 'crashed' || s.state === 'stopped') runsTree.refresh();
    }),
    engine.onEvent((e) => {
      statusBar.onEvent(e);
      alertNotifier.onEvent(e);
      if (e.event === 'log') return log[e.level](e.message);
      if (e.event === 'experiment') {
        runs.applyExperiment(e.data);
        return runsTree.refresh();
      }
      const changed = runs.apply(e);
      if (changed) runsTree.refresh(changed);
      else if (e.event === 'state' || e.event === 'step') void refreshOnce(); // a run this view has not listed yet
    }),
    routingView.onDidSelectLayer((layer) => {
      const p = decorations.current;
      if (!p) return;
      decorations.paint({ ...p, layer });
      routingView.show(p.result, layer);
    }),
    routingView.onDidRevealToken((index) => decorations.reveal(index)),
    command('switchyard.startTraining', (choice) => startTraining(sy, choice as TrainingChoice | undefined)),
    command('switchyard.pauseTraining', (arg) => controlTraining(sy, 'pause', arg)),
    command('switchyard.resumeTraining', (arg) => controlTraining(sy, 'resume', arg)),
    command('switchyard.stopTraining', (arg) => controlTraining(sy, 'stop', arg)),
    command('switchyard.openDashboard', (arg) => openRun(sy, arg ?? dashboard.visibleRunId ?? runs.list()[0]?.id)),
    command('switchyard.openRun', (arg) => openRun(sy, arg)),
    command('switchyard.openRunFolder', (arg) => openRunFolder(runFolders, arg)),
    command('switchyard.deleteRun', (arg) => deleteRun(sy, arg)),
    command('switchyard.openHfModel', (arg) => openHfModel(sy, arg)),
    command('switchyard.exportHf', (arg) => exportHf(sy, arg)),
    command('switchyard.runExperiment', (choice) => runExperiment(sy, choice as ExperimentChoice | undefined)),
    command('switchyard.resumeExperiment', (arg) => resumeExperiment(sy, arg)),
    command('switchyard.stopExperiment', (arg) => stopExperiment(sy, arg)),
    command('switchyard.trainExperimentLonger', (arg) => trainExperimentLonger(sy, arg)),
    command('switchyard.compareRuns', (arg, selected) => compareRuns(sy, arg, selected)),
    command('switchyard.exportCompareMarkdown', (arg) => exportCompareMarkdown(sy, arg)),
    command('switchyard.exportComparePng', (arg) => exportComparePng(sy, arg)),
    command('switchyard.distillRun', (arg) => distillRun(sy, arg)),
    command('switchyard.finetuneRun', (arg) => finetuneRun(sy, arg)),
    command('switchyard.runOnSelection', (arg) => runOnSelection(sy, arg)),
    command('switchyard.clearRouting', () => {
      decorations.clear();
      routingView.clear('Cleared. Select text and run Switchyard: Run on Selection.');
      return true;
    }),
    command('switchyard.refreshRuns', async () => {
      await sy.refreshRuns();
      return runs.list().map((r) => r.id);
    }),
    command('switchyard.restartEngine', () => restartEngine(sy)),
    command('switchyard.showEngineLog', () => {
      log.show();
      return true;
    }),
  );
  log.info(`activated in ${(performance.now() - started).toFixed(1)} ms`);
  return sy;
}

/** VS Code waits for this: the engine checkpoints any run before it exits. */
export function deactivate(): Promise<void> | undefined {
  return activeEngine?.stop();
}
