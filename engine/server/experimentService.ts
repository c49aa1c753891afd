// The engine's experiment requests (engine/protocol.ts): list, plan, start, resume and stop a grid of
// runs, and the runs made from another (distill, finetune). The engine service (service.ts) owns the
// single training slot; this module trains through it (TrainingSlot), so one experiment or run at a
// time holds (an experiment's runs may train side by side, each in a worker thread).
import type { EventEmitter } from 'node:events';
import type { BackendInfo } from '../backend';
import { estimateExperiment } from '../experiments/estimate';
import { Experiment, type ExperimentSpec } from '../experiments/experiment';
import { BUILT_IN_GRIDS, resolveGrid, type GridRun } from '../experiments/grid';
import type { GridRunEvents } from '../experiments/gridRun';
import { ProtocolError, type EngineEvent, type Params, type Result, type RunSummary } from '../protocol';
import { resolveRunConfig, type CorpusSpec, type RunConfig } from '../train/runConfig';
import type { RunDir } from '../train/runStore';
import { createFromRun, distillConfig, FINETUNE_DROPOUT, finetuneConfig } from '../train/startFrom';
import { storedCorpus, type Trainer } from '../train/trainer';

/** What the engine service lends: its runs folder, its one training slot and its event stream. */
export interface TrainingSlot {
  readonly runsDir: string;
  readonly backend: BackendInfo;
  /** Throws `conflict` when a run or an experiment trains. */
  requireIdle(): void;
  /** The run by id (external or not); `not_found` when there is none. */
  run(runId: string): RunDir;
  /** Trains `trainer` in the slot, its events streamed; returns its summary. */
  launch(trainer: Trainer): RunSummary;
  /** Streams an experiment's run's events; one with a Trainer in this thread becomes the active run. */
  follow(run: FollowedRun): void;
  /** Holds the slot until `work` settles; `done` runs then (after the active run is cleared). */
  occupy(work: Promise<unknown>, done: () => void): void;
  /** Resolves when the slot's current work has settled. */
  settled(): Promise<unknown>;
  send(event: EngineEvent): void;
}

/** A run whose events the engine streams to clients: its Trainer when it trains in this thread. */
export interface FollowedRun {
  runId: string;
  events: EventEmitter<GridRunEvents>;
  model: RunConfig['model'];
  trainer: Trainer | null;
  /** Where it starts and its last step. */
  step: number;
  steps: number;
}

export class ExperimentService {
  /** The experiment training, if any: its current run is the slot's active run. */
  current: Experiment | null = null;

  constructor(private readonly slot: TrainingSlot) {}

  listExperiments(): Result<'listExperiments'> {
    const running = this.current?.id;
    // An experiment that says it runs but is not this engine's was cut off (a crash, a kill).
    const listed = (e: Experiment) => ({ ...e.summary(), ...(e.id !== running && e.summary().state === 'running' ? { state: 'interrupted' as const } : {}) });
    return { experiments: Experiment.list(this.slot.runsDir).map((e) => (e.id === running && this.current ? this.current.summary() : listed(e))) };
  }

  planExperiment(p: Params<'planExperiment'>): Result<'planExperiment'> {
    const spec = this.experimentSpec(p);
    const runs = resolveGridOrBadRequest(spec);
    const estimate = estimateExperiment(this.slot.runsDir, runs, spec.budget, this.parallel(p.parallel));
    return { runs: runs.map((r) => ({ name: r.name, entry: r.entry, seed: r.seed, router: r.config.model.router, numExperts: r.config.model.numExperts })), ...estimate };
  }

  startExperiment(p: Params<'startExperiment'>): Result<'startExperiment'> {
    this.slot.requireIdle();
    const parallel = this.parallel(p.parallel);
    const spec = this.experimentSpec(p);
    resolveGridOrBadRequest(spec);
    return this.runExperiment(Experiment.create(this.slot.runsDir, spec), parallel);
  }

  resumeExperiment(p: Params<'resumeExperiment'>): Result<'resumeExperiment'> {
    this.slot.requireIdle();
    let exp: Experiment;
    try {
      exp = Experiment.open(this.slot.runsDir, p.id);
    } catch (err) {
      throw new ProtocolError('not_found', (err as Error).message);
    }
    let longer = false;
    try {
      longer = p.steps !== undefined && exp.extendTo(p.steps);
    } catch (err) {
      throw new ProtocolError('bad_request', (err as Error).message);
    }
    if (!longer && exp.summary().state === 'completed') throw new ProtocolError('conflict', `experiment ${p.id} has completed: nothing to resume (give more steps to train its runs on)`);
    // As many at a time as before, unless told, or unless the backend now is one that uses every core.
    const before = this.slot.backend.name === 'tensorflow' ? 1 : exp.parallel;
    return this.runExperiment(exp, this.parallel(p.parallel ?? before));
  }

