// `switchyard import-hf DIR [--name NAME]`: a Hugging Face Switch Transformers model folder becomes
// an inference-only run that `infer` (and Run on Selection) works on.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { importHfModel } from '../formats/hf/importRun';
import { UsageError } from './args';

export const IMPORT_HF_USAGE = `import-hf DIR [--name NAME] [--runs DIR]`;

export async function importHf(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { name: { type: 'string' }, runs: { type: 'string', default: 'runs' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('import-hf takes one model folder');
  const started = Date.now();
  const { run, file, parameters } = await importHfModel(positionals[0], resolve(values.runs), values.name);
  console.log(`imported ${parameters.toLocaleString('en')} parameters from ${file} in ${((Date.now() - started) / 1000).toFixed(1)} s as run ${run.id}`);
  console.log(`  ${run.path}`);
}
