// Chooses the TensorFlow.js backend: the native one when the user installed it, else the embedded
// wasm backend (SIMD), else the pure-JS cpu backend. Whatever runs is reported, never guessed.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { availableParallelism } from 'node:os';
import { registerFastWasmKernels } from './kernels';
import { resourceDir } from './resources';
import { setThreadedWasmBackend } from './wasmThreads';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type BackendName = Exclude<BackendChoice, 'auto'>;

export interface BackendInfo {
  name: BackendName;
  /** Why a preferred backend was passed over, for the user to read. */
  fallbacks: string[];
  simd?: boolean;
  threads?: number;
}

/** Where the wasm binaries are: beside the bundle (dist/) or in the package (source tree). */
export function wasmBinaryDir(): string {
  return resourceDir('', '@tensorflow/tfjs-backend-wasm', 'tfjs-backend-wasm-simd.wasm');
}

async function tryBackend(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    // Optional dependency: present only where its native install succeeded.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node');
  } else if (name === 'wasm' && !wasmPrepared) {
    // Paths must be set before the wasm backend first initializes, and only then.
    setWasmPaths(wasmBinaryDir() + '/');
    registerFastWasmKernels();
    wasmPrepared = true;
  }
  const threads = name === 'wasm' ? wasmThreads() : 1;
  if (!(await (threads > 1 ? setThreadedWasmBackend(threads) : tf.setBackend(name)))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

/**
 * Threads for the wasm backend: SWITCHYARD_WASM_THREADS (1 = tfjs's own single-threaded build),
 * by default one per core up to 2 (the machines this is made for have two).
 */
export function wasmThreads(env = process.env): number {
  const raw = env.SWITCHYARD_WASM_THREADS;
  if (raw === undefined || raw === '') return Math.min(2, availableParallelism());
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`SWITCHYARD_WASM_THREADS must be a whole number from 1 to 64, not '${raw}'`);
  return n;
}

let wasmPrepared = false;

/** Selects and initializes a backend. `auto` prefers tensorflow > wasm > cpu. */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  const order: BackendName[] = choice === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [choice];
  const fallbacks: string[] = [];
  for (const name of order) {
    if (tf.getBackend() === name) return describe(name, fallbacks);
    try {
      await tryBackend(name);
      return describe(name, fallbacks);
    } catch (err) {
      fallbacks.push(`${name}: ${firstLine(err)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start (${fallbacks.join('; ')})`);
}

function describe(name: BackendName, fallbacks: string[]): BackendInfo {
  const info: BackendInfo = { name, fallbacks };
  if (name === 'wasm') {
    info.simd = Boolean(tf.env().get('WASM_HAS_SIMD_SUPPORT'));
    info.threads = (tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } }).wasm.tfjs.getThreadsCount();
  }
  return info;
}

/** e.g. `wasm (SIMD, 2 threads)`, for a log line. */
export function backendLabel(info: BackendInfo): string {
  const traits = [info.simd ? 'SIMD' : '', info.threads ? `${info.threads} thread${info.threads > 1 ? 's' : ''}` : ''].filter(Boolean);
  return traits.length ? `${info.name} (${traits.join(', ')})` : info.name;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0];
}