  async stopExperiment(p: Params<'stopExperiment'>): Promise<Result<'stopExperiment'>> {
    const exp = this.current;
    if (!exp) throw new ProtocolError('conflict', 'no experiment is running');
    if (p.id && p.id !== exp.id) throw new ProtocolError('conflict', `experiment ${p.id} is not the one running (${exp.id})`);
    exp.stop();
    await this.slot.settled();
    return exp.summary();
  }

  async distill(p: Params<'distill'>): Promise<Result<'distill'>> {
    this.slot.requireIdle();
    const teacher = this.slot.run(p.teacher);
    const config = badRequestOnError('distill', () => distillConfig(teacher, p.steps));
    const { trainer } = await badRequestOnErrorAsync('distill', () => createFromRun(this.slot.runsDir, teacher, config, 'distill', this.slot.backend.name));
    return this.slot.launch(trainer);
  }

  async finetune(p: Params<'finetune'>): Promise<Result<'finetune'>> {
    this.slot.requireIdle();
    const source = this.slot.run(p.from);
    const corpus: CorpusSpec = p.corpus === 'brown' ? { kind: 'brown' } : { kind: 'files', spec: p.corpus };
    const opts = { ...FINETUNE_DROPOUT, ...pickDefined({ expertDropoutRate: p.expertDropoutRate, dropoutRate: p.dropoutRate }), corpus, steps: p.steps };
    const config = badRequestOnError('finetune', () => finetuneConfig(source, opts));
    const { trainer } = await badRequestOnErrorAsync('finetune', () => createFromRun(this.slot.runsDir, source, config, 'finetune', this.slot.backend.name));
    return this.slot.launch(trainer);
  }

  private parallel(n = 1): number {
    const refusal = Experiment.parallelRefusal(this.slot.backend.name, n);
    if (refusal) throw new ProtocolError('bad_request', `parallel: ${refusal}`);
    return n;
  }

  private experimentSpec(p: Params<'planExperiment'>): ExperimentSpec {
    const builtIn = BUILT_IN_GRIDS[p.name];
    if (!p.entries && !builtIn) throw new ProtocolError('bad_request', `'${p.name}' is not a built-in grid (${Object.keys(BUILT_IN_GRIDS).join(', ')}); send a grid file's entries`);
    const corpus: CorpusSpec | undefined = p.corpus === undefined ? undefined : p.corpus === 'brown' ? { kind: 'brown' } : storedCorpus({ kind: 'files', spec: p.corpus });
    const steps = p.steps ?? badRequestOnError('experiment', () => resolveRunConfig({ preset: p.preset, overrides: p.config }).training.steps);
    return { name: p.name, grid: p.entries ?? builtIn.entries, preset: p.preset, base: p.config, corpus, budget: p.minutes !== undefined ? { minutes: p.minutes } : { steps }, seeds: p.seeds };
  }

  /** Trains the experiment's runs in the background, each followed like any run. */
  private runExperiment(exp: Experiment, parallel: number): Result<'startExperiment'> {
    this.current = exp;
    exp.on('run', ({ index, runId, events, trainer, fromStep, steps }) => this.slot.follow({ runId, events, model: exp.runs[index].config.model, trainer, step: fromStep, steps }));
    exp.on('change', () => this.slot.send({ type: 'event', event: 'experiment', data: exp.summary() }));
    exp.on('log', (line) => this.slot.send({ type: 'event', event: 'log', level: 'info', message: `${exp.id}: ${line}` }));
    const work = exp.run(this.slot.backend.name, parallel).catch((err: unknown) => {
      const message = `experiment ${exp.id} failed: ${err instanceof Error ? err.message : String(err)}`;
      this.slot.send({ type: 'event', event: 'log', level: 'error', message });
    });
    this.slot.occupy(work, () => {
      if (this.current === exp) this.current = null;
      exp.removeAllListeners();
    });
    return exp.summary();
  }
}

/** A config or grid problem is the client's to fix: a bad_request naming it. */
function badRequestOnError<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new ProtocolError('bad_request', `${what}: ${(err as Error).message}`);
  }
}

async function badRequestOnErrorAsync<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw new ProtocolError('bad_request', `${what}: ${(err as Error).message}`);
  }
}

function resolveGridOrBadRequest(spec: ExperimentSpec): GridRun[] {
  return badRequestOnError('grid', () => resolveGrid(spec.grid, { preset: spec.preset, overrides: spec.base, corpus: spec.corpus, steps: 'steps' in spec.budget ? spec.budget.steps : 1, seeds: spec.seeds }));
}

function pickDefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
