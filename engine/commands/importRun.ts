// `switchyard import --from megatron PATH [--name NAME] [--experts E] [--runs DIR]`: what another
// trainer logged becomes a run folder in the run format (marked external in its config.json).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { importMegatronTrace } from '../formats/megatron/importRun';
import { positiveIntOption, UsageError } from './args';

export const IMPORT_USAGE = `import --from megatron PATH [--name NAME] [--experts E] [--runs DIR]   (PATH: Megatron's --moe-routing-trace-path folder)`;

export async function importRun(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { from: { type: 'string' }, name: { type: 'string' }, experts: { type: 'string' }, runs: { type: 'string', default: 'runs' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.from !== 'megatron') throw new UsageError(`--from must be megatron (a router trace), not '${values.from ?? ''}'`);
  if (positionals.length !== 1) throw new UsageError('import takes one trace folder or file');
  const { run, records, warnings } = importMegatronTrace(positionals[0], resolve(values.runs), values.name, positiveIntOption('experts', values.experts));
  for (const w of warnings) console.warn(`warning: ${w}`);
  console.log(`imported ${records} steps from ${positionals[0]} as run ${run.id}`);
  console.log(`  ${run.path}`);
}
