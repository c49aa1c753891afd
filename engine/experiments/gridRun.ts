// One run of an experiment trained to its budget, in this thread or in a worker thread of its own
// (`experiment --parallel`): a worker has its own backend on one wasm thread, so two runs side by
// side use both cores. Both ways report what a run's trainer emits, through the same events.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../backend';
import type { RunConfig } from '../train/runConfig';
import { readMetrics } from '../train/runStore';
import type { Trainer, TrainerEvents } from '../train/trainer';
import { workerScript } from '../workerScript';
import type { Budget } from './experimentSchema';
import { trainingClock } from './results';

/** What a follower of a run hears (a Trainer's own events, or a worker's forwarded). */
export type GridRunEvents = Pick<TrainerEvents, 'metrics' | 'validation' | 'log' | 'state'>;
const FORWARDED = ['metrics', 'validation', 'log', 'state'] as const;
type Forwarded = (typeof FORWARDED)[number];

/** 'diverged': a NaN loss paused it; 'ended': its steps are done, its minutes are up, or it was stopped. */
export type GridRunEnd = 'diverged' | 'ended';

/** Trains to the budget and disposes the trainer. A diverged run is stopped (with a checkpoint). */
export async function trainToBudget(trainer: Trainer, budget: Budget): Promise<GridRunEnd> {
  let diverged = false;
  trainer.on('state', (s) => {
    if (s.state === 'paused' && s.message) {
      diverged = true;
      trainer.stop();
    }
  });
  let timer: NodeJS.Timeout | undefined;
  if ('minutes' in budget) {
    // A resumed run has already spent part of its minutes.
    const trained = trainingClock(readMetrics(trainer.run.metricsFile).records.filter((r) => r.type === 'step')).get(trainer.step) ?? 0;
    timer = setTimeout(() => trainer.stop(), Math.max(0, budget.minutes * 60_000 - trained * 1000));
  }
  try {
    await trainer.train();
  } finally {
    clearTimeout(timer);
    trainer.dispose();
  }
  return diverged ? 'diverged' : 'ended';
}

/** What the worker starts from: a new run's config, or the id of a run to resume. */
export interface RunWorkerInit {
  runsDir: string;
  runId: string | null;
  config: RunConfig;
  backend: BackendName;
  budget: Budget;
}

export type RunWorkerMessage =
  | { type: 'started'; runId: string; step: number; steps: number }
  | { type: 'event'; event: Forwarded; data: unknown }
  | { type: 'done'; end: GridRunEnd }
  | { type: 'failed'; message: string };

/** Passes on a trainer's events that a follower hears. */
export function relayEvents(trainer: Trainer, relay: (event: Forwarded, data: unknown) => void): void {
  for (const event of FORWARDED) trainer.on(event, (data: unknown) => relay(event, data));
}

/** The events of a trainer in this thread, as a follower hears them. */
export function followTrainer(trainer: Trainer): EventEmitter<GridRunEvents> {
  const events = new EventEmitter<GridRunEvents>();
  relayEvents(trainer, (event, data) => emitUntyped(events, event, data));
  return events;
}

function emitUntyped(events: EventEmitter<GridRunEvents>, event: Forwarded, data: unknown): void {
  (events.emit as (e: string, d: unknown) => boolean).call(events, event, data);
}

/** A run training in a worker thread: `onStarted` once it has its id, then its trainer's events. */
export class WorkerRun {
  private readonly worker: Worker;
  readonly events = new EventEmitter<GridRunEvents>();
  /** Resolves when the run has ended; rejects with the worker's error. */
  readonly done: Promise<GridRunEnd>;

  constructor(init: RunWorkerInit, label: string, onStarted: (run: { runId: string; step: number; steps: number }) => void) {
    const { file, execArgv } = workerScript(__dirname, 'experimentRunWorker');
    // One wasm thread each: the runs side by side are the parallelism.
    this.worker = new Worker(file, { workerData: init, execArgv, env: { ...process.env, SWITCHYARD_WASM_THREADS: '1' } });
    this.done = new Promise<GridRunEnd>((resolve, reject) => {
      this.worker.on('message', (m: RunWorkerMessage) => {
        if (m.type === 'started') onStarted(m);
        else if (m.type === 'event') emitUntyped(this.events, m.event, m.data);
        else if (m.type === 'done') resolve(m.end);
        else reject(new Error(`${label}: ${m.message}`));
      });
      this.worker.on('error', (err) => reject(new Error(`${label}: ${err.message}`)));
      this.worker.on('exit', (code) => reject(new Error(`${label}: its worker exited (code ${code}) before the run ended`)));
    }).finally(() => void this.worker.terminate());
  }

  /** Stops after the current step, with a checkpoint (before it starts: at once). */
  stop(): void {
    this.worker.postMessage({ type: 'stop' });
  }
}
