// The engine's event stream, measured end to end: a real `dist/engine.js serve` process trains a very
// small model (so steps are fast) and a typed EngineClient on the same machine counts what arrives.
// (a) Latency from the end of a step (the step record's `time`, Date.now() in the engine) to the
// event at the client (Date.now() there: one clock). (b) Step events per second the client takes,
// beside the steps per second the engine trained, at --event-rate 1000 and at the default rate.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../client';
import { handshakeSchema, type Handshake } from '../protocol';
import { DEFAULT_OUTBOX } from '../server/outbox';

const BUNDLE = join(__dirname, '..', '..', 'dist', 'engine.js');
/** Seconds each rate is measured for, after the warm-up. */
const MEASURE_SECONDS = 10;
const WARMUP_STEPS = 10;

/** Small enough that a step takes a few tens of ms on wasm; no validation or checkpoint in the window. */
const CONFIG = {
  model: { dModel: 16, dKv: 4, dFf: 32, numHeads: 2, numExperts: 4, numLayers: 2, numDecoderLayers: 2 },
  training: { batchSize: 1, inputLength: 16, vocabSize: 512, validateEvery: 100_000, checkpointEvery: 100_000, validationBatches: 1 },
};

interface Measured {
  rate: number;
  seconds: number;
  stepsPerSecond: number;
  eventsPerSecond: number;
  coalesced: number;
  eventBytes: number;
  latencies: number[];
}

export async function benchEvents(): Promise<string> {
  if (!existsSync(BUNDLE)) return `Not run: ${BUNDLE} is missing (npm run build).`;
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-events-'));
  try {
    const corpus = join(dir, 'corpus');
    mkdirSync(corpus);
    for (let i = 0; i < 4; i++) writeFileSync(join(corpus, `part${i}.txt`), sentences(60, 7 + i));
    const results: Measured[] = [];
    for (const rate of [1000, DEFAULT_OUTBOX.rate]) results.push(await measure(rate, join(dir, `runs-${rate}`), corpus));
    const m = CONFIG.model;
    const lines = [
      `A \`serve\` process per rate trains dModel ${m.dModel}, ${m.numExperts} experts, batch ${CONFIG.training.batchSize} x ${CONFIG.training.inputLength} tokens ` +
        `(step events ~${(results[0].eventBytes / 1024).toFixed(1)} KB with the default 8-device mesh); one EngineClient (zod-validating every message) on 127.0.0.1; ` +
        `${MEASURE_SECONDS} s per rate after ${WARMUP_STEPS} warm-up steps. Latency: client Date.now() on receipt minus the step record's \`time\`.`,
      '',
      '| --event-rate | steps/s trained | step events/s received | coalesced | latency median ms | latency p99 ms | latency samples |',
      '|---|---|---|---|---|---|---|',
    ];
    for (const r of results) {
      const sorted = [...r.latencies].sort((a, b) => a - b);
      lines.push(
        `| ${r.rate} | ${r.stepsPerSecond.toFixed(1)} | ${r.eventsPerSecond.toFixed(1)} | ${r.coalesced} | ${quantile(sorted, 0.5).toFixed(1)} | ${quantile(sorted, 0.99).toFixed(1)} | ${sorted.length} |`,
      );
    }
    const fast = results[0];
    lines.push(
      '',
      fast.eventsPerSecond >= 0.95 * fast.stepsPerSecond
        ? `At --event-rate ${fast.rate} the client took every step (${fast.coalesced} coalesced): training, not delivery, is the limit here.`
        : `At --event-rate ${fast.rate} the client got ${fast.eventsPerSecond.toFixed(1)} of ${fast.stepsPerSecond.toFixed(1)} steps/s: delivery is the limit.`,
    );
    return lines.join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(rate: number, runsDir: string, corpus: string): Promise<Measured> {
  const child = spawn(process.execPath, [BUNDLE, 'serve', '--port', '0', '--runs', runsDir, '--backend', 'wasm', '--event-rate', String(rate)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let client: EngineClient | undefined;
  try {
    const handshake = await readHandshake(child.stdout, exited, () => stderr);
    client = await EngineClient.connect(`ws://127.0.0.1:${handshake.port}`, handshake.token);
    const latencies: number[] = [];
    const w = { started: false, t0: 0, step0: 0, events: 0, coalesced: 0, lastStep: 0, bytes: 0 };
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    client.on('event', (e) => {
      if (e.event !== 'step') return;
      const now = Date.now();
      const step = e.data.step;
      if (!w.started) {
        if (step >= WARMUP_STEPS) Object.assign(w, { started: true, t0: performance.now(), step0: step, lastStep: step, bytes: JSON.stringify(e).length });
        return;
      }
      if (e.data.time !== undefined) latencies.push(now - e.data.time);
      w.events++;
      w.coalesced += e.coalesced;
      w.lastStep = step;
      if (performance.now() - w.t0 >= MEASURE_SECONDS * 1000) done();
    });
    await client.request('startTraining', { preset: 'tiny', steps: 1_000_000, corpus, config: CONFIG });
    await Promise.race([finished, exited.then(() => Promise.reject(new Error(`the engine exited: ${stderr.slice(-2000)}`)))]);
    const seconds = (performance.now() - w.t0) / 1000;
    await client.request('stop', {});
    return {
      rate,
      seconds,
      stepsPerSecond: (w.lastStep - w.step0) / seconds,
      eventsPerSecond: w.events / seconds,
      coalesced: w.coalesced,
      eventBytes: w.bytes,
      latencies,
    };
  } finally {
    client?.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
}

export function readHandshake(stdout: NodeJS.ReadableStream, exited: Promise<void>, stderr: () => string): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let buf = '';
    stdout.setEncoding('utf8');
    stdout.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(handshakeSchema.parse(JSON.parse(buf.slice(0, nl))));
    });
    void exited.then(() => reject(new Error(`the engine exited before its handshake: ${stderr().slice(-2000)}`)));
  });
}

export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Deterministic English-like sentences: a corpus that loads in milliseconds. */
export function sentences(n: number, seed: number): string {
  const words = 'the a river stone house garden letter morning train station engine expert router token layer model city road teacher walks reads writes opens finds builds quietly slowly often old new small bright dark'.split(' ');
  let s = seed >>> 0;
  const pick = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return words[s % words.length];
  };
  return Array.from({ length: n }, (_, i) => Array.from({ length: 6 + (i % 7) }, pick).join(' ') + '.').join(' ') + '\n';
}

if (require.main === module) {
  benchEvents().then(
    (report) => console.log(`## Engine events\n\n${report}`),
    (err: unknown) => {
      console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
