// 10,000 malformed messages from one authenticated client while a run trains: random bytes, random
// JSON, unknown methods, wrong params, missing and malformed ids, huge strings, deep nesting. Each
// gets exactly one error reply, and the engine, the run and every other client go on. Messages over
// MAX_FRAME_BYTES get a `too_large` error and their connection goes on; frames over HARD_FRAME_BYTES
// close just their own connection (1009).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { EngineClient } from '../../engine/client';
import { errorSchema, HARD_FRAME_BYTES, MAX_FRAME_BYTES, MAX_INFER_CHARS, METHOD_NAMES, type EngineEvent, type ErrorCode } from '../../engine/protocol';
import {
  cleanUp,
  collectEvents,
  connect,
  ensureBuilt,
  isAlive,
  isStep,
  makeCorpus,
  RawClient,
  sleep,
  startEngine,
  tempDir,
  TINY,
  type Engine,
  type Inbox,
} from './server-harness';

const MESSAGES = 10_000;

let engine: Engine;
let driver: EngineClient;
let events: Inbox<EngineEvent>;

before(async () => {
  ensureBuilt();
  const dir = tempDir('fuzz');
  engine = await startEngine(join(dir, 'runs'));
  driver = await connect(engine);
  events = collectEvents(driver);
  await driver.request('startTraining', { preset: 'tiny', steps: 100_000, corpus: makeCorpus(dir), config: TINY });
  await events.waitFor(isStep(2), 'step 2');
});

after(async () => {
  driver?.close();
  await cleanUp();
});

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const string = (max: number) => Array.from({ length: int(max) + 1 }, () => String.fromCodePoint(pick([32 + int(95), 0x80 + int(0x700), 0x4e00 + int(0x100), 0x1f600 + int(64)]))).join('');
  const json = (depth: number): unknown => {
    const kind = depth <= 0 ? int(5) : int(7);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return next() < 0.5;
      case 2:
        return pick([0, -1, 1.5, 1e308, -1e-308, int(1e9), Number.MAX_SAFE_INTEGER + 2]);
      case 3:
        return string(20);
      case 4:
        return pick(['', 'request', 'hello', 'status', '__proto__', 'constructor']);
      case 5:
        return Array.from({ length: int(5) }, () => json(depth - 1));
      default:
        return Object.fromEntries(Array.from({ length: int(5) }, () => [pick([string(8), 'type', 'id', 'method', 'params', '__proto__', 'token']), json(depth - 1)]));
    }
  };
  return { next, int, pick, string, json };
}

interface Fuzz {
  kind: string;
  frame: string | Buffer;
  /** The reply's id: what the request carried, or null when it carried no valid id. */
  id: string | number | null;
  code: ErrorCode;
}

const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', 'STATUS', 'status ', ''];
const DEEP = (d: number, open: string, close: string) => open.repeat(d) + '0' + close.repeat(d);

/** Params that no method accepts: every params schema is a strict object. */
function badParams(r: ReturnType<typeof prng>, method: string): unknown {
  switch (r.int(6)) {
    case 0:
      return r.pick([42, 'params', true, [1, 2], [{}]]);
    case 1:
      return { __fuzz: r.json(2) };
    case 2:
      return { runId: r.pick([42, true, ['a'], { id: 'x' }, '../..', 'a/b', 'x'.repeat(201)]) };
    case 3:
      return method === 'infer' ? { text: r.pick([42, null, ['t'], 'x'.repeat(MAX_INFER_CHARS + 1 + r.int(100))]) } : { steps: r.pick([-1, 0, 1.5, '10']), extra: 1 };
    case 4:
      return { runId: 'some-run', maxPoints: r.pick([1, 0, -5, 1e6, 'ten']), fromStep: -1 };
    default:
      return { mesh: r.pick([null, 'tpu', { shape: { data: 0, model: 1 } }, { shape: { data: 'x' } }]), junk: r.json(1) };
  }
}

