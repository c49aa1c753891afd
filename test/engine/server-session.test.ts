// A whole session over the protocol, as the extension drives it: start a tiny run, watch its step,
// validation and state events, pause, resume, stop, infer, read the metrics, list and delete runs.
// The tests run in order and share the run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineRequestError, type EngineClient } from '../../engine/client';
import { DEFAULT_MESH_CONFIG } from '../../engine/mesh/meshConfig';
import { MAX_INFER_CHARS, stepEventDataSchema, type EngineEvent, type Result } from '../../engine/protocol';
import { listCheckpoints } from '../../engine/train/checkpoint';
import {
  cleanUp,
  collectEvents,
  connect,
  ensureBuilt,
  Inbox,
  isState,
  isStep,
  makeCorpus,
  sleep,
  startEngine,
  tempDir,
  TINY,
  type Engine,
  type StepEvent,
} from './server-harness';
import { fillsInOutput } from './setup';

let engine: Engine;
let client: EngineClient;
let events: Inbox<EngineEvent>;
let corpus: string;
let run: Result<'startTraining'>;
let finalStep = 0;

before(async () => {
  ensureBuilt();
  const dir = tempDir('session');
  corpus = makeCorpus(dir);
  engine = await startEngine(join(dir, 'runs'));
  client = await connect(engine);
  events = collectEvents(client);
});

after(async () => {
  client?.close();
  await cleanUp();
});

