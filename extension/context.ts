// The parts of the extension that commands work with, created once in activate().
import type { EngineManager } from './engine/engineManager';
import type { RoutingDecorations } from './routing/decorations';
import type { RunsModel } from './runs/runsModel';
import type { RunsTreeProvider } from './runs/runsTree';
import type { ComparePanel } from './views/comparePanel';
import type { DashboardPanel } from './views/dashboardPanel';
import type { RoutingViewProvider } from './views/routingView';

export interface Switchyard {
  engine: EngineManager;
  runs: RunsModel;
  runsTree: RunsTreeProvider;
  dashboard: DashboardPanel;
  compare: ComparePanel;
  routingView: RoutingViewProvider;
  decorations: RoutingDecorations;
  /** Fetches the run list from the engine into the Runs view. */
  refreshRuns(): Promise<void>;
}

/** A run id from a command's argument: an id, a Runs view node, or nothing (the active run). */
export function runIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && 'runId' in arg && typeof arg.runId === 'string') return arg.runId;
  return undefined;
}