function makeFuzz(r: ReturnType<typeof prng>, i: number): Fuzz {
  const id = i % 2 ? `fz-${i}` : 1_000_000 + i;
  const req = (method: string, params: unknown, withId = true) => JSON.stringify({ type: 'request', ...(withId ? { id } : {}), method, params });
  const roll = r.int(100);
  if (roll < 12) return { kind: 'binary', frame: Buffer.from(Array.from({ length: 1 + r.int(2048) }, () => r.int(256))), id: null, code: 'bad_json' };
  if (roll < 22) return { kind: 'not-json', frame: '~' + r.string(300), id: null, code: 'bad_json' };
  if (roll < 24) return { kind: 'truncated-json', frame: req('status', {}).slice(0, -1 - r.int(10)), id: null, code: 'bad_json' };
  if (roll < 38) {
    // Any JSON value that is not a request envelope; top-level id and type dropped so the reply's id is known.
    const v = r.json(4);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      delete (v as Record<string, unknown>).id;
      delete (v as Record<string, unknown>).type;
    }
    return { kind: 'json', frame: JSON.stringify(v) ?? 'null', id: null, code: 'bad_request' };
  }
  if (roll < 50) return { kind: 'unknown-method', frame: req(r.next() < 0.3 ? r.pick(PROTO_NAMES) : 'fuzz.' + r.string(30), r.json(3)), id, code: 'unknown_method' };
  if (roll < 68) {
    const method = r.pick(METHOD_NAMES);
    return { kind: 'bad-params', frame: req(method, badParams(r, method)), id, code: 'bad_request' };
  }
  if (roll < 76) return { kind: 'missing-id', frame: req(r.pick(METHOD_NAMES), {}, false), id: null, code: 'bad_request' };
  if (roll < 82) {
    // Ids the protocol does not allow: the reply can only say null.
    const badId = r.pick([1.5, -0.25, 1e300, Number.MAX_SAFE_INTEGER + 2, true, {}, [], 'i'.repeat(101)]);
    return { kind: 'bad-id', frame: JSON.stringify({ type: 'request', id: badId, method: 'status', params: {} }), id: null, code: 'bad_request' };
  }
  if (roll < 86) return { kind: 'wrong-envelope', frame: JSON.stringify({ type: r.pick(['req', 'response', 'event', 'REQUEST', 'welcome']), id, method: 'status', params: {} }), id, code: 'bad_request' };
  if (roll < 88) {
    // Huge strings, each under the frame limit: a 100 KB text to infer, a 200 KB method name, a 300 KB JSON string.
    const which = r.int(3);
    if (which === 0) return { kind: 'huge', frame: req('infer', { text: 'The river. '.repeat(9_300) }), id, code: 'bad_request' };
    if (which === 1) return { kind: 'huge', frame: req('m'.repeat(200_000), {}), id, code: 'bad_request' };
    return { kind: 'huge', frame: JSON.stringify('s'.repeat(300_000)), id: null, code: 'bad_request' };
  }
  if (roll < 94) {
    // Deep nesting, written out directly (JSON.stringify itself would overflow its stack).
    const d = 1 + r.int(20_000);
    const which = r.int(3);
    if (which === 0) return { kind: 'nested', frame: DEEP(d, '[', ']'), id: null, code: 'bad_request' };
    if (which === 1) return { kind: 'nested', frame: DEEP(d, '{"a":', '}'), id: null, code: 'bad_request' };
    return { kind: 'nested', frame: `{"type":"request","id":${JSON.stringify(id)},"method":"status","params":${DEEP(d, '{"x":[', ']}')}}`, id, code: 'bad_request' };
  }
  // Near misses: a request with an extra envelope field, or params of the wrong kind for status.
  if (r.next() < 0.5) return { kind: 'extra-field', frame: JSON.stringify({ type: 'request', id, method: 'status', params: {}, extra: r.json(2) }), id, code: 'bad_request' };
  return { kind: 'status-params', frame: req('status', r.pick([{ x: 1 }, [], 'all', 0])), id, code: 'bad_request' };
}

