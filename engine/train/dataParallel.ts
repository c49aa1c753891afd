// Data-parallel training on the engine's side: replicas of the model in worker threads, each with
// its own backend (one wasm thread each), full weights and optimizer. A step hands each replica a
// contiguous share of the step's micro-batches; the replicas write their gradients to shared slots
// (gradientSlots.ts), and on `apply` every replica sums the slots in the same order and takes the
// same optimizer step, so their weights stay equal without being sent again. The engine's own model
// takes that step too: it stays the one that validates, checkpoints and answers requests.
//
// The trainer's step is synchronous, so the engine waits on shared memory (Atomics), and reads the
// replicas' replies with receiveMessageOnPort while its event loop is held.
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { BackendName } from '../backend';
import { workerScript } from '../workerScript';
import type { Batch } from '../data/batches';
import type { SwitchTransformer } from '../model/model';
import type { LayerRouting } from '../model/stats';
import type { AdamSlotState } from './adam';
import { GradientSlots, type SharedSlots } from './gradientSlots';
import type { RunConfig } from './runConfig';

/** One micro-batch's outcome on a replica: its loss (scaled by its weight), ce/aux/z, routing. */
export interface PartResult {
  index: number;
  loss: number;
  ce: number;
  aux: number;
  z: number;
  routing: LayerRouting[];
}

/** What a worker starts from (workerData). */
export interface ReplicaInit {
  replica: number;
  config: RunConfig;
  backend: BackendName;
  weights: { name: string; shape: number[]; values: Float32Array }[];
  adam: AdamSlotState[];
  slots: SharedSlots;
  control: SharedArrayBuffer;
  port: MessagePort;
}

export type ReplicaRequest =
  | { type: 'step'; seq: number; step: number; parts: { index: number; weight: number; batch: Batch }[] }
  | { type: 'apply'; step: number }
  | { type: 'hash'; seq: number };

export type ReplicaReply = { type: 'done'; parts: PartResult[] } | { type: 'hash'; hash: string } | { type: 'error'; message: string };

/**
 * Control words, Int32: [0, R) the last request each replica finished (FAILED after an error);
 * [R, 2R) the last step whose slots each replica has summed (a replica overwrites its slot only
 * when every other one has read it); 2R a counter bumped at every change, which the engine waits on.
 */
export const FAILED = -1;
export const SUMMED_ALL = 0x7fffffff;
export const controlWords = (replicas: number) => ({ done: (r: number) => r, summed: (r: number) => replicas + r, events: 2 * replicas, length: 2 * replicas + 1 });

export class DataParallelGroup {
  private seq = 0;
  /** Set once a replica has failed: the group is then unusable, and says why. */
  private failure: string | null = null;

  private constructor(
    private readonly workers: Worker[],
    private readonly ports: MessagePort[],
    private readonly control: Int32Array,
    readonly slots: GradientSlots,
  ) {}

  get size(): number {
    return this.workers.length;
  }

  /** Starts `replicas` workers with the model's current weights and the optimizer's state. */
  static async start(config: RunConfig, backend: BackendName, model: SwitchTransformer, adam: AdamSlotState[], replicas: number): Promise<DataParallelGroup> {
    const slots = GradientSlots.create(model.params.vars, replicas);
    const control = new SharedArrayBuffer(4 * controlWords(replicas).length);
    const weights = [...model.params.vars].map(([name, v]) => ({ name, shape: v.shape, values: v.dataSync() as Float32Array }));
    const { file, execArgv } = workerScript(__dirname, 'dataParallelWorker');
    const workers: Worker[] = [];
    const ports: MessagePort[] = [];
    try {
      await Promise.all(
        Array.from({ length: replicas }, (_, replica) => {
          const { port1, port2 } = new MessageChannel();
          const init: ReplicaInit = { replica, config, backend, weights, adam, slots: slots.shared, control, port: port2 };
          // One wasm thread each: the replicas are the parallelism.
          const worker = new Worker(file, { workerData: init, transferList: [port2], execArgv, env: { ...process.env, SWITCHYARD_WASM_THREADS: '1' } });
          workers.push(worker);
          ports.push(port1);
          return new Promise<void>((resolve, reject) => {
            worker.once('message', () => resolve());
            worker.once('error', (err) => reject(new Error(`data-parallel replica ${replica + 1} did not start: ${err.message}`)));
            worker.once('exit', (code) => reject(new Error(`data-parallel replica ${replica + 1} exited (code ${code}) while starting`)));
          });
        }),
      );
    } catch (err) {
      for (const w of workers) void w.terminate();
      throw err;
    }
    const group = new DataParallelGroup(workers, ports, new Int32Array(control), slots);
    for (const [r, w] of workers.entries()) {
      w.removeAllListeners();
      w.on('error', (err) => (group.failure ??= `data-parallel replica ${r + 1} failed: ${err.message}`));
      w.on('exit', (code) => (group.failure ??= `data-parallel replica ${r + 1} exited (code ${code})`));
      // The replicas serve the engine's steps; they must not keep a finished command alive.
      w.unref();
    }
    return group;
  }

