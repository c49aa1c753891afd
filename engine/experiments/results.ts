// An experiment's results, computed from its runs' recorded metrics only: validation cross-entropy
// at equal steps and at equal training time (the paper shows both), its mean over the last quarter
// of training (one validation is noisy at small scale), speed, and routing health.
// Any producer's records (the run format's): a figure a run did not log is null in its row.
import type { RunRecord, StepRecord } from '../train/runFormat';

export type RunOutcome = 'pending' | 'running' | 'completed' | 'diverged';

export interface RecordedRun {
  name: string;
  /** With several seeds per grid entry: the entry and this run's seed. */
  entry?: string;
  seed?: number;
  runId: string | null;
  state: RunOutcome;
  records: RunRecord[];
}

export interface RunResult {
  name: string;
  runId: string | null;
  state: RunOutcome;
  steps: number;
  /** Validation cross-entropy at the common final step (null: this run has no validation there). */
  crossEntropyAtStep: number | null;
  /** Validation cross-entropy at the common training time, interpolated between validations. */
  crossEntropyAtTime: number | null;
  /** Mean validation cross-entropy over the common validation steps of the late window. */
  crossEntropyLate: number | null;
  stepsPerSecond: number | null;
  tokensPerSecond: number | null;
  /** Over steps and sparse layers; null for a dense run. */
  overflowMean: number | null;
  overflowMax: number | null;
  loadCvMean: number | null;
  /** Normalized router entropy (1 = uniform), mean over the layers of the last step records. */
  routerEntropy: number | null;
  diverged: boolean;
}

export interface ExperimentResults {
  /** The last step at which every run that did not diverge has a validation. */
  commonStep: number | null;
  /** Training seconds that every run that did not diverge reached with a validation. */
  commonSeconds: number | null;
  /**
   * The common validation steps in the last quarter of training (from 0.75 × commonStep to
   * commonStep): a single validation swings by a few hundredths between neighbouring steps at the
   * scale this machine trains, more than some differences a grid is run to find.
   */
  lateSteps: number[];
  runs: RunResult[];
  /** Each grid entry over its seeds; null when each entry ran once. */
  entries: EntryResult[] | null;
  /** Each entry's (or run's) gap to the first over the quarters of training; null with one entry. */
  overTraining: OverTraining | null;
}

/**
 * Whether a gap opens or closes as the runs train on: validation cross-entropy minus the first
 * entry's (the first run's when each ran once), seed by seed, averaged over the common validations
 * in each quarter of training. The last quarter is the late window, so its gap is `lateVsFirst`.
 */
export interface OverTraining {
  /** The first entry or run, which the gaps are to. */
  baseline: string;
  /** The common validation steps of each quarter (step 0, the untrained model, left out). */
  windows: number[][];
  /** One per entry or run after the first: per window, the gap over its seeds (null: none has one). */
  rows: { name: string; gaps: (Spread | null)[] }[];
}

/** One figure over an entry's seeds. */
export interface Spread {
  mean: number;
  min: number;
  max: number;
  n: number;
}

export interface EntryResult {
  entry: string;
  /** The seeds whose run has a validation at the common final step. */
  seeds: number[];
  crossEntropyAtStep: Spread | null;
  crossEntropyAtTime: Spread | null;
  crossEntropyLate: Spread | null;
  /**
   * The late mean minus the first entry's, seed by seed: both runs of a seed train on the same
   * batches in the same order, so what the data order moves in both cancels. Null for the first entry.
   */
  lateVsFirst: Spread | null;
  diverged: number;
}

/** Entropy is read over this many final step records, so one noisy step does not decide it. */
const ENTROPY_WINDOW = 10;
/** The late window starts at this share of the common final step. */
const LATE_WINDOW = 0.75;

/**
 * Cumulative training seconds after each step: the sum of step times (tokens / tokens per second).
 * Validation, checkpoints and any time a killed run lay still are not counted.
 * -> [step, seconds], starting at [0, 0]; NaN from a step that lacks tokens or tokens per second on.
 */
export function trainingClock(steps: readonly StepRecord[]): Map<number, number> {
  const clock = new Map([[0, 0]]);
  let seconds = 0;
  for (const s of steps) {
    seconds += (s.tokens ?? NaN) / (s.tokensPerSecond ?? NaN);
    clock.set(s.step, seconds);
  }
  return clock;
}

/** y at x on the polyline through points sorted by x; null outside it. */
export function interpolate(points: [number, number][], x: number): number | null {
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i];
    if (x1 === x) return y1;
    if (x1 > x) {
      if (i === 0) return null;
      const [x0, y0] = points[i - 1];
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
  }
  return null;
}