test('10,000 fuzzed messages each get exactly one error reply; oversized messages get an error, oversized frames close only their own connection; training and other clients go on', async (t) => {
  const r = prng(20251125);
  const fuzz = Array.from({ length: MESSAGES }, (_, i) => makeFuzz(r, i));
  const kinds = new Map<string, number>();
  for (const f of fuzz) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  for (const k of ['binary', 'not-json', 'json', 'unknown-method', 'bad-params', 'missing-id', 'bad-id', 'huge', 'nested']) assert.ok((kinds.get(k) ?? 0) >= 50, `${k}: ${kinds.get(k)}`);
  for (const f of fuzz) assert.ok(Buffer.byteLength(f.frame) < MAX_FRAME_BYTES, `${f.kind} frame fits`);

  const bystander = await RawClient.hello(engine);
  const fuzzer = await RawClient.hello(engine);
  const stepBefore = (await events.waitFor(isStep(2), 'a step')).data;
  const lastStep = () => Math.max(...events.items.filter((e) => e.event === 'step').map((e) => (e.data as { step: number }).step));
  const startStep = lastStep();
  const bystanderMark = bystander.messages.mark;

  // Oversized frames on their own connections, sent while the fuzz is under way: over the message
  // limit, an error and the connection goes on; over the hard frame limit, that connection closes.
  const oversized = async (binary: boolean) => {
    const c = await RawClient.hello(engine);
    const mark = c.messages.mark;
    c.ws.send(binary ? Buffer.alloc(MAX_FRAME_BYTES + 1, 7) : JSON.stringify({ type: 'request', id: 1, method: 'infer', params: { text: 'x'.repeat(MAX_FRAME_BYTES) } }));
    const reply = await c.messages.waitFor((m) => (m as { type?: string }).type === 'error', 'the too_large error', 60_000, mark);
    assert.equal((reply as { error: { code: string } }).error.code, 'too_large');
    assert.equal(c.ws.readyState, c.ws.OPEN, 'a message over the limit does not close its connection');
    c.ws.send(Buffer.alloc(HARD_FRAME_BYTES + 1, 7));
    return c.closed;
  };
  const t0 = performance.now();
  const big: Promise<{ code: number }>[] = [];
  for (const [i, f] of fuzz.entries()) {
    fuzzer.ws.send(f.frame, { binary: typeof f.frame !== 'string' });
    if (i % 2500 === 1250) big.push(oversized(i % 5000 === 1250));
  }
  fuzzer.send({ type: 'request', id: 'sentinel', method: 'status', params: {} });
  const bigCloses = await Promise.all(big);
  for (const c of bigCloses) assert.equal(c.code, 1009, 'a frame over the hard limit closes its connection with 1009');
  await fuzzer.messages.waitFor((m) => (m as { id?: unknown }).id === 'sentinel', 'the sentinel status response', 120_000);
  await sleep(500); // any reply still to come (none should) would arrive by now
  const seconds = (performance.now() - t0) / 1000;

  const replies = fuzzer.messages.items.filter((m) => {
    const type = (m as { type?: string }).type;
    return type !== 'event' && type !== 'welcome' && (m as { id?: unknown }).id !== 'sentinel';
  });
  assert.equal(replies.length, MESSAGES, `one reply per message (${seconds.toFixed(1)} s)`);
  const byId = new Map<string | number, ErrorCode>();
  const nullCodes = new Map<string, number>();
  for (const m of replies) {
    const e = errorSchema.safeParse(m);
    assert.ok(e.success, `a valid error reply: ${JSON.stringify(m).slice(0, 300)}`);
    const { id, error } = e.data;
    if (id === null) nullCodes.set(error.code, (nullCodes.get(error.code) ?? 0) + 1);
    else {
      assert.ok(!byId.has(id), `one reply for id ${id}`);
      byId.set(id, error.code);
    }
  }
  const expectedNull = new Map<string, number>();
  for (const f of fuzz) {
    if (f.id === null) expectedNull.set(f.code, (expectedNull.get(f.code) ?? 0) + 1);
    else assert.equal(byId.get(f.id), f.code, `${f.kind} ${String(f.frame).slice(0, 120)}`);
  }
  assert.equal(byId.size, fuzz.filter((f) => f.id !== null).length);
  assert.deepEqual(Object.fromEntries([...nullCodes].sort()), Object.fromEntries([...expectedNull].sort()));

  // The engine, its run, and the other clients went on.
  assert.ok(isAlive(engine), 'the engine is alive');
  const endStep = lastStep();
  const after = await events.waitFor(isStep(endStep + 1), 'a step after the fuzz', 60_000);
  t.diagnostic(`${MESSAGES} messages (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}) answered in ${seconds.toFixed(1)} s; steps ${startStep} -> ${endStep} meanwhile`);
  assert.ok(after.data.step > startStep && startStep >= stepBefore.step, `training advanced from ${startStep} to ${after.data.step}`);
  assert.equal(bystander.ws.readyState, bystander.ws.OPEN, 'the bystander is still connected');
  assert.equal(fuzzer.ws.readyState, fuzzer.ws.OPEN, 'the fuzzer itself is still connected');
  const bystanderSteps = bystander.messages.items.slice(bystanderMark).filter((m) => (m as { event?: string }).event === 'step');
  assert.ok(bystanderSteps.length > 0, 'the bystander kept getting step events');
  const fresh = await connect(engine);
  const status = await fresh.request('status', {});
  assert.equal(status.activeRun?.state, 'running');
  assert.ok(status.activeRun.step > startStep);
  fresh.close();
  assert.match(engine.stderr(), /Max payload size exceeded/, 'the oversized frames were logged');
  bystander.ws.close();
  fuzzer.ws.close();
});
