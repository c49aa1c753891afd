// `switchyard import --from megatron|fairseq PATH [--name NAME] [--experts E] [--runs DIR]`: what another
// trainer logged becomes a run folder in the run format (marked external in its config.json).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { importFairseq } from '../formats/fairseq/importRun';
import { importMegatron } from '../formats/megatron/importRun';
import { positiveIntOption, UsageError } from './args';

export const IMPORT_USAGE = `import --from megatron PATH [--name NAME] [--experts E] [--expert-parallel EP] [--runs DIR]   (PATH: a --moe-routing-trace-path folder, or tokens_per_expert/ of --save-tokens-per-expert-interval)
  import --from fairseq LOG [--name NAME] [--runs DIR]   (LOG: fairseq-train's output with --log-format json)`;

export async function importRun(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { from: { type: 'string' }, name: { type: 'string' }, experts: { type: 'string' }, 'expert-parallel': { type: 'string' }, runs: { type: 'string', default: 'runs' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.from !== 'megatron' && values.from !== 'fairseq') {
    throw new UsageError(`--from must be megatron (a router trace or tokens-per-expert dump) or fairseq (a --log-format json log), not '${values.from ?? ''}'`);
  }
  if (positionals.length !== 1) throw new UsageError('import takes one folder or file');
  if (values.from === 'fairseq' && (values.experts || values['expert-parallel'])) throw new UsageError('--experts and --expert-parallel are for --from megatron');
  const { run, records, warnings } =
    values.from === 'fairseq'
      ? importFairseq(positionals[0], resolve(values.runs), { name: values.name })
      : importMegatron(positionals[0], resolve(values.runs), {
          name: values.name,
          numExperts: positiveIntOption('experts', values.experts),
          expertParallel: positiveIntOption('expert-parallel', values['expert-parallel']),
        });
  for (const w of warnings) console.warn(`warning: ${w}`);
  console.log(`imported ${records} steps from ${positionals[0]} as run ${run.id}`);
  console.log(`  ${run.path}`);
}
