// The engine killed mid-run (SIGKILL) leaves a run that a new engine lists, loads, infers with and
// resumes from its last checkpoint, with one metrics record per step. SIGTERM is a clean exit: code 0
// and a final checkpoint at the last step, and so is the death of the process that started it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { EngineClient } from '../../engine/client';
import { handshakeSchema } from '../../engine/protocol';
import { listCheckpoints } from '../../engine/train/checkpoint';
import { readMetrics } from '../../engine/train/runStore';
import { backend, bundle, cleanUp, collectEvents, connect, ensureBuilt, isAlive, isState, isStep, makeCorpus, sleep, startEngine, tempDir, TINY } from './server-harness';

let dir: string;
let corpus: string;
const clients: EngineClient[] = [];

before(() => {
  ensureBuilt();
  dir = tempDir('crash');
  corpus = makeCorpus(dir);
});

after(async () => {
  for (const c of clients) c.close();
  await cleanUp();
});

async function engineWithClient(runsDir: string) {
  const engine = await startEngine(runsDir);
  const client = await connect(engine);
  clients.push(client);
  return { engine, client, events: collectEvents(client) };
}

/** Step numbers of a run's metrics, per record type. */
function metricSteps(runDir: string) {
  const { records, warnings } = readMetrics(join(runDir, 'metrics.jsonl'));
  return {
    steps: records.filter((r) => r.type === 'step').map((r) => r.step),
    validations: records.filter((r) => r.type === 'validation').map((r) => r.step),
    warnings,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('after a SIGKILL mid-run, a new engine lists, loads, infers with and resumes the run from its last checkpoint', async (t) => {
  const runsDir = join(dir, 'runs-kill');
  const a = await engineWithClient(runsDir);
  const run = await a.client.request('startTraining', { preset: 'tiny', steps: 100_000, corpus, config: TINY });
  await a.events.waitFor(isStep(7), 'step 7', 120_000);
  process.kill(a.engine.pid, 'SIGKILL');
  assert.equal((await a.engine.exited).signal, 'SIGKILL');

  const runDir = join(runsDir, run.id);
  const checkpointStep = listCheckpoints(join(runDir, 'checkpoints')).at(-1) ?? -1;
  assert.ok(checkpointStep >= 5 && checkpointStep % TINY.training.checkpointEvery === 0, `last complete checkpoint at ${checkpointStep}`);
  // A crash while a record was being written leaves a torn last line; make sure there is one.
  appendFileSync(join(runDir, 'metrics.jsonl'), '{"type":"step","step":');
  const crashed = metricSteps(runDir);
  assert.ok(crashed.steps.length >= 7, `${crashed.steps.length} step records`);
  assert.deepEqual(crashed.steps, range(1, crashed.steps.length), 'the records before the tear all read');
  assert.ok(crashed.steps.length >= checkpointStep);
  assert.ok(crashed.warnings.length >= 1 && /torn last line/.test(crashed.warnings.at(-1) as string), crashed.warnings.join('\n'));
  t.diagnostic(`killed at step ${crashed.steps.at(-1)}, last checkpoint ${checkpointStep}`);

  const b = await engineWithClient(runsDir);
  const listed = (await b.client.request('listRuns', {})).runs.find((r) => r.id === run.id);
  assert.ok(listed, 'the new engine lists the run');
  assert.equal(listed.active, false);
  assert.deepEqual(listed.layers, run.layers);
  assert.equal(typeof listed.crossEntropy, 'number');

  assert.equal((await b.client.request('loadRun', { runId: run.id })).id, run.id);
  const inferred = await b.client.request('infer', { runId: run.id, text: 'The old river <extra_id_0> under the bright station.' });
  assert.equal(inferred.step, checkpointStep, 'it infers with the last checkpoint');
  assert.ok(inferred.tokens.length > 0);
  assert.equal(inferred.layers.length, run.layers.filter((l) => l.startsWith('encoder.')).length);

  const mark = b.events.mark;
  const resumed = await b.client.request('resumeRun', { runId: run.id });
  assert.equal(resumed.active, true);
  await b.events.waitFor(isState('running'), 'the running state event', 30_000, mark);
  const first = await b.events.waitFor(isStep(0), 'the first step event after the resume', 60_000, mark);
  assert.equal(first.data.step, checkpointStep + 1, 'training continues from the checkpoint');
  assert.equal(first.runId, run.id);
  await b.events.waitFor(isStep(checkpointStep + 6), `step ${checkpointStep + 6}`, 60_000, mark);
  const stopped = await b.client.request('stop', {});
  assert.equal(stopped.state, 'stopped');

  const after = metricSteps(runDir);
  assert.deepEqual(after.steps, range(1, stopped.step), 'one record per step: none twice, none missing');
  assert.equal(new Set(after.validations).size, after.validations.length, 'no validation twice');
  assert.deepEqual(after.warnings, [], 'the torn line is gone');
  const metrics = await b.client.request('getMetrics', { runId: run.id });
  assert.equal(metrics.totalSteps, stopped.step);
});

test('SIGTERM during a run exits with code 0 within seconds, after a final checkpoint at the last step', async (t) => {
  const runsDir = join(dir, 'runs-term');
  const { engine, client, events } = await engineWithClient(runsDir);
  const run = await client.request('startTraining', { preset: 'tiny', steps: 100_000, corpus, config: TINY });
  await events.waitFor(isStep(3), 'step 3', 120_000);
  const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
  const t0 = performance.now();
  process.kill(engine.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([engine.exited, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 15_000)))]);
  clearTimeout(timer);
  const seconds = (performance.now() - t0) / 1000;
  t.diagnostic(`exited in ${seconds.toFixed(2)} s`);
  assert.ok(exit, `the engine exited within 15 s (still alive: ${isAlive(engine)})`);
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(seconds < 5, `exit took ${seconds.toFixed(2)} s`);
  assert.equal(await closed, 1001, 'clients are told the engine is going away');
  assert.match(engine.stderr(), /shutting down: SIGTERM/);

  const runDir = join(runsDir, run.id);
  const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
  assert.equal(status.state, 'stopped');
  const { steps, warnings } = metricSteps(runDir);
  assert.deepEqual(warnings, []);
  assert.equal(status.step, steps.at(-1));
  assert.ok(status.step >= 3);
  assert.equal(listCheckpoints(join(runDir, 'checkpoints')).at(-1), status.step, 'a final checkpoint at the last step');
  // The clients heard the run stop before the connection closed.
  const stoppedEvent = events.items.find(isState('stopped'));
  assert.ok(stoppedEvent, `a stopped state event reached the client; it got: ${events.items.map((e) => e.event).join(' ')}`);
  assert.equal(stoppedEvent.data.step, status.step);
  assert.ok(
    events.items.some((e) => e.event === 'step' && e.data.step === status.step),
    'so did the last step',
  );
});

