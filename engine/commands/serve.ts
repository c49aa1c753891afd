// `switchyard serve`: the engine as a long-lived process. It prints one JSON handshake line on stdout
// (port, token, versions, backend), then speaks only WebSocket on 127.0.0.1; logs go to stderr. It
// exits cleanly, with a final checkpoint of any run, on SIGTERM or SIGINT or when its parent dies.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { version } from '../../package.json';
import { initBackend } from '../backend';
import { PROTOCOL_VERSION, type Handshake } from '../protocol';
import { DEFAULT_OUTBOX } from '../server/outbox';
import { startServer } from '../server/server';
import { EngineService } from '../server/service';
import { backendOption, positiveIntOption, UsageError } from './args';

export const SERVE_USAGE = `serve [--port 0] [--runs DIR] [--backend ...] [--event-rate N]   (token from SWITCHYARD_TOKEN, or a fresh one)`;

/** How often the engine checks that the process that started it is still there. */
const PARENT_POLL_MS = 1000;

export async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string', default: '0' }, runs: { type: 'string', default: 'runs' }, backend: { type: 'string' }, 'event-rate': { type: 'string' } },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0 (any free port) or a port number, not '${values.port}'`);
  const rate = positiveIntOption('event-rate', values['event-rate']) ?? DEFAULT_OUTBOX.rate;
  const token = process.env.SWITCHYARD_TOKEN ?? randomBytes(24).toString('hex');
  if (token.length < 16) throw new UsageError('SWITCHYARD_TOKEN must be at least 16 characters');
  const backend = await initBackend(backendOption(values.backend));
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

  const service = new EngineService(resolve(values.runs), backend);
  const server = await startServer(service, { port, token, log, outbox: { ...DEFAULT_OUTBOX, rate } });
  const handshake: Handshake = { switchyard: 'engine', port: server.port, token, version, protocolVersion: PROTOCOL_VERSION, backend, pid: process.pid };
  process.stdout.write(JSON.stringify(handshake) + '\n');
  log(`listening on 127.0.0.1:${server.port}, backend ${backend.name}, runs in ${service.runsDir}`);

  await new Promise<void>((done) => {
    const parent = process.ppid;
    const shutdown = (why: string) => {
      clearInterval(watch);
      log(`shutting down: ${why}`);
      void service
        .shutdown()
        .then(() => server.close())
        .then(done);
    };
    const watch = setInterval(() => {
      if (process.ppid !== parent) shutdown('the parent process is gone');
    }, PARENT_POLL_MS);
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
