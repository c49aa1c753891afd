// Running an experiment: the grid's runs one after the other (or a few side by side, each in a worker
// thread), each an ordinary run in the runs folder, with the same seed, data order and budget. runs/experiments/<id>/experiment.json records
// the grid, each run's id and state, so that a killed experiment resumes where it stopped: finished
// runs are kept, the interrupted run resumes from its checkpoint, the rest start.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { BackendName } from '../backend';
import type { CorpusSpec } from '../train/runConfig';
import { newId, readMetrics, RunDir } from '../train/runStore';
import { Trainer } from '../train/trainer';
import { budgetSteps, experimentSchema, type Budget, type ExperimentRecord, type ExperimentSummary } from './experimentSchema';
import { resolveEntries, resolveGrid, withSeeds, type GridBase, type GridRun } from './grid';
import { followTrainer, trainToBudget, WorkerRun, type GridRunEnd, type GridRunEvents } from './gridRun';
import { experimentResults, resultsMarkdown, type RunOutcome } from './results';

/** A time-budgeted run's step target: the clock stops it long before. */
const TIME_BUDGET_MAX_STEPS = 1_000_000;

export type ExperimentState = ExperimentRecord['state'];

export interface ExperimentSpec {
  name: string;
  /** Validated here: a list of GridEntry. */
  grid: unknown;
  preset?: string;
  base?: unknown;
  corpus?: CorpusSpec;
  budget: Budget;
  /** Runs per grid entry, each with its own seed (default 1). */
  seeds?: number;
}

interface ExperimentEvents {
  /** A run starts or resumes: its events, and its Trainer when it trains in this thread. */
  run: [{ index: number; name: string; runId: string; fromStep: number; steps: number; events: EventEmitter<GridRunEvents>; trainer: Trainer | null }];
  log: [string];
  /** experiment.json was written (a run started or ended, the state changed). */
  change: [];
}

export class Experiment extends EventEmitter<ExperimentEvents> {
  /** Stops each run training now. */
  private readonly stoppers = new Set<() => void>();
  private stopRequested = false;

  private constructor(
    /** The experiment's folder (a RunDir only for its atomic JSON writes). */
    readonly dir: RunDir,
    readonly runsDir: string,
    private readonly record: ExperimentRecord,
    private grid: GridRun[],
  ) {
    super();
  }

  get id(): string {
    return this.record.id;
  }

  get budget(): Budget {
    return this.record.budget;
  }

  /** Each run's name and config, in the order they train. */
  get runs(): readonly GridRun[] {
    return this.grid;
  }

  /** The grid's entries; each runs once per seed. */
  get entryCount(): number {
    return this.record.grid.length;
  }

  /** Runs side by side when it last ran: what a resume keeps unless told otherwise. */
  get parallel(): number {
    return this.record.parallel ?? 1;
  }

  /** The record as listed to clients (its grid and base config left out). */
  summary(): ExperimentSummary {
    const { id, name, preset, budget, runs, state, seeds, parallel, createdAt, updatedAt } = this.record;
    return { id, name, ...(preset ? { preset } : {}), budget, runs: runs.map((r) => ({ ...r })), state, ...(seeds ? { seeds } : {}), ...(parallel ? { parallel } : {}), createdAt, updatedAt };
  }

  /**
   * Why `parallel` runs side by side cannot train on `backend` (null: they can). Each takes one wasm
   * thread of its own; the tensorflow backend already uses every core.
   */
  static parallelRefusal(backend: BackendName, parallel: number): string | null {
    return parallel > 1 && backend === 'tensorflow' ? 'runs side by side train on one wasm thread each; the tensorflow backend already uses every core' : null;
  }

