// A helper thread of Adam's step (adamThreads.ts): waits for each call, then claims chunks beside
// the engine's thread. It holds no state of its own between calls.
import { workerData } from 'node:worker_threads';
import { ADAM_WASM } from './adamBinary';
import { CONTROL, runClaimedChunks, type AdamHelperInit, type AdamKernel } from './adamThreads';

const { memory, control: controlBuffer, table: tableBuffer } = workerData as AdamHelperInit;
const control = new Int32Array(controlBuffer);
const table = new Float64Array(tableBuffer);
const kernel = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(ADAM_WASM.shared, 'base64')), { env: { memory } }).exports as unknown as AdamKernel;

let seen = 0;
for (;;) {
  // A bounded wait: the thread never sleeps where the process's exit cannot end it.
  Atomics.wait(control, CONTROL.generation, seen, 1000);
  const generation = Atomics.load(control, CONTROL.generation);
  if (generation === seen) continue;
  seen = generation;
  try {
    runClaimedChunks(control, table, kernel, generation, true);
  } catch (err) {
    Atomics.store(control, CONTROL.failed, 1);
    Atomics.notify(control, CONTROL.done);
    throw err;
  }
}
