// A typed client of the engine's protocol, for the extension, the tests and the benchmarks: it
// says hello with the token, checks the protocol version, matches each response to its request (with
// a timeout), validates everything it receives, and emits the engine's events.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  describeIssues,
  MAX_FRAME_BYTES,
  parseResult,
  PROTOCOL_VERSION,
  serverMessageSchema,
  type EngineEvent,
  type ErrorCode,
  type Method,
  type Params,
  type Result,
} from './protocol';

export class EngineRequestError extends Error {
  constructor(
    readonly code: ErrorCode | 'timeout' | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'EngineRequestError';
  }
}

interface Pending {
  method: Method;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ConnectOptions {
  /** ms to wait for the connection and the welcome. */
  timeoutMs?: number;
  /** Default ms a request may take before it fails with code 'timeout'. */
  requestTimeoutMs?: number;
}

export class EngineClient extends EventEmitter<{ event: [EngineEvent]; close: [number, string]; invalid: [string] }> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly requestTimeoutMs: number,
  ) {
    super();
    ws.on('message', (data) => this.receive(data.toString()));
    ws.on('close', (code, reason) => {
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new EngineRequestError('closed', `the engine connection closed (${code}) before ${p.method} answered`));
        this.pending.delete(id);
      }
      this.emit('close', code, reason.toString());
    });
  }

  /** Connects to ws://127.0.0.1:port (or a URL) and authenticates with `token`. */
  static connect(url: string, token: string, options: ConnectOptions = {}): Promise<EngineClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { maxPayload: 64 * MAX_FRAME_BYTES });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new EngineRequestError('timeout', `no answer from the engine at ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      ws.once('error', (err) => fail(new EngineRequestError('closed', `cannot connect to the engine at ${url}: ${err.message}`)));
      ws.once('close', (code, reason) => fail(new EngineRequestError('unauthorized', `the engine closed the connection (${code} ${reason.toString() || 'no reason'})`)));
      ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', token, protocolVersion: PROTOCOL_VERSION })));
      ws.once('message', (data) => {
        clearTimeout(timer);
        ws.removeAllListeners();
        const msg = serverMessageSchema.safeParse(safeJson(data.toString()));
        if (msg.success && msg.data.type === 'welcome') return resolve(new EngineClient(ws, options.requestTimeoutMs ?? 60_000));
        ws.close();
        const why = msg.success && msg.data.type === 'error' ? msg.data.error.message : 'an unexpected first message';
        reject(new EngineRequestError(msg.success && msg.data.type === 'error' ? msg.data.error.code : 'bad_request', `the engine refused the connection: ${why}`));
      });
    });
  }

  request<M extends Method>(method: M, params: Params<M>, timeoutMs = this.requestTimeoutMs): Promise<Result<M>> {
    // A socket that is closing would drop the request, and the caller would wait for the timeout.
    if (!this.open) return Promise.reject(new EngineRequestError('closed', `the engine connection is closed; ${method} was not sent`));
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new EngineRequestError('timeout', `the engine did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify({ type: 'request', id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  private receive(text: string): void {
    const parsed = serverMessageSchema.safeParse(safeJson(text));
    if (!parsed.success) return void this.emit('invalid', `an invalid message from the engine: ${describeIssues(parsed.error)}`);
    const msg = parsed.data;
    if (msg.type === 'event') return void this.emit('event', msg);
    if (msg.type === 'welcome') return;
    const p = msg.id === null || typeof msg.id === 'string' ? undefined : this.pending.get(msg.id);
    if (!p) return void this.emit('invalid', `a reply to no pending request: ${text.slice(0, 200)}`);
    clearTimeout(p.timer);
    this.pending.delete(msg.id as number);
    if (msg.type === 'error') return p.reject(new EngineRequestError(msg.error.code, msg.error.message));
    try {
      p.resolve(parseResult(p.method, msg.result));
    } catch (err) {
      p.reject(err as Error);
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
