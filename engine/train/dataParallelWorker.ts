// A data-parallel replica (a worker thread; see dataParallel.ts): its own backend and a full copy
// of the model and optimizer. `step` runs forward and backward on its micro-batches and writes
// their summed gradients to its slot; `apply` sums every replica's slot and takes the optimizer
// step. Any error is reported to the engine, which stops the run with it.
import * as tf from '@tensorflow/tfjs-core';
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend';
import { ForwardContext } from '../model/context';
import { SwitchTransformer } from '../model/model';
import { Adam } from './adam';
import { controlWords, FAILED, SUMMED_ALL, weightsHash, type PartResult, type ReplicaInit, type ReplicaReply, type ReplicaRequest } from './dataParallel';
import { GradientSlots } from './gradientSlots';
import { accumulateGradients } from './microBatches';
import { microBatchGradients, optimizerStep } from './replicaStep';
import { restoreWeights } from './runModel';

const init = workerData as ReplicaInit;
const { replica, port } = init;
const control = new Int32Array(init.control);
const words = controlWords(init.slots.layout.replicas);
const slots = GradientSlots.attach(init.slots);
const t = init.config.training;
/** After an error the replica answers nothing more: the engine stops the run with that error. */
let failed = false;
/** The last step every replica was told to apply: each reads all slots for it before any is overwritten. */
let lastApplied = 0;

function signal(word: number, value: number): void {
  Atomics.store(control, word, value);
  Atomics.add(control, words.events, 1);
  Atomics.notify(control, words.events);
  Atomics.notify(control, word);
}

function reply(seq: number, message: ReplicaReply): void {
  port.postMessage(message);
  signal(words.done(replica), seq);
}

/** Waits until every other replica has summed the slots of the last applied step. */
function awaitPeersSummed(): void {
  for (let r = 0; r < init.slots.layout.replicas; r++) {
    if (r === replica) continue;
    for (let v = Atomics.load(control, words.summed(r)); v < lastApplied; v = Atomics.load(control, words.summed(r))) Atomics.wait(control, words.summed(r), v);
  }
}

function handle(model: SwitchTransformer, adam: Adam, m: ReplicaRequest): void {
  if (m.type === 'step') {
    const grads = new Map<string, tf.Tensor>();
    const parts: PartResult[] = [];
    try {
      for (const { index, weight, batch } of m.parts) {
        const r = microBatchGradients(model, batch, ForwardContext.forMicroBatch(t.seed, m.step, index), weight, null);
        accumulateGradients(grads, r.grads);
        parts.push({ index, loss: r.loss, ce: r.ce, aux: r.aux, z: r.z, routing: r.routing });
      }
      awaitPeersSummed();
      slots.write(replica, grads);
    } finally {
      tf.dispose([...grads.values()]);
    }
    reply(m.seq, { type: 'done', parts });
  } else if (m.type === 'apply') {
    lastApplied = m.step;
    const grads = slots.sum();
    signal(words.summed(replica), m.step);
    try {
      optimizerStep(model.params.vars, adam, grads, t, m.step);
    } finally {
      tf.dispose([...grads.values()]);
    }
  } else {
    reply(m.seq, { type: 'hash', hash: weightsHash(model.params.vars) });
  }
}

async function main(): Promise<void> {
  await initBackend(init.backend);
  const model = new SwitchTransformer(init.config.model, t.seed);
  restoreWeights(model, new Map(init.weights.map((w) => [w.name, w])));
  const adam = new Adam();
  adam.importState(init.adam, model.params.vars);
  parentPort?.on('message', (m: ReplicaRequest) => {
    if (failed) return;
    try {
      handle(model, adam, m);
    } catch (err) {
      failed = true;
      port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies ReplicaReply);
      // Peers waiting for this replica's sum must not wait forever.
      signal(words.summed(replica), SUMMED_ALL);
      signal(words.done(replica), FAILED);
    }
  });
  parentPort?.postMessage('ready');
}

// A failure to start rejects, which ends the worker with an 'error' event the engine reports.
void main();
