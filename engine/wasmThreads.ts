// Runs tfjs-backend-wasm's threaded build in Node, where tfjs turns it off (tensorflow/tfjs#3830):
// its Emscripten pthreads hand scripts to their workers as Blobs and object URLs, which Node's
// worker_threads cannot load. During the backend's initialisation only, a Blob of script text is
// written to a file instead, its "object URL" is that file's path, and each worker's own script
// starts with a line that maps such a URL back to the path. XNNPACK then splits each matmul over
// `threads` threads; a thread computes whole output tiles, so results do not depend on the count.
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the worker's script needs before its own code: object URLs of our script "blobs" are file paths. */
const WORKER_PRELUDE = 'URL.createObjectURL=(b)=>b.path;URL.revokeObjectURL=()=>{};\n';
/** What the main script (the module factory, cut out of tfjs's Node bundle) expects of that bundle's scope. */
const MAIN_PRELUDE = 'var require$$0=require("fs"),require$$1=require("path"),require$$3=require("perf_hooks"),require$$4=require("os"),commonjsGlobal=globalThis;\n';

/** A script "blob": its text is in a file, which the path names. Plain data: it crosses postMessage. */
class ScriptFile {
  readonly path: string;
  constructor(parts: string[], prelude = '') {
    const text = prelude + parts.join('');
    const dir = join(tmpdir(), 'switchyard-wasm-threads');
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.js`);
    // Named by content and written by rename: processes starting together share the file, and
    // none reads another's half-written copy.
    if (!existsSync(this.path)) {
      const partial = `${this.path}.${process.pid}.tmp`;
      writeFileSync(partial, text);
      renameSync(partial, this.path);
    }
  }
}

/**
 * Initialises the wasm backend with `threads` threads: call instead of tf.setBackend('wasm'),
 * after setWasmPaths. Globals are patched for the initialisation only and restored after it.
 */
export async function setThreadedWasmBackend(threads: number): Promise<boolean> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  const g = globalThis as { Blob: unknown };
  const [blob, createObjectURL] = [g.Blob, URL.createObjectURL];
  // The Emscripten loader makes two blobs: the pthread worker's script and the main script, which
  // every worker imports.
  g.Blob = class {
    constructor(parts: string[], opts?: { type?: string }) {
      const isWorker = parts.some((p) => p.includes('parentPort'));
      return Object.assign(Object.create(null), { path: new ScriptFile(parts, isWorker ? WORKER_PRELUDE : MAIN_PRELUDE).path, type: opts?.type });
    }
  };
  URL.createObjectURL = (b: Blob | MediaSource) => {
    const path = (b as { path?: unknown }).path;
    return typeof path === 'string' ? path : createObjectURL(b);
  };
  // tfjs's wasm build caps its thread pool at half the logical cores (hyper-threads in a browser).
  const cpus = os.cpus;
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
  // The loader waits for its workers' "loaded" messages with the workers unref'd: without a handle
  // of its own, Node could find its event loop empty and exit (code 0) in the middle.
  const keepAlive = setInterval(() => undefined, 1000);
  // The pool of pthread workers the build starts (its own 8 otherwise; read in the bundle only, see
  // scripts/build.mjs). pthreadpool needs threads - 1 besides the calling thread, and a pool too small
  // hangs the initialisation (a worker made on demand cannot load while the caller waits): one spare.
  const pool = globalThis as { switchyardWasmThreadPool?: number };
  pool.switchyardWasmThreadPool = threads;
  try {
    if (!(await tf.setBackend('wasm'))) return false;
    await tf.ready();
    // The pool's threads wait for work forever: they must not keep Node's event loop (and so a
    // command that has finished) alive.
    const { PThread } = (tf.backend() as unknown as { wasm: { PThread: { runningWorkers: { unref(): void }[] } } }).wasm;
    for (const worker of PThread.runningWorkers) worker.unref();
    return true;
  } finally {
    g.Blob = blob;
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
    clearInterval(keepAlive);
    delete pool.switchyardWasmThreadPool;
  }
}
