// `switchyard <command>`: the engine's command line. Every error is one clear line and exit code 1.
import { analyze, ANALYZE_USAGE } from './commands/analyze';
import { experiment, EXPERIMENT_USAGE } from './commands/experiment';
import { exportHf, EXPORT_HF_USAGE } from './commands/exportHf';
import { importHf, IMPORT_HF_USAGE } from './commands/importHf';
import { importRun, IMPORT_USAGE } from './commands/importRun';
import { info } from './commands/info';
import { distill, DISTILL_USAGE, finetune, FINETUNE_USAGE } from './commands/startFrom';
import { infer, INFER_USAGE } from './commands/infer';
import { serve, SERVE_USAGE } from './commands/serve';
import { train, TRAIN_USAGE } from './commands/train';
import { UsageError } from './commands/args';

const USAGE = `usage: switchyard <command> [options]

commands:
  ${TRAIN_USAGE}
  ${EXPERIMENT_USAGE}
  ${DISTILL_USAGE}
  ${FINETUNE_USAGE}
  ${INFER_USAGE}
  ${ANALYZE_USAGE}
  ${SERVE_USAGE}
  ${IMPORT_HF_USAGE}
  ${EXPORT_HF_USAGE}
  ${IMPORT_USAGE}
  info [--backend auto|tensorflow|wasm|cpu]
`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  train,
  experiment,
  distill,
  finetune,
  infer,
  analyze,
  serve,
  info,
  'import-hf': importHf,
  'export-hf': exportHf,
  import: importRun,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? 0 : 1;
  }
  try {
    const command = commands[name];
    if (!command) throw new UsageError(`unknown command '${name}'`);
    await command(rest);
    return 0;
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`switchyard: ${err instanceof Error ? err.message : String(err)}\n${usage ? `\n${USAGE}` : ''}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
