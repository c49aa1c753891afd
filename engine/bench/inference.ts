// `npm run bench:infer`: how fast a selection is routed. (a) In process, on `tiny` (its real shapes;
// weights from one training step): a 511-token text through the encoder alone (every sparse layer's
// routing, what the Routing view colours) and through `infer` (routing plus greedy sentinel fills).
// (b) From a cold start: a `dist/engine.js serve` process spawned, connected, and asked to route the
// same text with `infer`: time from spawn to the answer. Medians of several runs, on one machine.
import * as tf from '@tensorflow/tfjs-core';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendLabel, initBackend } from '../backend';
import { EngineClient } from '../client';
import { infer, MAX_INFER_TOKENS } from '../infer';
import { newSparseReport } from '../model/block';
import { ForwardContext } from '../model/context';
import { resolveRunConfig } from '../train/runConfig';
import { loadRunModel } from '../train/runModel';
import { Trainer } from '../train/trainer';
import { quantile, readHandshake, sentences } from './events';

const BUNDLE = join(__dirname, '..', '..', 'dist', 'engine.js');
const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const backend = await initBackend('wasm');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-infer-'));
  try {
    const trainer = await Trainer.create(join(dir, 'runs'), resolveRunConfig({ preset: 'tiny', steps: 1 }), backend.name);
    await trainer.train();
    const runId = trainer.run.id;
    trainer.dispose();
    const { model, tokenizer } = loadRunModel(trainer.run);
    // Words until the text is one token short of the limit (</s> is added).
    let text = sentences(400, 3);
    while (tokenizer.encode(text).ids.length > MAX_INFER_TOKENS - 1) text = text.slice(0, Math.floor(text.length * 0.95));
    const ids = Int32Array.from([...tokenizer.encode(text).ids, tokenizer.eosId]);
    const input = { ids, mask: new Float32Array(ids.length).fill(1), length: ids.length };
    const encode = () => tf.tidy(() => void model.encode(input, 1, new ForwardContext(false), newSparseReport()).dataSync());
    const full = () => void infer(model, tokenizer, text);
    encode();
    full(); // warm-up: kernels compiled, XNNPACK operators made
    const encodeMs = Array.from({ length: 10 }, () => time(encode));
    const inferMs = Array.from({ length: 5 }, () => time(full));
    model.dispose();

    const cold: ColdStart[] = [];
    if (existsSync(BUNDLE)) for (let i = 0; i < 3; i++) cold.push(await coldStart(join(dir, 'runs'), runId, text));

    console.log(`# Inference on tiny (${backendLabel(backend)}), a text of ${ids.length} tokens\n`);
    console.log('| what | median ms | runs |');
    console.log('|---|---|---|');
    console.log(`| encoder pass: every sparse layer's routing | ${median(encodeMs).toFixed(0)} | ${encodeMs.length} |`);
    console.log(`| \`infer\`: routing + greedy sentinel fills (up to 32 tokens) | ${median(inferMs).toFixed(0)} | ${inferMs.length} |`);
    if (cold.length) {
      console.log(`| cold start: spawn \`serve\`, connect, \`infer\` answered | ${median(cold.map((c) => c.answered)).toFixed(0)} | ${cold.length} |`);
      console.log(`| … of which the engine's start (spawn to its handshake line) | ${median(cold.map((c) => c.ready)).toFixed(0)} | ${cold.length} |`);
    }
    else console.log(`\nCold start not measured: ${BUNDLE} is missing (npm run build).`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Milliseconds from spawning an engine to its handshake, and to its answer to `infer` on the run. */
interface ColdStart {
  ready: number;
  answered: number;
}

async function coldStart(runsDir: string, runId: string, text: string): Promise<ColdStart> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BUNDLE, 'serve', '--port', '0', '--runs', runsDir, '--backend', 'wasm'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const handshake = await readHandshake(child.stdout, exited, () => stderr);
    const ready = performance.now() - t0;
    const client = await EngineClient.connect(`ws://127.0.0.1:${handshake.port}`, handshake.token);
    await client.request('infer', { runId, text });
    const answered = performance.now() - t0;
    client.close();
    return { ready, answered };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

main().catch((err: unknown) => {
  console.error(`bench:infer failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
