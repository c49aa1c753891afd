// The Compare view's model, DOM-free: each run's history (the dashboard's RunHistory), its training
// clock, how it is drawn (its colour and dash), and the series its curves draw: cross-entropy by step
// and by training time, and the mean over its sparse layers of overflow, router entropy and load CV.
import type { CompareInbound } from '../../engine/protocol';
import { RunHistory, type LayerRow, type Point } from '../dashboard/history';
import { seriesDashIndex } from '../shared/palette';

export type CompareInit = Extract<CompareInbound, { type: 'init' }>;

export interface ComparedRun {
  /** The grid entry's name, or the run id. */
  name: string;
  /** With several seeds per entry: the run's entry and seed. */
  entry?: string;
  seed?: number;
  history: RunHistory;
  /** step -> training seconds (the sum of step times, as the results' equal-time column). */
  clock: Map<number, number>;
}

export function comparedRuns(init: CompareInit): ComparedRun[] {
  return init.runs.map((r) => ({
    name: r.name,
    ...(r.entry !== undefined && r.seed !== undefined ? { entry: r.entry, seed: r.seed } : {}),
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
    // Over the layers that logged the figure (a producer's record may lack it).
    const values = r.layers.flatMap((l) => (l?.[key] === undefined ? [] : [l[key]]));
    return values.length ? [{ x: r.step, y: values.reduce((s, v) => s + v, 0) / values.length }] : [];
  });
}

/** Every sparse layer name of the runs, in the order they first appear. */
export function layerNames(runs: readonly ComparedRun[]): string[] {
  return [...new Set(runs.flatMap((r) => r.history.layers))];
}

/** Indexes into the palette's series colours and DASHES. */
export interface RunStyle {
  color: number;
  dash: number;
}

/** One legend line: a colour and the runs drawn in it, each with its dash. */
export interface LegendGroup {
  name: string;
  color: number;
  runs: { run: ComparedRun; dash: number }[];
}

/** Runs of an experiment with seeds: each names its grid entry. */
export function seededRuns(runs: readonly ComparedRun[]): boolean {
  return runs.every((r) => r.entry !== undefined);
}

/**
 * Runs of an experiment with seeds share their entry's colour, each seed of the entry its own dash,
 * so that an entry's spread over seeds reads as one colour; other runs get a colour each (a dash
 * past the sixth colour), as the dashboard's series do.
 */
export function legendGroups(runs: readonly ComparedRun[], dashCount: number): LegendGroup[] {
  if (!seededRuns(runs)) {
    return runs.map((run, i) => ({ name: run.name, color: i, runs: [{ run, dash: seriesDashIndex(i, dashCount) }] }));
  }
  const groups = new Map<string, LegendGroup>();
  for (const run of runs) {
    const entry = run.entry as string;
    const group = groups.get(entry) ?? { name: entry, color: groups.size, runs: [] };
    group.runs.push({ run, dash: group.runs.length % dashCount });
    groups.set(entry, group);
  }
  return [...groups.values()];
}

/** Each run's style, in the runs' order. */
export function runStyles(runs: readonly ComparedRun[], dashCount: number): RunStyle[] {
  const style = new Map<ComparedRun, RunStyle>();
  for (const g of legendGroups(runs, dashCount)) for (const { run, dash } of g.runs) style.set(run, { color: g.color, dash });
  return runs.map((r) => style.get(r) as RunStyle);
}
