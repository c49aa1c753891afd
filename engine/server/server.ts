// The engine's WebSocket server: 127.0.0.1 only, every connection authenticated by the token (in a
// header, or in a first `hello` message within a few seconds), none from a web page. Each message is
// validated; whatever is wrong with it gets an error response, and the connection and the engine go on.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  describeIssues,
  helloSchema,
  isMethod,
  HARD_FRAME_BYTES,
  MAX_FRAME_BYTES,
  parseParams,
  PROTOCOL_VERSION,
  ProtocolError,
  requestEnvelopeSchema,
  TOKEN_HEADER,
  type EngineEvent,
  type ErrorCode,
  type Method,
  type Params,
  type Result,
} from '../protocol';
import { ConfigError } from '../model/config';
import { DEFAULT_OUTBOX, Outbox, type OutboxOptions } from './outbox';
import type { EngineService } from './service';

/** How long a connection without a header token has to send its hello. */
const HELLO_TIMEOUT_MS = 5000;

export interface ServerOptions {
  port: number;
  token: string;
  outbox?: OutboxOptions;
  log: (line: string) => void;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export async function startServer(service: EngineService, options: ServerOptions): Promise<RunningServer> {
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('Switchyard engine: WebSocket only\n');
  });
  const wss = new WebSocketServer({
    server: http,
    maxPayload: HARD_FRAME_BYTES,
    verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) => {
      // Browsers always send an Origin; the engine's clients (Node processes) never do. A web page
      // can reach loopback, so any Origin is refused.
      if (req.headers.origin !== undefined) return done(false, 403, 'Forbidden: web origins are refused');
      const header = headerToken(req);
      if (header !== undefined && !sameToken(header, options.token)) return done(false, 401, 'Unauthorized');
      done(true);
    },
  });
  const clients = new Set<Client>();

  wss.on('connection', (ws, req) => {
    const client = new Client(ws, options, service, headerToken(req) !== undefined);
    clients.add(client);
    ws.on('close', () => {
      client.close();
      clients.delete(client);
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, '127.0.0.1', () => resolve());
  });
  const broadcast = (event: EngineEvent) => {
    for (const c of clients) c.event(event);
  };
  service.on('event', broadcast);
  return {
    port: (http.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        service.off('event', broadcast);
        // What the outboxes still hold (a run's last step and its 'stopped' state) goes out first.
        for (const c of clients) {
          c.drain();
          c.ws.close(1001, 'engine shutting down');
        }
        wss.close();
        http.close(() => resolve());
      }),
  };
}

class Client {
  private authenticated: boolean;
  private readonly outbox: Outbox;
  private readonly helloTimer: NodeJS.Timeout | null;