/** Asserts that a request fails with `code`. */
async function refused(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof EngineRequestError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

const steps = () => events.items.filter((e): e is StepEvent => e.event === 'step');

test('startTraining answers with the run summary, and the run reports running', async () => {
  run = await client.request('startTraining', { preset: 'tiny', steps: 100_000, corpus, config: TINY });
  assert.equal(run.active, true);
  assert.equal(run.preset, 'tiny');
  assert.equal(run.numExperts, 4);
  assert.equal(run.status?.state, 'running');
  assert.deepEqual(run.layers, ['encoder.block.1.layer.1', 'decoder.block.1.layer.2']);
  assert.ok(existsSync(join(engine.runsDir, run.id, 'config.json')));
  const state = await events.waitFor(isState('running'), 'the running state event');
  assert.equal((state as { runId: string }).runId, run.id);
  const status = await client.request('status', {});
  assert.equal(status.activeRun?.id, run.id);
  assert.equal(status.runsDir, engine.runsDir);
});

test('step events carry validated metrics with the mesh, in order, each accounting for the steps it replaced', async () => {
  await events.waitFor(isStep(4), 'step 4');
  const s = steps();
  let prev = 0;
  for (const e of s) {
    assert.equal(e.runId, run.id);
    const data = stepEventDataSchema.parse(e.data);
    assert.ok(data.mesh, `step ${data.step} has a mesh`);
    assert.deepEqual(data.mesh.shape, DEFAULT_MESH_CONFIG.shape);
    assert.deepEqual(
      data.mesh.layers.map((l) => l.layer),
      data.layers.map((l) => l.layer),
    );
    for (const l of data.mesh.layers) assert.equal(l.devices.length, DEFAULT_MESH_CONFIG.shape.data * DEFAULT_MESH_CONFIG.shape.model);
    assert.deepEqual(
      data.layers.map((l) => l.layer),
      run.layers,
    );
    assert.ok(data.loss !== undefined && Number.isFinite(data.loss) && data.loss > 0);
    assert.equal(e.coalesced, data.step - prev - 1, `step ${data.step} after ${prev}`);
    prev = data.step;
  }
});

test('while a run trains, starting another, resuming it or deleting it is refused with conflict; infer uses the live weights', async () => {
  await refused(client.request('deleteRun', { runId: run.id }), 'conflict', /is training/);
  await refused(client.request('startTraining', { preset: 'tiny', steps: 2, corpus, config: TINY }), 'conflict');
  await refused(client.request('resumeRun', { runId: run.id }), 'conflict');
  const live = await client.request('infer', { text: 'The old river walks slowly.' });
  assert.equal(live.runId, run.id);
  assert.ok(live.step >= 4, `live step ${live.step}`);
  assert.ok(existsSync(join(engine.runsDir, run.id)), 'the run folder is still there');
});

test('pause and resume each return the run status; state events follow; no step is taken while paused', async () => {
  const paused = await client.request('pause', { runId: run.id });
  assert.equal(paused.state, 'paused');
  assert.equal(paused.id, run.id);
  await events.waitFor(isState('paused'), 'the paused state event');
  const mark = events.mark;
  await sleep(800); // nothing to wait for: the check is that nothing happens
  assert.equal((await client.request('status', {})).activeRun?.step, paused.step, 'no step while paused');
  for (const e of events.items.slice(mark)) if (e.event === 'step') assert.ok(e.data.step <= paused.step, `step ${e.data.step} while paused at ${paused.step}`);
  assert.equal((await client.request('pause', {})).state, 'paused', 'pausing a paused run changes nothing');

  const before = events.mark;
  const resumed = await client.request('resume', {});
  assert.equal(resumed.state, 'running');
  assert.equal(resumed.step, paused.step);
  await events.waitFor(isState('running'), 'the running state event after resume', 30_000, before);
  await events.waitFor(isStep(paused.step + 1), 'a step after resume', 30_000, before);
});

test('validation events come at step 0 and every validateEvery steps', async () => {
  await events.waitFor(isStep(11), 'step 11');
  const at = events.items.filter((e) => e.event === 'validation').map((e) => (e.data as { step: number }).step);
  for (const s of [0, 5, 10]) assert.ok(at.includes(s), `a validation at step ${s} in ${at}`);
  for (const s of at) assert.equal(s % TINY.training.validateEvery, 0, `validation at ${s}`);
  assert.equal(new Set(at).size, at.length, 'one validation per step');
});

test('stop returns the stopped status once the final checkpoint is written', async () => {
  const mark = events.mark;
  const stopped = await client.request('stop', { runId: run.id });
  assert.equal(stopped.state, 'stopped');
  finalStep = stopped.step;
  assert.ok(finalStep >= 11);
  await events.waitFor(isState('stopped'), 'the stopped state event', 30_000, mark);
  const runDir = join(engine.runsDir, run.id);
  assert.equal(listCheckpoints(join(runDir, 'checkpoints')).at(-1), finalStep, 'a checkpoint at the last step');
  const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
  assert.equal(status.state, 'stopped');
  assert.equal(status.step, finalStep);
  assert.equal((await client.request('status', {})).activeRun, null);
  await refused(client.request('pause', {}), 'conflict', /no run is training/);
  await refused(client.request('stop', {}), 'conflict');
  // The last step's event arrives (it may have waited for the rate limit), and none past it.
  await events.waitFor(isStep(finalStep), `the step ${finalStep} event`);
  await sleep(200);
  assert.equal(Math.max(...steps().map((e) => e.data.step)), finalStep);
  const states = events.items.filter((e) => e.event === 'state').map((e) => (e.data as { state: string }).state);
  assert.deepEqual(states, ['running', 'paused', 'running', 'stopped'], 'the state events, in order');
});

test('infer on a sentence with <extra_id_0> gives its tokens, one routing per token for each sparse encoder layer, and fills', async () => {
  const text = 'The teacher <extra_id_0> the letter every morning.';
  const r = await client.request('infer', { runId: run.id, text, maxTokens: 8 });
  assert.equal(r.runId, run.id);
  assert.equal(r.step, finalStep, 'a stopped run infers with its final checkpoint');
  assert.equal(r.tokens.map((t) => t.text).join(''), text);
  assert.equal(r.tokens.filter((t) => t.text === '<extra_id_0>').length, 1, 'the sentinel is one token');
  for (const t of r.tokens) assert.equal(text.slice(t.start, t.end), t.text);
  const encoderLayers = run.layers.filter((l) => l.startsWith('encoder.'));
  assert.ok(encoderLayers.length > 0);
  assert.deepEqual(
    r.layers.map((l) => l.layer),
    encoderLayers,
  );
  for (const l of r.layers) {
    assert.equal(l.tokens.length, r.tokens.length, `${l.layer}: one routing per token`);
    for (const t of l.tokens) assert.ok(t.expert >= 0 && t.expert < l.numExperts && t.prob > 0 && t.prob <= 1);
  }
  // One fill for the text's one sentinel: what the decoded output holds after it, or null where the model wrote none.
  assert.deepEqual(r.fills, fillsInOutput(r.output, [0]), r.output);
  // No runId: the run trained last.
  assert.equal((await client.request('infer', { text: 'A small house.' })).runId, run.id);
  await refused(client.request('infer', { runId: run.id, text: '   ' }), 'bad_request', /empty/);
  await refused(client.request('infer', { runId: run.id, text: 'x'.repeat(MAX_INFER_CHARS + 1) }), 'bad_request', /text/);
});

test('getMetrics returns every record, or thins the step records to maxPoints keeping the last', async () => {
  const all = await client.request('getMetrics', { runId: run.id });
  const stepsOf = (r: typeof all) => r.records.filter((x) => x.type === 'step').map((x) => x.step);
  const validationsOf = (r: typeof all) => r.records.filter((x) => x.type === 'validation').map((x) => x.step);
  assert.equal(all.totalSteps, finalStep);
  assert.deepEqual(
    stepsOf(all),
    Array.from({ length: finalStep }, (_, i) => i + 1),
  );
  assert.deepEqual(all.warnings, []);
  // History carries the simulated mesh too, so a dashboard opened late draws it at once.
  for (const r of all.records) if (r.type === 'step') assert.ok(r.mesh && r.mesh.layers.length === r.layers.length, `step ${r.step} has its mesh`);
  for (const maxPoints of [2, 5, finalStep - 1]) {
    const thin = await client.request('getMetrics', { runId: run.id, maxPoints });
    const s = stepsOf(thin);
    assert.equal(thin.totalSteps, finalStep);
    assert.ok(s.length <= maxPoints, `${s.length} step records for maxPoints ${maxPoints}`);
    assert.ok(s.length >= 2);
    assert.equal(s.at(-1), finalStep, 'the last step is kept');
    assert.deepEqual(validationsOf(thin), validationsOf(all), 'validations are all kept');
  }
  const range = await client.request('getMetrics', { runId: run.id, fromStep: 3, toStep: 8 });
  assert.equal(range.totalSteps, 6);
  assert.deepEqual(stepsOf(range), [3, 4, 5, 6, 7, 8]);
  assert.deepEqual(validationsOf(range), [5]);
});

test('listRuns shows the stopped run', async () => {
  const { runs } = await client.request('listRuns', {});
  const r = runs.find((x) => x.id === run.id);
  assert.ok(r, `run ${run.id} in ${runs.map((x) => x.id)}`);
  assert.equal(r.active, false);
  assert.equal(r.status?.state, 'stopped');
  assert.equal(r.status?.step, finalStep);
  assert.equal(typeof r.crossEntropy, 'number');
  assert.deepEqual(r.layers, run.layers);
});

test('an unknown run is not_found, and a malformed run id is a bad request', async () => {
  for (const p of [
    client.request('getMetrics', { runId: 'no-such-run' }),
    client.request('loadRun', { runId: 'no-such-run' }),
    client.request('deleteRun', { runId: 'no-such-run' }),
    client.request('infer', { runId: 'no-such-run', text: 'hello' }),
    client.request('resumeRun', { runId: 'no-such-run' }),
  ])
    await refused(p, 'not_found', /no-such-run/);
  await refused(client.request('getMetrics', { runId: '../etc' }), 'bad_request', /runId/);
});

test('deleteRun removes a stopped run and its folder', async () => {
  const dir = join(engine.runsDir, run.id);
  assert.ok(existsSync(dir));
  assert.deepEqual(await client.request('deleteRun', { runId: run.id }), { runId: run.id });
  assert.ok(!existsSync(dir), 'the run folder is gone');
  assert.ok(!(await client.request('listRuns', {})).runs.some((r) => r.id === run.id));
  await refused(client.request('getMetrics', { runId: run.id }), 'not_found');
  await refused(client.request('infer', { runId: run.id, text: 'hello' }), 'not_found');
});
