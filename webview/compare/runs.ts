// The Compare view's model, DOM-free: each run's history (the dashboard's RunHistory), its training
// clock, and the series its curves draw: cross-entropy by step and by training time, and the mean
// over its sparse layers of overflow, router entropy and load CV.
import type { CompareInbound } from '../../engine/protocol';
import { RunHistory, type LayerRow, type Point } from '../dashboard/history';

export type CompareInit = Extract<CompareInbound, { type: 'init' }>;

export interface ComparedRun {
  /** The grid entry's name, or the run id. */
  name: string;
  history: RunHistory;
  /** step -> training seconds (the sum of step times, as the results' equal-time column). */
  clock: Map<number, number>;
}

export function comparedRuns(init: CompareInit): ComparedRun[] {
  return init.runs.map((r) => ({
    name: r.name,
    history: RunHistory.fromInit(r.run, r.history, r.totalSteps),
    clock: new Map([[0, 0], ...r.clock]),
  }));
}

/** The points re-placed at their step's training time; points whose step has no time are left out. */
export function byTime(points: readonly Point[], clock: Map<number, number>): Point[] {
  return points.flatMap((p) => {
    const x = clock.get(p.x);
    return x === undefined ? [] : [{ x, y: p.y }];
  });
}

/** Per step, the mean over the run's sparse layers of one of their figures; none for a dense run. */
export function layerMean(h: RunHistory, key: keyof Omit<LayerRow, 'shares'>): Point[] {
  return h.rows.flatMap((r) => {
    const layers = r.layers.filter((l): l is LayerRow => l !== undefined);
    return layers.length ? [{ x: r.step, y: layers.reduce((s, l) => s + l[key], 0) / layers.length }] : [];
  });
}

/** Every sparse layer name of the runs, in the order they first appear. */
export function layerNames(runs: readonly ComparedRun[]): string[] {
  return [...new Set(runs.flatMap((r) => r.history.layers))];
}