  constructor(
    readonly ws: WebSocket,
    private readonly options: ServerOptions,
    private readonly service: EngineService,
    headerAuthenticated: boolean,
  ) {
    this.authenticated = headerAuthenticated;
    this.outbox = new Outbox((m) => ws.send(m), () => ws.bufferedAmount, options.outbox ?? DEFAULT_OUTBOX);
    this.helloTimer = headerAuthenticated ? null : setTimeout(() => ws.close(4401, 'no hello with a token'), HELLO_TIMEOUT_MS);
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
      if (bytes > MAX_FRAME_BYTES) {
        if (!this.authenticated) return this.refuse();
        return this.error(null, 'too_large', `a message of ${bytes} bytes is over the limit of ${MAX_FRAME_BYTES}`);
      }
      void this.receive(data.toString(), isBinary);
    });
    ws.on('error', (err) => options.log(`client error: ${err.message}`)); // e.g. a frame over HARD_FRAME_BYTES
  }

  event(e: EngineEvent): void {
    if (this.authenticated) this.outbox.push(e);
  }

  /** Sends the events the outbox still holds, now. */
  drain(): void {
    if (this.ws.readyState === this.ws.OPEN) this.outbox.drain();
  }

  close(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.outbox.close();
  }

  private async receive(text: string, isBinary: boolean): Promise<void> {
    let message: unknown;
    try {
      if (isBinary) throw new ProtocolError('bad_json', 'binary frames are not part of the protocol');
      try {
        message = JSON.parse(text);
      } catch {
        throw new ProtocolError('bad_json', 'the message is not JSON');
      }
      if (!this.authenticated) return this.hello(message);
      await this.request(message);
    } catch (err) {
      // Before the hello, anything that is not one (binary, not JSON) is refused and closed too.
      if (!this.authenticated) return this.refuse();
      this.fail(idOf(message), err);
    }
  }

  /** Before the hello, anything that is not one is refused and the connection closed. */
  private refuse(): void {
    this.error(null, 'unauthorized', 'the first message must be a hello with the engine token');
    this.ws.close(4401, 'unauthorized');
  }

  private hello(message: unknown): void {
    const hello = helloSchema.safeParse(message);
    if (!hello.success || !sameToken(hello.data.token, this.options.token)) return this.refuse();
    if (hello.data.protocolVersion !== PROTOCOL_VERSION) {
      this.error(null, 'version_mismatch', `the engine speaks protocol ${PROTOCOL_VERSION}, the client ${hello.data.protocolVersion}`);
      this.ws.close(4400, 'protocol version mismatch');
      return;
    }
    this.authenticated = true;
    if (this.helloTimer) clearTimeout(this.helloTimer);
    const s = this.service.status();
    this.ws.send(JSON.stringify({ type: 'welcome', version: s.version, protocolVersion: PROTOCOL_VERSION, backend: s.backend }));
  }

  private async request(message: unknown): Promise<void> {
    if (helloSchema.safeParse(message).success) return; // a hello after a header token: nothing to do
    const envelope = requestEnvelopeSchema.safeParse(message);
    if (!envelope.success) throw new ProtocolError('bad_request', `not a request: ${describeIssues(envelope.error)}`);
    const { id, method, params } = envelope.data;
    if (!isMethod(method)) throw new ProtocolError('unknown_method', `unknown method '${method}'`);
    const handler = handlers[method] as (service: EngineService, params: unknown) => unknown;
    const result = await handler(this.service, parseParams(method, params));
    this.send({ type: 'response', id, result });
  }

  private fail(id: string | number | null, err: unknown): void {
    if (err instanceof ProtocolError) return this.error(id, err.code, err.message);
    if (err instanceof ConfigError) return this.error(id, 'bad_request', err.message);
    const message = err instanceof Error ? err.message : String(err);
    this.options.log(`request failed: ${message}`);
    this.error(id, 'failed', message);
  }

  private error(id: string | number | null, code: ErrorCode, message: string): void {
    this.send({ type: 'error', id, error: { code, message } });
  }

  private send(message: object): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(message));
  }
}

/** One handler per method; the map's type makes sure every method has one. */
const handlers: { [M in Method]: (service: EngineService, params: Params<M>) => Result<M> | Promise<Result<M>> } = {
  status: (s) => s.status(),
  listRuns: (s) => s.listRuns(),
  startTraining: (s, p) => s.startTraining(p),
  pause: (s, p) => s.pause(p),
  resume: (s, p) => s.resume(p),
  stop: (s, p) => s.stop(p),
  saveCheckpoint: (s, p) => s.saveCheckpoint(p),
  resumeRun: (s, p) => s.resumeRun(p),
  loadRun: (s, p) => s.loadRun(p),
  analyzeRun: (s, p) => s.analyzeRun(p),
  infer: (s, p) => s.infer(p),
  getMetrics: (s, p) => s.getMetrics(p),
  deleteRun: (s, p) => s.deleteRun(p),
  importHf: (s, p) => s.importHf(p),
  exportHf: (s, p) => s.exportHf(p),
  watchRunFolders: (s, p) => s.watchRunFolders(p),
  getMeshConfig: (s) => s.getMeshConfig(),
  setMeshConfig: (s, p) => s.setMeshConfig(p),
  listExperiments: (s) => s.experiments.listExperiments(),
  planExperiment: (s, p) => s.experiments.planExperiment(p),
  startExperiment: (s, p) => s.experiments.startExperiment(p),
  resumeExperiment: (s, p) => s.experiments.resumeExperiment(p),
  stopExperiment: (s, p) => s.experiments.stopExperiment(p),
  distill: (s, p) => s.experiments.distill(p),
  finetune: (s, p) => s.experiments.finetune(p),
};

function idOf(message: unknown): string | number | null {
  const id = (message as { id?: unknown } | null)?.id;
  // Only an id the protocol allows (a safe integer, or a string of 100 characters at most) is echoed.
  return Number.isSafeInteger(id) || (typeof id === 'string' && id.length <= 100) ? (id as string | number) : null;
}

function headerToken(req: IncomingMessage): string | undefined {
  const direct = req.headers[TOKEN_HEADER];
  if (typeof direct === 'string') return direct;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
