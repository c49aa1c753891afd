// Starts the bundled engine as a child process of the extension host and reads its handshake line.
// The editor's own runtime runs it as plain Node (ELECTRON_RUN_AS_NODE), unless the user names a
// Node executable (e.g. one with the native TensorFlow backend installed).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { handshakeSchema, type Handshake } from '../../engine/protocol';

export interface EngineProcessOptions {
  enginePath: string;
  nodePath: string;
  runsDir: string;
  backend: string;
  /** SWITCHYARD_WASM_THREADS for the engine; 0 leaves the engine's default. */
  wasmThreads: number;
  eventsPerSecond: number;
  /** Each stderr line of the engine (its log). */
  log: (line: string) => void;
  /** ms to wait for the handshake line. */
  startTimeoutMs: number;
}

export interface EngineProcess {
  child: ChildProcess;
  handshake: Handshake;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<string>;
}

export function startEngineProcess(o: EngineProcessOptions): Promise<EngineProcess> {
  const runtime = o.nodePath || process.execPath;
  const args = [o.enginePath, 'serve', '--port', '0', '--runs', o.runsDir, '--backend', o.backend, '--event-rate', String(o.eventsPerSecond)];
  const env = { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...(o.wasmThreads > 0 ? { SWITCHYARD_WASM_THREADS: String(o.wasmThreads) } : {}) };
  const child = spawn(runtime, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`)));
  createInterface({ input: child.stderr! }).on('line', o.log);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the engine did not start within ${o.startTimeoutMs / 1000} s`));
    }, o.startTimeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start the engine with ${runtime}: ${err.message}`));
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the engine exited before its handshake (${how}); see the Switchyard log`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      const hs = handshakeSchema.safeParse(parsed);
      if (!hs.success) {
        child.kill();
        return reject(new Error(`the engine's handshake line is not valid: ${line.slice(0, 200)}`));
      }
      resolve({ child, handshake: hs.data, exited });
    });
  });
}
