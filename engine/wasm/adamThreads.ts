// Adam's step split over this thread and helper threads, in tfjs-backend-wasm's shared heap (the
// threaded build's): each weight is cut into chunks, and every thread claims chunks until none is
// left. XNNPACK's own threads are idle while the optimizer runs, so its cores are free for this.
// Each value's arithmetic is the same whichever thread does it: results do not depend on the split.
//
// A table of chunks and a control block sit in SharedArrayBuffers. A claim is one atomic word, the
// generation (one per call) in its high half and the next chunk in its low half, so a helper late
// from an earlier call cannot take a chunk of the next.
import { Worker } from 'node:worker_threads';
import { workerScript } from '../workerScript';

/** Int32 words of the control block. */
export const CONTROL = { generation: 0, claim: 1, count: 2, done: 3, failed: 4, helped: 5, size: 8 } as const;
/** Float64 words of the table: the hyper-parameters, then each chunk's pointers, length and step size. */
export const TABLE = { beta1: 0, beta2: 1, epsilon: 2, chunks: 3, chunkWords: 7 } as const;
/** Chunks per call (the claim's low half counts up to 65535). */
export const MAX_CHUNKS = 4096;
/** Values per chunk: five 64 KiB streams stay in a core's L2 cache. */
export const CHUNK = 16384;

export interface AdamHelperInit {
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  table: SharedArrayBuffer;
}

export interface AdamKernel {
  adam(w: number, g: number, m: number, v: number, out: number, n: number, stepSize: number, beta1: number, beta2: number, epsilon: number): void;
}

/** A piece of one weight's update: byte offsets of w, g, m, v and out, its values, its step size. */
export type Chunk = [w: number, g: number, m: number, v: number, out: number, n: number, stepSize: number];

/** Claims and runs chunks of the current call until none is left; a helper also counts the chunks it ran. */
export function runClaimedChunks(control: Int32Array, table: Float64Array, kernel: AdamKernel, generation: number, helper: boolean): void {
  const [beta1, beta2, epsilon] = [table[TABLE.beta1], table[TABLE.beta2], table[TABLE.epsilon]];
  const count = Atomics.load(control, CONTROL.count);
  for (;;) {
    const claim = Atomics.load(control, CONTROL.claim);
    const index = claim & 0xffff;
    if (claim >>> 16 !== generation || index >= count) return;
    if (Atomics.compareExchange(control, CONTROL.claim, claim, claim + 1) !== claim) continue;
    const at = TABLE.chunks + index * TABLE.chunkWords;
    kernel.adam(table[at], table[at + 1], table[at + 2], table[at + 3], table[at + 4], table[at + 5], table[at + 6], beta1, beta2, epsilon);
    if (helper) Atomics.add(control, CONTROL.helped, 1);
    Atomics.add(control, CONTROL.done, 1);
    Atomics.notify(control, CONTROL.done);
  }
}

/** The helper threads of one heap, started on first use; they never keep the process alive. */
export class AdamHelpers {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL.size * 4));
  private readonly table = new Float64Array(new SharedArrayBuffer((TABLE.chunks + MAX_CHUNKS * TABLE.chunkWords) * 8));
  private readonly workers: Worker[] = [];
  private generation = 0;
  private failure: string | null = null;

  constructor(readonly memory: WebAssembly.Memory, helpers: number) {
    const { file, execArgv } = workerScript(__dirname, 'adamWorker');
    const init: AdamHelperInit = { memory, control: this.control.buffer as SharedArrayBuffer, table: this.table.buffer as SharedArrayBuffer };
    for (let i = 0; i < helpers; i++) {
      const worker = new Worker(file, { workerData: init, execArgv });
      // Until a helper has started, this thread takes every chunk itself; one that fails is left out.
      worker.on('error', (err) => (this.failure = err.message));
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Runs every chunk (at most MAX_CHUNKS), helpers claiming alongside this thread; returns when all are done. */
  run(chunks: Chunk[], kernel: AdamKernel, beta1: number, beta2: number, epsilon: number): void {
    if (chunks.length > MAX_CHUNKS) throw new Error(`Adam: ${chunks.length} chunks in one call (at most ${MAX_CHUNKS})`);
    const { control, table } = this;
    table.set([beta1, beta2, epsilon], TABLE.beta1);
    chunks.forEach((c, i) => table.set(c, TABLE.chunks + i * TABLE.chunkWords));
    // 1 to 65535: a helper starts by waiting for generation 0 to change.
    const generation = (this.generation = (this.generation % 0xffff) + 1);
    Atomics.store(control, CONTROL.count, chunks.length);
    Atomics.store(control, CONTROL.done, 0);
    Atomics.store(control, CONTROL.claim, generation << 16);
    Atomics.store(control, CONTROL.generation, generation);
    Atomics.notify(control, CONTROL.generation);
    runClaimedChunks(control, table, kernel, generation, false);
    // Chunks a helper claimed and is still running.
    let done = Atomics.load(control, CONTROL.done);
    let last = performance.now();
    while (done < chunks.length) {
      Atomics.wait(control, CONTROL.done, done, 100);
      const now = Atomics.load(control, CONTROL.done);
      if (now !== done) [done, last] = [now, performance.now()];
      else if (Atomics.load(control, CONTROL.failed) || performance.now() - last > 30_000) {
        throw new Error(`Adam's helper thread stopped in the middle of a step${this.failure ? `: ${this.failure}` : ''}`);
      }
    }
  }

  /** Chunks the helpers have run since they started. */
  get helperChunks(): number {
    return Atomics.load(this.control, CONTROL.helped);
  }

  dispose(): void {
    for (const w of this.workers) void w.terminate();
  }
}
