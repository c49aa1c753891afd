// Running an experiment: the grid's runs one after the other, each an ordinary run in the runs
// folder, with the same seed, data order and budget. runs/experiments/<id>/experiment.json records
// the grid, each run's id and state, so that a killed experiment resumes where it stopped: finished
// runs are kept, the interrupted run resumes from its checkpoint, the rest start.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { BackendName } from '../backend';
import type { CorpusSpec } from '../train/runConfig';
import { newId, readMetrics, RunDir } from '../train/runStore';
import { Trainer } from '../train/trainer';
import { experimentSchema, type Budget, type ExperimentRecord, type ExperimentSummary } from './experimentSchema';
import { resolveGrid, type GridRun } from './grid';
import { experimentResults, resultsMarkdown, trainingClock, type RunOutcome } from './results';

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
}

interface ExperimentEvents {
  /** A run starts or resumes. */
  run: [{ index: number; name: string; trainer: Trainer }];
  log: [string];
  /** experiment.json was written (a run started or ended, the state changed). */
  change: [];
}

export class Experiment extends EventEmitter<ExperimentEvents> {
  private current: Trainer | null = null;
  private stopRequested = false;

  private constructor(
    /** The experiment's folder (a RunDir only for its atomic JSON writes). */
    readonly dir: RunDir,
    readonly runsDir: string,
    private readonly record: ExperimentRecord,
    readonly runs: GridRun[],
  ) {
    super();
  }

  get id(): string {
    return this.record.id;
  }

  get budget(): Budget {
    return this.record.budget;
  }

  /** The record as listed to clients (its grid and base config left out). */
  summary(): ExperimentSummary {
    const { id, name, preset, budget, runs, state, createdAt, updatedAt } = this.record;
    return { id, name, ...(preset ? { preset } : {}), budget, runs: runs.map((r) => ({ ...r })), state, createdAt, updatedAt };
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
    const runs = resolveGrid(spec.grid, gridBase(spec));
    const id = newId(basename(spec.name).replace(/\.json$/, '').replace(/[^\w.-]/g, '_'));
    const dir = new RunDir(join(runsDir, 'experiments'), id);
    mkdirSync(dir.path, { recursive: true });
    const now = new Date().toISOString();
    const record: ExperimentRecord = {
      id,
      ...spec,
      grid: runs.map((r) => r.overrides),
      runs: runs.map((r) => ({ name: r.name, runId: null, state: 'pending' })),
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

  /** Trains every run not yet finished, in grid order; resolves with the experiment's state. */
  async run(backend: BackendName): Promise<ExperimentState> {
    this.record.state = 'running';
    this.save();
    for (const [index, entry] of this.record.runs.entries()) {
      if (this.stopRequested) break;
      if (entry.state === 'completed' || entry.state === 'diverged') continue;
      const outcome = await this.trainOne(index, backend);
      if (!outcome) break; // stopped from outside: the run stays `running`, to be resumed
      entry.state = outcome;
      this.save();
      this.writeResults();
    }
    this.record.state = this.stopRequested ? 'interrupted' : 'completed';
    this.save();
    this.writeResults();
    return this.record.state;
  }

  /** Stops the current run after its step, with a checkpoint; the experiment can be resumed. */
  stop(): void {
    this.stopRequested = true;
    this.current?.stop();
  }

  /** Recomputes results.json and results.md from the runs' metrics files. */
  writeResults(): void {
    const results = experimentResults(
      this.record.runs.map((r) => ({ ...r, records: r.runId ? readMetrics(new RunDir(this.runsDir, r.runId).metricsFile).records : [] })),
    );
    this.dir.writeJson('results.json', { id: this.id, name: this.record.name, budget: this.record.budget, ...results });
    this.dir.writeText('results.md', resultsMarkdown(`Experiment ${this.record.name} (${this.id})`, results));
  }

  private async trainOne(index: number, backend: BackendName): Promise<RunOutcome | null> {
    const entry = this.record.runs[index];
    const trainer = entry.runId ? await Trainer.open(this.runsDir, entry.runId, backend) : await Trainer.create(this.runsDir, this.runs[index].config, backend);
    this.current = trainer;
    entry.runId = trainer.run.id;
    entry.state = 'running';
    this.save();
    let diverged = false;
    trainer.on('state', (s) => {
      // A NaN loss pauses a run; in an experiment that run has diverged, and the next one starts.
      if (s.state === 'paused' && s.message) {
        diverged = true;
        trainer.stop();
      }
    });
    const budget = this.record.budget;
    let timer: NodeJS.Timeout | undefined;
    if ('minutes' in budget) {
      const steps = readMetrics(trainer.run.metricsFile).records.filter((r) => r.type === 'step');
      const trained = trainingClock(steps).get(trainer.step) ?? 0;
      timer = setTimeout(() => trainer.stop(), Math.max(0, budget.minutes * 60_000 - trained * 1000));
    }
    this.emit('run', { index, name: entry.name, trainer });
    try {
      await trainer.train();
    } finally {
      clearTimeout(timer);
      trainer.dispose();
      this.current = null;
    }
    if (diverged) return 'diverged';
    return this.stopRequested ? null : 'completed';
  }

  private save(): void {
    this.record.updatedAt = new Date().toISOString();
    this.dir.writeJson('experiment.json', this.record);
    this.emit('change');
  }
}

function gridBase(spec: ExperimentSpec) {
  return { preset: spec.preset, overrides: spec.base, corpus: spec.corpus, steps: 'steps' in spec.budget ? spec.budget.steps : TIME_BUDGET_MAX_STEPS };
}
