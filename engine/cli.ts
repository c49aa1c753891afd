// `switchyard <command>`: the engine's command line. Every error is one clear line and exit code 1.
import { parseArgs } from 'node:util';
import { BACKEND_CHOICES, initBackend, type BackendChoice } from './backend';
import { version } from '../package.json';

const USAGE = `usage: switchyard <command> [options]

commands:
  info [--backend auto|tensorflow|wasm|cpu]   start a backend and print what runs, as JSON
`;

class UsageError extends Error {}

function backendOption(value: string | undefined): BackendChoice {
  const choice = (value ?? 'auto') as BackendChoice;
  if (!BACKEND_CHOICES.includes(choice)) throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, not '${value}'`);
  return choice;
}

async function info(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { backend: { type: 'string' } }, strict: true });
  const backend = await initBackend(backendOption(values.backend));
  console.log(JSON.stringify({ version, backend }));
}

const commands: Record<string, (argv: string[]) => Promise<void>> = { info };

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? 0 : 1;
  }
  const command = commands[name];
  try {
    if (!command) throw new UsageError(`unknown command '${name}'`);
    await command(rest);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`switchyard: ${message}\n${err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? USAGE : ''}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
