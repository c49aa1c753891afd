// Owns the connection to the engine: starts it lazily (the first command or view that needs it), or
// attaches to a remote one; forwards its events; notices within moments when it dies, says so with
// Restart and Show Log, and fails pending requests instead of hanging.
import { mkdirSync } from 'node:fs';
import * as vscode from 'vscode';
import { EngineClient, EngineRequestError } from '../../engine/client';
import type { EngineEvent, Method, Params, Result } from '../../engine/protocol';
import { readSettings } from '../settings';
import { startEngineProcess, type EngineProcess } from './engineProcess';

export type EngineState = 'stopped' | 'starting' | 'running' | 'crashed';

export interface EngineInfo {
  state: EngineState;
  backend?: string;
  /** Where it runs: 'local (pid N)' or the remote URL. */
  where?: string;
  /** Why it stopped, when it crashed. */
  reason?: string;
}

export class EngineManager implements vscode.Disposable {
  private readonly stateEmitter = new vscode.EventEmitter<EngineInfo>();
  private readonly eventEmitter = new vscode.EventEmitter<EngineEvent>();
  readonly onDidChangeState = this.stateEmitter.event;
  readonly onEvent = this.eventEmitter.event;
  private info: EngineInfo = { state: 'stopped' };
  private connection: Promise<EngineClient> | null = null;
  /** The connected client whose close means the engine went away (not one this manager closed). */
  private current: EngineClient | null = null;
  private process: EngineProcess | null = null;
  /** Set while the extension itself stops the engine, so that the exit is not reported as a crash. */
  private stopping = false;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {}

  get state(): EngineInfo {
    return this.info;
  }

  /** The connected client, starting or attaching to the engine first if needed. */
  client(): Promise<EngineClient> {
    this.connection ??= this.connect().catch((err: unknown) => {
      this.connection = null;
      this.setState({ state: 'crashed', reason: (err as Error).message });
      throw err;
    });
    return this.connection;
  }

  async request<M extends Method>(method: M, params: Params<M>, timeoutMs?: number): Promise<Result<M>> {
    const client = await this.client();
    return client.request(method, params, timeoutMs);
  }

  async restart(): Promise<EngineInfo> {
    await this.stop();
    await this.client();
    return this.info;
  }

  /** Stops a local engine (it checkpoints any run first) or leaves a remote one. */
  async stop(): Promise<void> {
    this.stopping = true;
    try {
      const connection = this.connection;
      this.connection = null;
      this.current = null;
      const client = await connection?.catch(() => null);
      if (client && this.current === client) this.current = null; // a connect that ended meanwhile
      client?.close();
      const p = this.process;
      this.process = null;
      if (p && p.child.exitCode === null) {
        p.child.kill('SIGTERM');
        const killer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
        await p.exited;
        clearTimeout(killer);
      }
      this.setState({ state: 'stopped' });
    } finally {
      this.stopping = false;
    }
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.eventEmitter.dispose();
  }

  private async connect(): Promise<EngineClient> {
    const s = readSettings();
    this.setState({ state: 'starting' });
    let url: string;
    let token: string;
    let where: string;
    if (s.remoteUrl) {
      url = s.remoteUrl;
      token = s.remoteToken;
      where = s.remoteUrl;
      this.log.info(`attaching to the engine at ${url}`);
    } else {
      const runsDir = this.runsDir(s.runsFolder);
      mkdirSync(runsDir, { recursive: true });
      this.process = await startEngineProcess({
        enginePath: this.context.asAbsolutePath('dist/engine.js'),
        nodePath: s.nodePath,
        runsDir,
        backend: s.backend,
        wasmThreads: s.wasmThreads,
        eventsPerSecond: s.eventsPerSecond,
        log: (line) => this.log.info(`[engine] ${line}`),
        startTimeoutMs: 60_000,
      });
      const p = this.process;
      void p.exited.then((how) => this.onExit(p, how));
      url = `ws://127.0.0.1:${p.handshake.port}`;
      token = p.handshake.token;
      where = `local (pid ${p.handshake.pid})`;
    }
    let client: EngineClient;
    try {
      client = await EngineClient.connect(url, token, { requestTimeoutMs: s.requestTimeoutMs });
    } catch (err) {
      throw new Error(s.remoteUrl ? `cannot attach to the engine at ${url}: ${(err as Error).message}` : (err as Error).message);
    }
    client.on('event', (e) => this.eventEmitter.fire(e));
    client.on('invalid', (why) => this.log.warn(why));
    this.current = client;
    client.on('close', (code) => {
      // A connection closed by stop() or restart() (whose close may arrive after a new connection
      // began) is not a crash.
      if (this.stopping || this.current !== client) return;
      this.current = null;
      this.connection = null;
      // A local engine's exit is reported by onExit, with its exit code.
      if (!this.process) this.crashed(`the connection to ${where} closed (${code})`);
    });
    const status = await client.request('status', {});
    await client.request('setMeshConfig', { mesh: s.mesh }).catch((err: Error) => this.log.warn(`mesh settings refused: ${err.message}`));
    this.log.info(`engine ${status.version} (protocol ${status.protocolVersion}) on ${status.backend.name} at ${where}; runs in ${status.runsDir}`);
    this.setState({ state: 'running', backend: status.backend.name, where });
    return client;
  }

  private onExit(p: EngineProcess, how: string): void {
    if (this.stopping || this.process !== p) return;
    this.process = null;
    this.connection = null;
    this.current = null;
    this.crashed(`the engine process ended (${how})`);
  }

  private crashed(reason: string): void {
    this.log.error(reason);
    this.setState({ state: 'crashed', reason });
    void vscode.window.showErrorMessage(`Switchyard: ${reason}.`, 'Restart', 'Show Log').then((choice) => {
      if (choice === 'Restart') void vscode.commands.executeCommand('switchyard.restartEngine');
      if (choice === 'Show Log') this.log.show();
    });
  }

  private runsDir(where: 'extensionStorage' | 'workspace'): string {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (where === 'workspace' && folder) return vscode.Uri.joinPath(folder.uri, '.switchyard', 'runs').fsPath;
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'runs').fsPath;
  }

  private setState(info: EngineInfo): void {
    this.info = info;
    this.stateEmitter.fire(info);
  }
}

/** A message for the user from any failure of a request. */
export function describeError(err: unknown): string {
  if (err instanceof EngineRequestError && err.code === 'timeout') return `${err.message}. Is the engine busy or stuck? See Switchyard: Show Engine Log.`;
  return err instanceof Error ? err.message : String(err);
}