export function experimentResults(runs: RecordedRun[]): ExperimentResults {
  const parts = runs.map((r) => {
    const steps = r.records.filter((x) => x.type === 'step');
    const clock = trainingClock(steps);
    // [step, seconds (NaN: not logged), cross-entropy] per validation, in step order.
    const validations = r.records
      .filter((x) => x.type === 'validation' && clock.has(x.step) && x.crossEntropy !== undefined)
      .map((v) => [v.step, clock.get(v.step) as number, v.crossEntropy as number] as const);
    // step -> cross-entropy; a step validated twice (a resumed run) keeps its first record.
    const crossEntropyAt = new Map<number, number>();
    for (const [step, , ce] of validations) if (!crossEntropyAt.has(step)) crossEntropyAt.set(step, ce);
    return { run: r, steps, clock, validations, crossEntropyAt };
  });
  const healthy = parts.filter((p) => p.run.state !== 'diverged' && p.validations.length > 0);
  const validated = healthy.map((p) => p.crossEntropyAt);
  const common = validated.length ? [...validated[0].keys()].filter((s) => validated.every((v) => v.has(s))) : [];
  const commonStep = common.length ? Math.max(...common) : null;
  const lateSteps = commonStep === null ? [] : common.filter((s) => s >= LATE_WINDOW * commonStep).sort((a, b) => a - b);
  const timed = healthy.map((p) => p.validations[p.validations.length - 1][1]).filter(Number.isFinite);
  const commonSeconds = timed.length ? Math.min(...timed) : null;

  const rows: RunResult[] = parts.map(({ run, steps, clock, validations, crossEntropyAt }) => {
    const seconds = clock.get(steps.at(-1)?.step ?? 0) ?? 0;
    const tokens = steps.reduce((s, x) => s + (x.tokens ?? NaN), 0);
    const layers = steps.flatMap((s) => s.layers);
    const lastLayers = steps.slice(-ENTROPY_WINDOW).flatMap((s) => s.layers);
    const overflow = layers.flatMap((l) => l.overflowRate ?? []);
    return {
      name: run.name,
      runId: run.runId,
      state: run.state,
      steps: steps.at(-1)?.step ?? 0,
      crossEntropyAtStep: commonStep === null ? null : (crossEntropyAt.get(commonStep) ?? null),
      crossEntropyAtTime:
        commonSeconds === null
          ? null
          : interpolate(
              validations.map((v) => [v[1], v[2]]),
              commonSeconds,
            ),
      crossEntropyLate: lateMean(crossEntropyAt, lateSteps),
      stepsPerSecond: seconds > 0 ? steps.length / seconds : null,
      tokensPerSecond: seconds > 0 ? tokens / seconds : null,
      overflowMean: mean(overflow),
      overflowMax: overflow.length ? Math.max(...overflow) : null,
      loadCvMean: mean(layers.flatMap((l) => l.loadCv ?? [])),
      routerEntropy: mean(lastLayers.flatMap((l) => l.normalizedEntropy ?? [])),
      diverged: run.state === 'diverged',
    };
  });
  const windows = commonStep === null ? [] : quarters(common, commonStep);
  return { commonStep, commonSeconds, lateSteps, runs: rows, entries: entryResults(runs, rows), overTraining: overTraining(parts, windows) };
}

/** The common validation steps in each quarter of [0, commonStep]; the last quarter holds commonStep. */
function quarters(common: number[], commonStep: number): number[][] {
  const sorted = common.filter((s) => s > 0).sort((a, b) => a - b);
  const quarter = (s: number) => Math.min(3, Math.floor((4 * s) / commonStep));
  return [0, 1, 2, 3].map((q) => sorted.filter((s) => quarter(s) === q)).filter((w) => w.length > 0);
}

/**
 * `items` (one per run) grouped by grid entry, in grid order, each keyed by its run's seed; a run
 * without entry and seed is a group of its own, under its name and the key undefined.
 */
function bySeed<T>(runs: RecordedRun[], items: T[]): Map<string, Map<number | undefined, T>> {
  const groups = new Map<string, Map<number | undefined, T>>();
  runs.forEach(({ entry, seed, name }, i) => {
    const seeded = entry !== undefined && seed !== undefined;
    const key = seeded ? entry : name;
    groups.set(key, (groups.get(key) ?? new Map()).set(seeded ? seed : undefined, items[i]));
  });
  return groups;
}

