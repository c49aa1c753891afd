// Shared by the server tests (server-*.test.ts): a real engine process (`dist/engine.js serve`) on
// 127.0.0.1, real `ws` clients, and waits on real signals. It holds no tests: it is named *.test.ts
// only to fit the server-*.test.ts files this work could add (server-harness.ts would suit it better).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { EngineClient } from '../../engine/client';
import { handshakeSchema, PROTOCOL_VERSION, type EngineEvent, type Handshake } from '../../engine/protocol';
import { sentences } from './setup';

export const root = join(__dirname, '..', '..');
/** The engine under test: dist/engine.js, or another build named by SWITCHYARD_ENGINE. */
export const bundle = process.env.SWITCHYARD_ENGINE ?? join(root, 'dist', 'engine.js');
export const backend = process.env.SWITCHYARD_BACKEND ?? 'wasm';

/** A model small enough that a step takes tens of milliseconds. */
export const TINY = {
  model: { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4 },
  training: { batchSize: 2, inputLength: 32, vocabSize: 600, validateEvery: 5, checkpointEvery: 5, validationBatches: 1 },
};

export function ensureBuilt(): void {
  if (existsSync(bundle)) return;
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `npm run build failed: ${r.stderr}`);
}

const temps: string[] = [];
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-server-${label}-`));
  temps.push(dir);
  return dir;
}

/** A folder of a few small generated text files: a corpus that loads in milliseconds. */
export function makeCorpus(parent: string): string {
  const dir = join(parent, 'corpus');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(join(dir, `part${i}.txt`), sentences(60, 3000 + i) + '\n');
  return dir;
}

export interface Engine {
  child: ChildProcess;
  pid: number;
  handshake: Handshake;
  url: string;
  runsDir: string;
  /** Everything the engine wrote on stderr, and on stdout, so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every engine process spawned, to kill in cleanUp whatever became of its start. */
const spawned: { child: ChildProcess; exited: Promise<unknown> }[] = [];

/** Spawns `dist/engine.js serve --port 0` and resolves with its validated handshake line. */
export async function startEngine(runsDir: string, opts: { args?: string[]; token?: string } = {}): Promise<Engine> {
  const env = { ...process.env };
  if (opts.token === undefined) delete env.SWITCHYARD_TOKEN;
  else env.SWITCHYARD_TOKEN = opts.token;
  const child = spawn(process.execPath, [bundle, 'serve', '--port', '0', '--runs', runsDir, '--backend', backend, ...(opts.args ?? [])], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = killAtCleanUp(child);
  const line = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    const timer = setTimeout(() => reject(new Error(`no handshake within 60 s; stderr:\n${stderr}`)), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve(stdout.slice(0, nl));
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the engine exited (${code ?? signal}) before its handshake; stderr:\n${stderr}`));
    });
  });
  let handshake: Handshake;
  try {
    handshake = handshakeSchema.parse(JSON.parse(line));
  } catch (err) {
    throw new Error(`a bad handshake line ${JSON.stringify(line)}: ${(err as Error).message}`);
  }
  const engine: Engine = { child, pid: child.pid as number, handshake, url: `ws://127.0.0.1:${handshake.port}`, runsDir, stderr: () => stderr, stdout: () => stdout, exited };
  return engine;
}

export function isAlive(engine: Engine): boolean {
  return engine.child.exitCode === null && engine.child.signalCode === null;
}

/** Registers a child process for cleanUp to kill; resolves when it has exited. */
export function killAtCleanUp(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  spawned.push({ child, exited });
  return exited;
}

/** Processes that are not our children (an engine started by another process), by pid and a string of their command line. */
const others: { pid: number; marker: string }[] = [];
export function killPidAtCleanUp(pid: number, marker: string): void {
  others.push({ pid, marker });
}

