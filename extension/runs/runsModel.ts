// What the Runs view shows, kept up to date from the engine's events (no polling): each run, its
// sparse layers from the latest step, and their experts. Pure, so that it is tested without VS Code.
import type { Analysis } from '../../engine/analysis/analysisSchema';
import type { ExperimentSummary } from '../../engine/experiments/experimentSchema';
import { runEvent, type EngineEvent, type RunStatus, type RunSummary } from '../../engine/protocol';
import type { Alert } from '../../engine/train/metrics';
import type { LayerRecord } from '../../engine/train/runFormat';

export interface RunView {
  id: string;
  preset: string;
  router: string;
  numExperts: number;
  state: RunStatus['state'] | 'unknown';
  step: number;
  steps: number;
  /** The last training step's cross-entropy, and its total loss (all some producers log). */
  crossEntropy?: number;
  loss?: number;
  message?: string;
  /** Model replicas training side by side (training.dataParallel), when more than one. */
  dataParallel?: number;
  /** Sparse layer names, known before any step arrives. */
  layerNames: string[];
  /** The sparse layers' figures of the latest step event, as the engine sent them (an external producer's may lack some); empty until one arrives. */
  layers: LayerRecord[];
  /** Router-health alerts in force at the latest step event. */
  alerts: Alert[];
  /** An imported model's source folder. */
  importedFrom?: string;
  /** What its experts learned, at its newest checkpoint (fetched when a layer is opened). */
  analysis?: Analysis;
  /** An external run's folder: another program writes it, so it is read-only here. */
  external?: string;
}

export class RunsModel {
  private readonly runs = new Map<string, RunView>();
  private readonly experimentsById = new Map<string, ExperimentSummary>();

  /** Replaces the experiments from a listExperiments answer. */
  setExperiments(list: ExperimentSummary[]): void {
    this.experimentsById.clear();
    for (const e of list) this.experimentsById.set(e.id, e);
  }

  /** An `experiment` event's record: new or updated. */
  applyExperiment(e: ExperimentSummary): void {
    this.experimentsById.set(e.id, e);
  }

  experiment(id: string): ExperimentSummary | undefined {
    return this.experimentsById.get(id);
  }

  /** Newest first. */
  experiments(): ExperimentSummary[] {
    return [...this.experimentsById.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Replaces the list from a listRuns answer, keeping the live layer figures of known runs. */
  setRuns(summaries: RunSummary[]): void {
    const old = new Map(this.runs);
    this.runs.clear();
    for (const s of summaries) {
      const prev = old.get(s.id);
      this.runs.set(s.id, {
        id: s.id,
        preset: s.preset,
        router: s.router,
        numExperts: s.numExperts,
        state: s.status?.state ?? 'unknown',
        step: s.status?.step ?? 0,
        steps: s.status?.steps ?? 0,
        crossEntropy: s.crossEntropy,
        loss: s.loss,
        message: s.status?.message,
        ...(s.status?.dataParallel ? { dataParallel: s.status.dataParallel } : {}),
        layerNames: s.layers,
        ...(s.importedFrom ? { importedFrom: s.importedFrom } : {}),
        layers: prev?.layers ?? [],
        alerts: prev?.alerts ?? [],
        ...(prev?.analysis ? { analysis: prev.analysis } : {}),
        ...(s.external ? { external: s.external } : {}),
      });
    }
  }

  /** Applies an engine event; returns the id of the run it changed, or undefined. */
  apply(event: EngineEvent): string | undefined {
    const e = runEvent(event);
    if (!e) return undefined;
    const run = this.runs.get(e.runId);
    if (!run) return undefined; // a run this list has not loaded yet: the next refresh brings it
    if (e.event === 'step') {
      run.step = e.data.step;
      run.crossEntropy = e.data.crossEntropy;
      run.loss = e.data.loss;
      run.layers = e.data.layers;
      run.alerts = e.data.alerts ?? [];
    } else if (e.event === 'state') {
      run.state = e.data.state;
      run.step = e.data.step;
      run.steps = e.data.steps;
      run.message = e.data.message;
      run.dataParallel = e.data.dataParallel;
    } else {
      return undefined;
    }
    return run.id;
  }

  /** Returns whether the run is listed (an analysis of a run gone since is dropped). */
  setAnalysis(id: string, analysis: Analysis): boolean {
    const run = this.runs.get(id);
    if (run) run.analysis = analysis;
    return run !== undefined;
  }

  has(id: string): boolean {
    return this.runs.has(id);
  }

  get(id: string): RunView | undefined {
    return this.runs.get(id);
  }

  /** Newest first (ids start with a timestamp). */
  list(): RunView[] {
    return [...this.runs.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  }
}

/** A text bar for a share in [0, 1], e.g. `███░░░░░`. */
export function loadBar(share: number, width = 8): string {
  const filled = Math.round(Math.min(1, Math.max(0, share)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** ` · cross-entropy 2.345`, or ` · loss 2.345` when the producer logged only its total loss, or nothing. */
export function lossText(run: Pick<RunView, 'crossEntropy' | 'loss'> | undefined): string {
  if (run?.crossEntropy !== undefined) return ` · cross-entropy ${run.crossEntropy.toFixed(3)}`;
  return run?.loss !== undefined ? ` · loss ${run.loss.toFixed(3)}` : '';
}

/** A sparse layer's row: overflow and entropy where logged; else the load CV its routed counts give. */
export function layerDescription(l: LayerRecord): string {
  const parts = [
    ...(l.overflowRate !== undefined ? [`overflow ${(100 * l.overflowRate).toFixed(1)}%`] : []),
    ...(l.normalizedEntropy !== undefined ? [`entropy ${l.normalizedEntropy.toFixed(2)}`] : []),
  ];
  return (parts.length ? parts : [`load CV ${(l.loadCv ?? 0).toFixed(2)}`]).join(' · ');
}

/** An expert's row: its share of the layer's load, and kept / dropped where the layer has a capacity. */
export function expertDescription(l: LayerRecord, i: number): { description: string; tooltip: string } {
  const total = l.routed.reduce((a, b) => a + b, 0);
  const fraction = l.shares?.[i] ?? (total ? l.routed[i] / total : 0);
  const share = `${(100 * fraction).toFixed(1)}%`;
  const kept = l.kept?.[i];
  if (kept === undefined) {
    return { description: `${loadBar(fraction)} ${share} · routed ${l.routed[i]}`, tooltip: `${l.routed[i]} assignments routed (${share} of the layer's load); no capacity logged` };
  }
  const dropped = l.routed[i] - kept;
  return {
    description: `${loadBar(fraction)} ${share} · kept ${kept} · dropped ${dropped}`,
    tooltip: `${l.routed[i]} assignments routed, ${kept} kept, ${dropped} dropped past capacity (${share} of the layer's load)`,
  };
}