/** Each entry (or run) paired seed by seed with the first; a diverged run has no gap. */
function overTraining(parts: { run: RecordedRun; crossEntropyAt: Map<number, number> }[], windows: number[][]): OverTraining | null {
  const groups = bySeed(
    parts.map((p) => p.run),
    parts.map((p) => (p.run.state === 'diverged' ? null : p.crossEntropyAt)),
  );
  if (groups.size < 2 || !windows.length) return null;
  const [[baseline, base], ...rest] = groups;
  return {
    baseline,
    windows,
    rows: rest.map(([name, seeds]) => ({
      name,
      gaps: windows.map((w) =>
        spread(
          [...seeds].flatMap(([seed, ce]) => {
            const first = base.get(seed);
            if (!ce || !first) return [];
            const [own, theirs] = [lateMean(ce, w), lateMean(first, w)];
            return own === null || theirs === null ? [] : [own - theirs];
          }),
        ),
      ),
    })),
  };
}

/** The runs grouped by grid entry, in grid order; null unless the runs name their entries and seeds. */
function entryResults(runs: RecordedRun[], rows: RunResult[]): EntryResult[] | null {
  const seeded = runs.flatMap((run, i) => (run.entry !== undefined && run.seed !== undefined ? [{ run, row: rows[i] }] : []));
  if (!seeded.length) return null;
  const groups = bySeed(
    seeded.map((x) => x.run),
    seeded.map((x) => x.row),
  );
  const [first] = groups.values();
  return [...groups].map(([entry, rowsBySeed], e) => {
    const members = [...rowsBySeed].map(([seed, row]) => ({ seed: seed as number, row }));
    const figure = (f: (r: RunResult) => number | null) => spread(members.flatMap(({ row }) => (row.diverged ? [] : (f(row) ?? []))));
    return {
      entry,
      seeds: members.filter(({ row }) => row.crossEntropyAtStep !== null).map(({ seed }) => seed),
      crossEntropyAtStep: figure((r) => r.crossEntropyAtStep),
      crossEntropyAtTime: figure((r) => r.crossEntropyAtTime),
      crossEntropyLate: figure((r) => r.crossEntropyLate),
      lateVsFirst:
        e === 0
          ? null
          : spread(
              members.flatMap(({ seed, row }) => {
                const base = first.get(seed)?.crossEntropyLate;
                return row.crossEntropyLate === null || base === null || base === undefined ? [] : [row.crossEntropyLate - base];
              }),
            ),
      diverged: members.filter(({ row }) => row.diverged).length,
    };
  });
}

function spread(xs: number[]): Spread | null {
  return xs.length ? { mean: mean(xs) as number, min: Math.min(...xs), max: Math.max(...xs), n: xs.length } : null;
}

/** The results table's header and cells, as shown in results.md and in the editor's Compare view. */
export function resultsTable(results: ExperimentResults): { columns: string[]; rows: string[][] } {
  const { commonStep, commonSeconds } = results;
  const f = (x: number | null, digits: number) => (x === null ? '—' : x.toFixed(digits));
  const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
  const rows = results.runs.map((r) => [
    r.name,
    r.state,
    String(r.steps),
    f(r.crossEntropyAtStep, 3),
    f(r.crossEntropyAtTime, 3),
    f(r.crossEntropyLate, 3),
    f(r.stepsPerSecond, 2),
    f(r.tokensPerSecond, 0),
    pct(r.overflowMean),
    pct(r.overflowMax),
    f(r.loadCvMean, 3),
    f(r.routerEntropy, 3),
    r.diverged ? 'yes' : 'no',
  ]);
  const columns = [
    'run',
    'state',
    'steps',
    `val CE @ step ${commonStep ?? '—'}`,
    `val CE @ ${commonSeconds === null ? '—' : `${commonSeconds.toFixed(1)} s`}`,
    `val CE mean @ ${lateText(results.lateSteps)}`,
    'steps/s',
    'tokens/s',
    'overflow mean',
    'overflow max',
    'load CV',
    'router entropy',
    'diverged',
  ];
  return { columns, rows };
}

/**
 * Each entry over its seeds (null when each ran once): "mean [least, greatest]" of each figure, and
 * the late mean's difference to the first entry, seed by seed.
 */
