// `npm run bench:train`: whole-model training throughput of the presets on the wasm and cpu
// backends, with each process's peak RSS and wasm heap, small at batch 16 × 256 in micro-batches,
// and the loss the tiny preset reaches in five minutes on the Brown corpus. Each measurement runs
// in its own process, one after another (a process holds one tfjs backend).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendChoice } from '../backend';
import { resolveRunConfig } from '../train/runConfig';
import { Trainer } from '../train/trainer';

const { values: args } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'wasm' },
    preset: { type: 'string', default: 'tiny' },
    steps: { type: 'string', default: '5' },
    minutes: { type: 'string', default: '0' },
    /** Training overrides as JSON, e.g. {"batchSize":16,"inputLength":256,"microBatchSize":8}. */
    training: { type: 'string', default: '{}' },
    /** Leave out the five-minute tiny run. */
    quick: { type: 'boolean', default: false },
  },
});

interface Measurement {
  preset: string;
  backend: string;
  steps: number;
  seconds: number;
  tokensPerSecond: number;
  /** The process's peak resident set, MiB. */
  peakRssMiB: number;
  /** The wasm backend's heap at the end (it only grows, so this is its peak), MiB; absent on other backends. */
  wasmHeapMiB?: number;
  initialValidationCrossEntropy?: number;
  validationCrossEntropy?: number;
}

/** Trains `preset` for `steps` timed steps after one untimed one, or for `minutes` of wall time. */
async function measure(backendChoice: BackendChoice, preset: string, steps: number, minutes: number, training: object): Promise<Measurement> {
  const backend = await initBackend(backendChoice);
  const runsDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  try {
    const trainer = await Trainer.create(runsDir, resolveRunConfig({ preset, overrides: { training }, steps: 1_000_000 }), backend.name);
    const initial = minutes ? trainer.validate().crossEntropy : undefined;
    trainer.trainStep(); // warm-up: kernel set-up, wasm heap growth, Adam's slots
    let tokens = 0;
    let done = 0;
    const start = performance.now();
    const deadline = start + minutes * 60_000;
    while (minutes ? performance.now() < deadline : done < steps) {
      tokens += trainer.trainStep().tokens;
      done++;
    }
    const seconds = (performance.now() - start) / 1000;
    const heap = (tf.backend() as { wasm?: { HEAP8: Int8Array } }).wasm?.HEAP8.length;
    const result: Measurement = {
      preset,
      backend: backend.name,
      steps: done,
      seconds,
      tokensPerSecond: tokens / seconds,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      ...(heap ? { wasmHeapMiB: heap / 2 ** 20 } : {}),
    };
    if (minutes) Object.assign(result, { initialValidationCrossEntropy: initial, validationCrossEntropy: trainer.validate().crossEntropy });
    trainer.dispose();
    return result;
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

function runChild(backend: string, preset: string, steps: number, minutes = 0, training: object = {}, threads = 1): Measurement | string {
  const argv = ['--child', '--backend', backend, '--preset', preset, '--steps', String(steps), '--minutes', String(minutes), '--training', JSON.stringify(training)];
  const res = spawnSync(process.execPath, [...process.execArgv, __filename, ...argv], {
    encoding: 'utf8',
    env: { ...process.env, SWITCHYARD_WASM_THREADS: String(threads) },
  });
  if (res.status !== 0) return `failed: ${res.stderr.trim().split('\n').pop()}`;
  return JSON.parse(res.stdout.trim().split('\n').pop() as string) as Measurement;
}

async function main(): Promise<void> {
  if (args.child) {
    console.log(JSON.stringify(await measure(args.backend as BackendChoice, args.preset, Number(args.steps), Number(args.minutes), JSON.parse(args.training) as object)));
    return;
  }
  console.log(`# Switchyard training benchmark (${new Date().toISOString()})\n`);
  console.log('| preset | batch | backend | threads | timed steps | tokens/s | peak RSS | wasm heap |');
  console.log('|---|---|---|---|---|---|---|---|');
  const micro = { batchSize: 16, inputLength: 256, microBatchSize: 8 };
  // Two replicas in worker threads, one wasm thread each (the engine's own thread only takes the optimizer step).
  const dp = { dataParallel: 2 };
  const speed = new Map<string, number>();
  for (const [preset, backend, threads, steps, training] of [
    ['tiny', 'wasm', 1, 10, {}],
    ['tiny', 'wasm', 2, 10, {}],
    ['tiny', 'wasm', 1, 10, dp],
    ['small', 'wasm', 1, 4, {}],
    ['small', 'wasm', 2, 4, {}],
    ['small', 'wasm', 1, 4, dp],
    ['small', 'wasm', 2, 2, micro],
    ['tiny', 'cpu', 1, 2, {}],
    ['small', 'cpu', 1, 1, {}],
  ] as const) {
    const m = runChild(backend, preset, steps, 0, training, threads);
    const batch = 'batchSize' in training ? `${training.batchSize} × ${training.inputLength} (micro ${training.microBatchSize})` : 'preset';
    const replicas = 'dataParallel' in training;
    const label = replicas ? '2 replicas × 1' : String(threads);
    const mib = (x: number | undefined) => (x === undefined ? '-' : `${x.toFixed(0)} MiB`);
    if (typeof m !== 'string' && batch === 'preset') speed.set(`${preset}/${backend}/${replicas ? 'dp2' : threads}`, m.tokensPerSecond);
    console.log(
      typeof m === 'string'
        ? `| ${preset} | ${batch} | ${backend} | ${label} | - | ${m} | | |`
        : `| ${preset} | ${batch} | ${m.backend} | ${label} | ${m.steps} | ${m.tokensPerSecond.toFixed(0)} | ${mib(m.peakRssMiB)} | ${mib(m.wasmHeapMiB)} |`,
    );
  }
  const ratio = (preset: string, over: string, under: string) => {
    const [a, b] = [speed.get(`${preset}/wasm/${over}`), speed.get(`${preset}/wasm/${under}`)];
    return a && b ? `${(a / b).toFixed(2)}×` : 'n/a';
  };
  console.log(`
wasm, 2 threads / 1 thread (tokens/s): tiny ${ratio('tiny', '2', '1')}, small ${ratio('small', '2', '1')}
data-parallel, 2 replicas / 1 thread: tiny ${ratio('tiny', 'dp2', '1')}, small ${ratio('small', 'dp2', '1')}; / 2 threads: tiny ${ratio('tiny', 'dp2', '2')}, small ${ratio('small', 'dp2', '2')}`);
  if (args.quick) return;
  const five = runChild('wasm', 'tiny', 0, 5);
  if (typeof five === 'string') console.log(`\ntiny, 5 minutes on wasm: ${five}`);
  else {
    console.log(
      `\ntiny on wasm, Brown corpus, 5 minutes: ${five.steps} steps, ${five.tokensPerSecond.toFixed(0)} tokens/s; ` +
        `validation cross-entropy ${five.initialValidationCrossEntropy?.toFixed(3)} -> ${five.validationCrossEntropy?.toFixed(3)}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(`bench:train failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