test('when the process that started it dies, the engine stops the run with a checkpoint and exits', async () => {
  const runsDir = join(dir, 'runs-orphan');
  // A parent that starts the engine (sharing its stdout with us) and is then killed outright.
  const launcher = `require('node:child_process').spawn(process.execPath, ${JSON.stringify([bundle, 'serve', '--port', '0', '--runs', runsDir, '--backend', backend])}, { stdio: ['ignore', 'inherit', 'inherit'] }); setInterval(() => {}, 1e6);`;
  const parent = spawn(process.execPath, ['-e', launcher], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    parent.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    parent.once('exit', () => reject(new Error('the launcher exited before the handshake')));
  });
  const handshake = handshakeSchema.parse(JSON.parse(line));
  const client = await EngineClient.connect(`ws://127.0.0.1:${handshake.port}`, handshake.token);
  clients.push(client);
  const events = collectEvents(client);
  const run = await client.request('startTraining', { preset: 'tiny', steps: 100_000, corpus, config: TINY });
  await events.waitFor(isStep(3), 'step 3', 120_000);

  parent.kill('SIGKILL');
  const alive = () => {
    try {
      process.kill(handshake.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 30_000;
  while (alive() && Date.now() < deadline) await sleep(100);
  assert.equal(alive(), false, 'the orphaned engine exited');
  const runDir = join(runsDir, run.id);
  const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8')) as { state: string; step: number };
  assert.equal(status.state, 'stopped');
  assert.equal(listCheckpoints(join(runDir, 'checkpoints')).at(-1), status.step, 'a final checkpoint at the last step');
});