/** Kills (by pid) every engine still running and removes the temporary folders. Call from `after`. */
export async function cleanUp(): Promise<void> {
  for (const { child, exited } of spawned.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
  }
  for (const { pid, marker } of others.splice(0)) {
    // Only while the pid is still that process (a finished one's pid may be someone else's now).
    const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (cmdline.includes(marker)) process.kill(pid, 'SIGKILL');
  }
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function connect(engine: Engine): Promise<EngineClient> {
  return EngineClient.connect(engine.url, engine.handshake.token, { timeoutMs: 20_000, requestTimeoutMs: 60_000 });
}

/** Items as they arrive, and waits for one that matches. */
export class Inbox<T> {
  readonly items: T[] = [];
  private waiters: { from: number; pred: (item: T) => boolean; resolve: (item: T) => void }[] = [];

  push(item: T): void {
    const index = this.items.push(item) - 1;
    this.waiters = this.waiters.filter((w) => {
      if (index < w.from || !w.pred(item)) return true;
      w.resolve(item);
      return false;
    });
  }

  /** Where the next item will go: pass it as `from` to wait only for later items. */
  get mark(): number {
    return this.items.length;
  }

  waitFor<S extends T>(pred: (item: T) => item is S, what: string, timeoutMs?: number, from?: number): Promise<S>;
  waitFor(pred: (item: T) => boolean, what: string, timeoutMs?: number, from?: number): Promise<T>;
  waitFor(pred: (item: T) => boolean, what: string, timeoutMs = 30_000, from = 0): Promise<T> {
    const found = this.items.slice(from).find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        from,
        pred,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

export type StepEvent = Extract<EngineEvent, { event: 'step' }>;
export type StateEvent = Extract<EngineEvent, { event: 'state' }>;

/** Every event an EngineClient receives. */
export function collectEvents(client: EngineClient): Inbox<EngineEvent> {
  const inbox = new Inbox<EngineEvent>();
  client.on('event', (e) => inbox.push(e));
  return inbox;
}

export const isStep =
  (min = 0) =>
  (e: EngineEvent): e is StepEvent =>
    e.event === 'step' && e.data.step >= min;
export const isState =
  (state: string) =>
  (e: EngineEvent): e is StateEvent =>
    e.event === 'state' && e.data.state === state;

/** A raw `ws` connection that records every message (JSON-parsed when it can be) and its close. */
export class RawClient {
  readonly messages = new Inbox<unknown>();
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  bytes = 0;
  /** The HTTP status of a refused upgrade. */
  upgradeStatus: number | undefined;

  /** `keep` maps each parsed message to what is stored (a summary, to keep big streams cheap). */
  constructor(
    readonly ws: WebSocket,
    keep: (message: unknown) => unknown = (m) => m,
  ) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.on('error', reject);
      ws.once('unexpected-response', (req, res) => {
        this.upgradeStatus = res.statusCode;
        req.destroy();
        reject(new Error(`HTTP ${res.statusCode} at upgrade`));
      });
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer) => {
      this.bytes += data.length;
      const text = data.toString();
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        message = text;
      }
      this.messages.push(keep(message));
    });
  }

  static open(engine: Engine, options: WebSocket.ClientOptions = {}, keep?: (message: unknown) => unknown): RawClient {
    return new RawClient(new WebSocket(engine.url, { maxPayload: 64 << 20, ...options }), keep);
  }

  /** Opens a connection and says hello with the engine's token; resolves after the welcome. */
  static async hello(engine: Engine, keep?: (message: unknown) => unknown): Promise<RawClient> {
    const c = RawClient.open(engine, {}, keep);
    await c.opened;
    c.send({ type: 'hello', token: engine.handshake.token, protocolVersion: PROTOCOL_VERSION });
    await c.messages.waitFor((m) => (m as { type?: string }).type === 'welcome', 'the welcome');
    return c;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }
}

/** The resident set size of a process, MB. */
export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

/** For "nothing happens" checks only, where there is no signal to wait on. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