  /**
   * Forward and backward of the step's micro-batches, replica r taking a contiguous share; blocks
   * until every replica has written its gradients. Returns the micro-batches' results in order.
   */
  gradients(step: number, parts: Batch[], weights: number[]): PartResult[] {
    const seq = this.nextRequest();
    const n = this.size;
    for (let r = 0; r < n; r++) {
      const [from, to] = [Math.floor((r * parts.length) / n), Math.floor(((r + 1) * parts.length) / n)];
      const share = [];
      for (let i = from; i < to; i++) share.push({ index: i, weight: weights[i], batch: detach(parts[i]) });
      this.workers[r].postMessage({ type: 'step', seq, step, parts: share } satisfies ReplicaRequest);
    }
    const replies = this.await(seq, `step ${step}`);
    return replies.flatMap((m) => (m.type === 'done' ? m.parts : [])).sort((a, b) => a.index - b.index);
  }

  /** Every replica sums the slots and takes the optimizer step (it skips it on a non-finite norm, as the engine does). */
  apply(step: number): void {
    this.check();
    for (const w of this.workers) w.postMessage({ type: 'apply', step } satisfies ReplicaRequest);
  }

  /** Each replica's weights hash (weightsHash), after every step sent so far. */
  hashes(): string[] {
    const seq = this.nextRequest();
    for (const w of this.workers) w.postMessage({ type: 'hash', seq } satisfies ReplicaRequest);
    return this.await(seq, 'hash').map((m) => (m.type === 'hash' ? m.hash : ''));
  }

  dispose(): void {
    for (const w of this.workers) void w.terminate();
    for (const p of this.ports) p.close();
  }

  private nextRequest(): number {
    this.check();
    return ++this.seq;
  }

  private check(): void {
    if (this.failure) throw new Error(this.failure);
  }

  /** Blocks until every replica has answered request `seq` or one has failed. */
  private await(seq: number, what: string): ReplicaReply[] {
    const words = controlWords(this.size);
    const status = () => Array.from({ length: this.size }, (_, r) => Atomics.load(this.control, words.done(r)));
    for (;;) {
      const events = Atomics.load(this.control, words.events);
      const s = status();
      if (s.every((v) => v === seq) || s.includes(FAILED)) break;
      Atomics.wait(this.control, words.events, events);
    }
    const replies = this.ports.map((p) => receiveMessageOnPort(p)?.message as ReplicaReply | undefined);
    const bad = replies.findIndex((m) => m?.type === 'error');
    if (bad >= 0 || replies.some((m) => !m)) {
      const m = replies[bad];
      this.failure = `data-parallel replica ${(bad >= 0 ? bad : replies.indexOf(undefined)) + 1} failed at ${what}: ${m?.type === 'error' ? m.message : 'no reply'}`;
      this.check();
    }
    return replies as ReplicaReply[];
  }
}

/** The batch with arrays of its own: a micro-batch's arrays are views, and a view sends its whole buffer. */
function detach(b: Batch): Batch {
  return {
    ...b,
    encoderIds: b.encoderIds.slice(),
    encoderMask: b.encoderMask.slice(),
    encoderTags: b.encoderTags.slice(),
    decoderInputIds: b.decoderInputIds.slice(),
    decoderTargetIds: b.decoderTargetIds.slice(),
    decoderMask: b.decoderMask.slice(),
  };
}

/** sha256 of every weight's float32 values, in the model's order: equal hashes, equal weights. */
export function weightsHash(vars: Map<string, tf.Variable>): string {
  const hash = createHash('sha256');
  for (const v of vars.values()) {
    const values = v.dataSync() as Float32Array;
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}