  /** Every readable experiment in `runsDir/experiments`, oldest first; unreadable folders are left out. */
  static list(runsDir: string): Experiment[] {
    const home = join(runsDir, 'experiments');
    if (!existsSync(home)) return [];
    return readdirSync(home, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(home, d.name, 'experiment.json')))
      .flatMap((d) => {
        try {
          return [Experiment.open(runsDir, d.name)];
        } catch {
          return [];
        }
      })
      .sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
  }

  /** Checks every run's config first: a bad grid writes nothing. */
  static create(runsDir: string, spec: ExperimentSpec): Experiment {
    const entries = resolveEntries(spec.grid, gridBase(spec));
    const runs = withSeeds(entries, spec.seeds);
    const id = newId(basename(spec.name).replace(/\.json$/, '').replace(/[^\w.-]/g, '_'));
    const dir = new RunDir(join(runsDir, 'experiments'), id);
    mkdirSync(dir.path, { recursive: true });
    const now = new Date().toISOString();
    const { seeds = 1, ...rest } = spec;
    const record: ExperimentRecord = {
      id,
      ...rest,
      ...(seeds > 1 ? { seeds } : {}),
      grid: entries.map((r) => r.overrides),
      runs: runs.map((r) => ({ name: r.name, ...(seeds > 1 ? { entry: r.entry, seed: r.seed } : {}), runId: null, state: 'pending' })),
      state: 'running',
      createdAt: now,
      updatedAt: now,
    };
    const experiment = new Experiment(dir, resolve(runsDir), record, runs);
    experiment.save();
    return experiment;
  }

  /** An experiment by id (in `runsDir/experiments`) or by its folder's path. */
  static open(runsDir: string, ref: string): Experiment {
    const dir = /[\\/]/.test(ref) ? new RunDir(dirname(resolve(ref)), basename(resolve(ref))) : new RunDir(join(runsDir, 'experiments'), ref);
    let raw: unknown;
    try {
      raw = dir.readJson('experiment.json');
    } catch {
      throw new Error(`no experiment '${ref}' (no readable ${join(dir.path, 'experiment.json')})`);
    }
    const record = experimentSchema.parse(raw);
    // The runs live in the runs folder that holds experiments/<id>/.
    const home = dirname(dirname(dir.path));
    const runs = resolveGrid(record.grid, gridBase(record));
    return new Experiment(dir, home, record, runs);
  }

  /**
   * Trains every run not yet finished, in grid order, `parallel` at a time (more than one: each in a
   * worker thread of its own); resolves with the experiment's state.
   */
  async run(backend: BackendName, parallel = this.parallel): Promise<ExperimentState> {
    this.record.state = 'running';
    if (parallel > 1) this.record.parallel = parallel;
    else delete this.record.parallel;
    this.save();
    const todo = this.record.runs.flatMap((e, i) => (e.state === 'completed' || e.state === 'diverged' ? [] : [i]));
    const lane = async () => {
      for (let index = todo.shift(); index !== undefined && !this.stopRequested; index = todo.shift()) {
        const outcome = await (parallel > 1 ? this.trainInWorker(index, backend) : this.trainOne(index, backend)).catch((err: unknown) => {
          this.stop(); // a failed run stops the others too, each with a checkpoint, as one at a time would not go on
          throw err;
        });
        if (!outcome) return; // stopped from outside: the run stays `running`, to be resumed
        this.record.runs[index].state = outcome;
        this.save();
        this.writeResults();
      }
    };
    const lanes = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(parallel, todo.length)) }, lane));
    const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
    this.record.state = this.stopRequested ? 'interrupted' : 'completed';
    this.save();
    this.writeResults();
    if (failed) throw failed.reason;
    return this.record.state;
  }

  /**
   * Trains the runs on to `steps`, more than the budget they were given: finished runs resume from
   * their last checkpoint. The learning rate's schedule does not depend on a run's length, so each
   * run ends as a run given `steps` from the start would have (a diverged run stays as it ended).
   * Returns false when the runs already train to `steps`.
   */
  extendTo(steps: number): boolean {
    const { budget } = this.record;
    if (!('steps' in budget)) throw new Error(`experiment ${this.id} gives each run ${budget.minutes} minutes: only a budget of steps can be extended`);
    if (steps < budget.steps) throw new Error(`experiment ${this.id}'s runs train to ${budget.steps} steps already: give ${budget.steps} or more to train them on`);
    if (steps === budget.steps) return false;
    this.record.budget = { steps };
    for (const r of this.record.runs) if (r.state === 'completed') r.state = 'pending';
    this.grid = resolveGrid(this.record.grid, gridBase(this.record));
    this.save();
    return true;
  }

  /** Stops the runs in training after their step, each with a checkpoint; the experiment can be resumed. */
  stop(): void {
    this.stopRequested = true;
    for (const stop of this.stoppers) stop();
  }

  /** Recomputes results.json and results.md from the runs' metrics files. */
  writeResults(): void {
    const results = experimentResults(
      this.record.runs.map((r) => ({ ...r, records: r.runId ? readMetrics(new RunDir(this.runsDir, r.runId).metricsFile).records : [] })),
    );
    this.dir.writeJson('results.json', { id: this.id, name: this.record.name, budget: this.record.budget, ...results });
    const sideBySide = this.record.parallel
      ? [`Trained ${this.record.parallel} runs at a time, one wasm thread each: steps/s, tokens/s and equal time are each run's beside the others.`]
      : [];
    this.dir.writeText('results.md', resultsMarkdown(`Experiment ${this.record.name} (${this.id})`, results, sideBySide));
  }

  private async trainOne(index: number, backend: BackendName): Promise<RunOutcome | null> {
    const entry = this.record.runs[index];
    const trainer = entry.runId
      ? await Trainer.open(this.runsDir, entry.runId, backend, budgetSteps(this.record.budget))
      : await Trainer.create(this.runsDir, this.grid[index].config, backend);
    this.started(index, trainer.run.id);
    const stop = () => trainer.stop();
    this.stoppers.add(stop);
    if (this.stopRequested) stop();
    this.emit('run', { index, name: entry.name, runId: trainer.run.id, fromStep: trainer.step, steps: trainer.config.training.steps, events: followTrainer(trainer), trainer });
    try {
      return this.outcome(await trainToBudget(trainer, this.record.budget));
    } finally {
      this.stoppers.delete(stop);
    }
  }

  private async trainInWorker(index: number, backend: BackendName): Promise<RunOutcome | null> {
    const entry = this.record.runs[index];
    const init = { runsDir: this.runsDir, runId: entry.runId, config: this.grid[index].config, backend, budget: this.record.budget };
    const run: WorkerRun = new WorkerRun(init, `run ${entry.name}`, ({ runId, step, steps }) => {
      this.started(index, runId);
      this.emit('run', { index, name: entry.name, runId, fromStep: step, steps, events: run.events, trainer: null });
    });
    const stop = () => run.stop();
    this.stoppers.add(stop);
    if (this.stopRequested) stop();
    try {
      return this.outcome(await run.done);
    } finally {
      this.stoppers.delete(stop);
    }
  }

  private started(index: number, runId: string): void {
    this.record.runs[index].runId = runId;
    this.record.runs[index].state = 'running';
    this.save();
  }

  private outcome(end: GridRunEnd): RunOutcome | null {
    if (end === 'diverged') return 'diverged';
    return this.stopRequested ? null : 'completed';
  }

  private save(): void {
    this.record.updatedAt = new Date().toISOString();
    this.dir.writeJson('experiment.json', this.record);
    this.emit('change');
  }
}

function gridBase(spec: ExperimentSpec): GridBase {
  return { preset: spec.preset, overrides: spec.base, corpus: spec.corpus, steps: budgetSteps(spec.budget) ?? TIME_BUDGET_MAX_STEPS, seeds: spec.seeds };
}
