// A worker thread that trains one run of an experiment (gridRun.ts, `experiment --parallel`): its
// own backend, the run created or resumed here, its trainer's events posted to the experiment.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend';
import { Trainer } from '../train/trainer';
import { budgetSteps } from './experimentSchema';
import { relayEvents, trainToBudget, type RunWorkerInit, type RunWorkerMessage } from './gridRun';

const init = workerData as RunWorkerInit;
const port = parentPort!;
const post = (m: RunWorkerMessage) => port.postMessage(m);
let trainer: Trainer | null = null;
let stopRequested = false;
port.on('message', () => {
  // The only request is to stop.
  stopRequested = true;
  trainer?.stop();
});

async function main(): Promise<void> {
  await initBackend(init.backend);
  trainer = init.runId ? await Trainer.open(init.runsDir, init.runId, init.backend, budgetSteps(init.budget)) : await Trainer.create(init.runsDir, init.config, init.backend);
  if (stopRequested) trainer.stop();
  post({ type: 'started', runId: trainer.run.id, step: trainer.step, steps: trainer.config.training.steps });
  relayEvents(trainer, (event, data) => post({ type: 'event', event, data }));
  post({ type: 'done', end: await trainToBudget(trainer, init.budget) });
}

main().catch((err: unknown) => post({ type: 'failed', message: err instanceof Error ? err.message : String(err) }));
