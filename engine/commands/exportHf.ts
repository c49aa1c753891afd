// `switchyard export-hf RUN OUT`: a run as a Hugging Face model folder (config.json,
// model.safetensors, tokenizer.json, README.md).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exportHfModel } from '../formats/hf/exportRun';
import { findRun } from '../train/runStore';
import { UsageError } from './args';

export const EXPORT_HF_USAGE = `export-hf RUN|PATH OUT [--runs DIR]`;

export async function exportHf(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: { runs: { type: 'string', default: 'runs' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 2) throw new UsageError('export-hf takes a run and an output folder');
  const run = findRun(resolve(values.runs), positionals[0]);
  const { step, parameters } = await exportHfModel(run, resolve(positionals[1]));
  console.log(`exported run ${run.id} at step ${step} (${parameters.toLocaleString('en')} parameters) to ${resolve(positionals[1])}`);
}
