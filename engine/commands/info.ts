// `switchyard info`: starts a backend and prints what runs.
import { parseArgs } from 'node:util';
import { version } from '../../package.json';
import { initBackend } from '../backend';
import { backendOption } from './args';

export async function info(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { backend: { type: 'string' } }, strict: true });
  const backend = await initBackend(backendOption(values.backend));
  console.log(JSON.stringify({ version, backend }));
}