export function entriesTable(results: ExperimentResults): { columns: string[]; rows: string[][] } | null {
  const { entries, commonStep, commonSeconds } = results;
  if (!entries) return null;
  const seeds = (e: EntryResult) => e.seeds.length;
  const rows = entries.map((e) => [
    e.entry,
    e.seeds.join(', ') || '—',
    spreadText(e.crossEntropyAtStep, seeds(e)),
    spreadText(e.crossEntropyAtTime, seeds(e)),
    spreadText(e.crossEntropyLate, seeds(e)),
    e.lateVsFirst ? spreadText(e.lateVsFirst, seeds(e), true) : '—',
    String(e.diverged),
  ]);
  const columns = [
    'entry',
    'seeds',
    `val CE @ step ${commonStep ?? '—'}`,
    `val CE @ ${commonSeconds === null ? '—' : `${commonSeconds.toFixed(1)} s`}`,
    `val CE mean @ ${lateText(results.lateSteps)}`,
    `late − ${entries[0].entry}, same seed`,
    'diverged',
  ];
  return { columns, rows };
}

/** The gaps of `overTraining` as a table: one row per entry after the first, one column per quarter. */
export function overTrainingTable(results: ExperimentResults): { columns: string[]; rows: string[][] } | null {
  const o = results.overTraining;
  if (!o) return null;
  const seeds = (name: string) => results.entries?.find((e) => e.entry === name)?.seeds.length ?? 1;
  return {
    columns: [`${results.entries ? 'entry' : 'run'} − ${o.baseline}`, ...o.windows.map(lateText)],
    rows: o.rows.map((r) => [r.name, ...r.gaps.map((g) => spreadText(g, seeds(r.name), true))]),
  };
}

/** "4.512 [4.432, 4.571]"; "(2 seeds)" after it when fewer seeds than the entry's have this figure. */
function spreadText(s: Spread | null, seeds: number, signed = false): string {
  if (!s) return '—';
  const f = (x: number) => (signed && x >= 0 ? '+' : '') + x.toFixed(3).replace('-', '−');
  const text = s.n > 1 ? `${f(s.mean)} [${f(s.min)}, ${f(s.max)}]` : f(s.mean);
  return s.n < seeds ? `${text} (${s.n} seeds)` : text;
}

/** The results as a Markdown table, equal steps and equal time side by side. */
/** `notes`: lines under the table's explanation (how the runs were trained, when it matters to read it). */
export function resultsMarkdown(title: string, results: ExperimentResults, notes: string[] = []): string {
  const { commonStep, commonSeconds, lateSteps } = results;
  const entries = entriesTable(results);
  const first = results.entries?.[0]?.entry;
  const gaps = overTrainingTable(results);
  return [
    `# ${title}`,
    '',
    `Validation cross-entropy at equal steps (step ${commonStep ?? '—'}) and at equal training time (${commonSeconds === null ? '—' : `${commonSeconds.toFixed(1)} s`}, interpolated between validations), and its mean over the last quarter of training (validations at ${lateText(lateSteps)}).`,
    'Training time sums the steps only (no validation or checkpoints). Overflow and load CV: mean over steps and sparse layers; entropy: normalized (1 = uniform), over the last step records.',
    ...notes,
    '',
    markdownTable(resultsTable(results)),
    '',
    ...(entries
      ? [
          '## Over seeds',
          '',
          `Each entry's figures over its seeds: mean [least, greatest]. The last figure is the entry's late mean minus ${first}'s, seed by seed: both runs of a seed train on the same batches in the same order, so what the data order moves in both cancels.`,
          '',
          markdownTable(entries),
          '',
        ]
      : []),
    ...(gaps
      ? [
          '## Over training',
          '',
          `Validation cross-entropy minus ${results.overTraining?.baseline}'s${entries ? ', seed by seed,' : ''} averaged over the common validations in each quarter of training: whether a gap opens or closes as the runs train on. The last quarter is the late window.`,
          '',
          markdownTable(gaps),
          '',
        ]
      : []),
  ].join('\n');
}

function markdownTable({ columns, rows }: { columns: string[]; rows: string[][] }): string {
  return [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** "steps 2250–3000 (16)", the late window as a column title says it. */
function lateText(steps: number[]): string {
  if (!steps.length) return 'steps —';
  return steps.length === 1 ? `step ${steps[0]}` : `steps ${steps[0]}–${steps.at(-1)} (${steps.length})`;
}

/** A run's mean validation cross-entropy at `steps`; null unless it has a validation at each. */
function lateMean(crossEntropyAt: Map<number, number>, steps: number[]): number | null {
  return steps.every((s) => crossEntropyAt.has(s)) ? mean(steps.map((s) => crossEntropyAt.get(s) as number)) : null;
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
}
