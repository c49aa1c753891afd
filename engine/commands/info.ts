// `switchyard info`: starts a backend and prints what runs.
import { parseArgs } from 'node:util';
import { version } from '../../package.json';
import { initBackend } from '../backend';
import { TRAINING_PRESETS } from '../train/runConfig';
import { backendOption } from './args';

export async function info(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { backend: { type: 'string' } }, strict: true });
  const backend = await initBackend(backendOption(values.backend));
  // training.dataParallel: a new run's default (from its preset), the most it takes, and the wasm
  // threads each replica runs with (worker threads on the wasm and cpu backends).
  const dataParallel = { default: TRAINING_PRESETS.tiny.dataParallel ?? 1, max: 2, wasmThreadsPerReplica: 1, backends: ['wasm', 'cpu'] };
  console.log(JSON.stringify({ version, backend, dataParallel }));
}
