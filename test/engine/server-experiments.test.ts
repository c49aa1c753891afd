// The experiment requests over the real server (dist/engine.js serve) and its WebSocket, as the
// extension sends them: list, plan (a bad grid named field by field), start, stop, resume a tiny
// 2-run grid, one at a time and two side by side, and distill and finetune with their errors. The tests run in order and share the grid.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineRequestError, type EngineClient } from '../../engine/client';
import type { ExperimentSummary } from '../../engine/experiments/experimentSchema';
import type { EngineEvent } from '../../engine/protocol';
import { cleanUp, collectEvents, connect, ensureBuilt, Inbox, isState, isStep, makeCorpus, startEngine, tempDir, TINY, type Engine } from './server-harness';

let engine: Engine;
let client: EngineClient;
let events: Inbox<EngineEvent>;
let corpus: string;
let experiment: ExperimentSummary;

const STEPS = 20;
const GRID = [
  { name: 'switch', model: { router: 'switch' } },
  { name: 'dense', model: { router: 'dense' } },
];
const params = () => ({ name: 'tiny-grid', entries: GRID, preset: 'tiny', config: TINY, corpus, steps: STEPS });

type ExperimentEvent = Extract<EngineEvent, { event: 'experiment' }>;
const isExperiment =
  (state: ExperimentSummary['state']) =>
  (e: EngineEvent): e is ExperimentEvent =>
    e.event === 'experiment' && e.data.id === experiment.id && e.data.state === state;

before(async () => {
  ensureBuilt();
  const dir = tempDir('experiments');
  corpus = makeCorpus(dir);
  engine = await startEngine(join(dir, 'runs'));
  client = await connect(engine);
  events = collectEvents(client);
});

after(async () => {
  client?.close();
  await cleanUp();
});

async function refused(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof EngineRequestError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

test('listExperiments is empty in a new runs folder; stopping or resuming nothing is refused', async () => {
  assert.deepEqual(await client.request('listExperiments', {}), { experiments: [] });
  await refused(client.request('stopExperiment', {}), 'conflict', /^no experiment is running$/);
  await refused(client.request('resumeExperiment', { id: 'nope' }), 'not_found', /nope/);
});

test('planExperiment lists the runs; a bad grid is refused naming each bad field, an unknown grid naming the built-ins', async () => {
  const plan = await client.request('planExperiment', params());
  assert.deepEqual(plan.runs, [
    { name: 'switch', entry: 'switch', seed: 0, router: 'switch', numExperts: 4 },
    { name: 'dense', entry: 'dense', seed: 0, router: 'dense', numExperts: 4 },
  ]);
  const seeded = await client.request('planExperiment', { ...params(), seeds: 2 });
  assert.deepEqual(seeded.runs.map((r) => [r.name, r.entry, r.seed]), [['switch-seed0', 'switch', 0], ['dense-seed0', 'dense', 0], ['switch-seed1', 'switch', 1], ['dense-seed1', 'dense', 1]]);
  await refused(client.request('planExperiment', { ...params(), seeds: 11 }), 'bad_request', /seeds/);
  assert.equal(plan.seconds, null, 'nothing measured here yet');
  assert.equal(plan.basis, 'no earlier tiny run has recorded a step here');
  const bad = { ...params(), entries: [{ model: { numExperts: -1 } }, { model: { router: 'nope' } }, { training: { seed: 3 } }] };
  await refused(client.request('planExperiment', bad), 'bad_request', /^grid: .*\[0\]\.model\.numExperts: .*\[1\]\.model\.router: /s);
  await refused(client.request('startExperiment', bad), 'bad_request', /\[2\]\.training/);
  await refused(client.request('planExperiment', { name: 'no-such-grid' }), 'bad_request', /'no-such-grid' is not a built-in grid \(experts, capacity, routers/);
  await refused(client.request('planExperiment', { ...params(), minutes: 1 }), 'bad_request', /give steps or minutes, not both/);
  assert.deepEqual((await client.request('listExperiments', {})).experiments, [], 'nothing was written');
});

test('startExperiment trains the first run; another start is refused; stopExperiment leaves it interrupted with a checkpoint', async () => {
  experiment = await client.request('startExperiment', params());
  assert.equal(experiment.state, 'running');
  assert.deepEqual(experiment.runs.map((r) => r.name), ['switch', 'dense']);
  assert.ok(existsSync(join(engine.runsDir, 'experiments', experiment.id, 'experiment.json')));
  await events.waitFor(isStep(3), 'step 3 of the first run', 60_000);
  await refused(client.request('startExperiment', params()), 'conflict', new RegExp(`experiment ${experiment.id} is running`));
  await refused(client.request('startTraining', { preset: 'tiny', steps: 2, corpus, config: TINY }), 'conflict', /is running/);
  await refused(client.request('stopExperiment', { id: 'other' }), 'conflict', /other is not the one running/);

  const stopped = await client.request('stopExperiment', { id: experiment.id });
  assert.equal(stopped.state, 'interrupted');
  assert.deepEqual(stopped.runs.map((r) => r.state), ['running', 'pending'], 'the interrupted run is kept to resume, the next not started');
  const first = stopped.runs[0].runId!;
  assert.ok(existsSync(join(engine.runsDir, first, 'checkpoints')), 'a checkpoint to resume from');
  const listed = (await client.request('listExperiments', {})).experiments;
  assert.deepEqual(listed.map((e) => [e.id, e.state]), [[experiment.id, 'interrupted']]);
  experiment = stopped;
});

test('resumeExperiment carries the same first run on to its last step, then trains the second; a completed one is not resumed', async () => {
  const first = experiment.runs[0].runId!;
  const mark = events.mark;
  const resumed = await client.request('resumeExperiment', { id: experiment.id });
  assert.equal(resumed.state, 'running');
  const done = await events.waitFor(isExperiment('completed'), 'the experiment completed', 240_000, mark);
  assert.deepEqual(done.data.runs.map((r) => r.state), ['completed', 'completed']);
  assert.equal(done.data.runs[0].runId, first, 'the first run resumed, not restarted');
  const steps = (await client.request('getMetrics', { runId: first })).records.filter((r) => r.type === 'step').map((r) => r.step);
  assert.equal(steps.at(-1), STEPS);
  assert.equal(new Set(steps).size, steps.length, 'no step trained twice');
  const results = readFileSync(join(engine.runsDir, 'experiments', experiment.id, 'results.md'), 'utf8');
  assert.equal(results.split('\n').filter((l) => /^\| (switch|dense) \| completed \| 20 \| \d+\.\d{3} \|/.test(l)).length, 2, results);
  assert.deepEqual((await client.request('listExperiments', {})).experiments.map((e) => e.state), ['completed']);
  await refused(client.request('resumeExperiment', { id: experiment.id }), 'conflict', /has completed: nothing to resume/);
  const plan = await client.request('planExperiment', params());
  assert.ok(plan.seconds !== null && plan.seconds > 0, `the estimate now comes from the runs measured: ${JSON.stringify(plan)}`);
  experiment = done.data;
});

test('resumeExperiment with steps trains a completed experiment\'s runs on from their last checkpoint; fewer steps are refused', async () => {
  const ids = experiment.runs.map((r) => r.runId);
  await refused(client.request('resumeExperiment', { id: experiment.id, steps: STEPS - 5 }), 'bad_request', new RegExp(`runs train to ${STEPS} steps already: give ${STEPS} or more to train them on`));
  await refused(client.request('resumeExperiment', { id: experiment.id, steps: STEPS }), 'conflict', /has completed: nothing to resume \(give more steps/);
  const mark = events.mark;
  const longer = await client.request('resumeExperiment', { id: experiment.id, steps: STEPS + 10 });
  assert.equal(longer.state, 'running');
  assert.deepEqual(longer.budget, { steps: STEPS + 10 });
  const firstStep = await events.waitFor(isStep(), 'a step of the first run', 60_000, mark);
  assert.equal(firstStep.data.step, STEPS + 1, 'the first run carries on from its last step');
  const done = await events.waitFor(isExperiment('completed'), 'the experiment completed again', 240_000, mark);
  assert.deepEqual(done.data.runs.map((r) => [r.runId, r.state]), ids.map((id) => [id, 'completed']), 'the same runs, trained on');
  for (const id of ids) {
    const steps = (await client.request('getMetrics', { runId: id! })).records.filter((r) => r.type === 'step').map((r) => r.step);
    assert.deepEqual(steps, Array.from({ length: STEPS + 10 }, (_, i) => i + 1), `${id}: every step once`);
  }
  const results = readFileSync(join(engine.runsDir, 'experiments', experiment.id, 'results.md'), 'utf8');
  assert.equal(results.split('\n').filter((l) => /^\| (switch|dense) \| completed \| 30 \| \d+\.\d{3} \|/.test(l)).length, 2, results);
  experiment = done.data;
});

test('parallel 2 trains the runs side by side: both stream steps and list as running, pause names why not, Stop on one run stops both, resume takes both', async () => {
  const one = await client.request('planExperiment', params());
  const two = await client.request('planExperiment', { ...params(), parallel: 2 });
  assert.ok(one.seconds !== null && two.seconds !== null && two.seconds < one.seconds, `two at a time is estimated shorter: ${one.seconds} vs ${two.seconds}`);
  assert.match(two.basis, /^20 steps × 2 runs 2 at a time, each at the speed of earlier runs here/);
  // Long enough to look at both while they train.
  const long = { ...params(), name: 'parallel-grid', steps: 400, parallel: 2 };
  let mark = events.mark;
  const started = await client.request('startExperiment', long);
  const bothRunning = await events.waitFor(
    (e): e is ExperimentEvent => e.event === 'experiment' && e.data.id === started.id && e.data.runs.every((r) => r.state === 'running'),
    'both runs of the experiment running',
    60_000,
    mark,
  );
  const ids = bothRunning.data.runs.map((r) => r.runId!);
  const listedNow = async () => (await client.request('listRuns', {})).runs.filter((r) => ids.includes(r.id)).map((r) => [r.active, r.status?.state]);
  assert.deepEqual(await listedNow(), [[true, 'running'], [true, 'running']], 'from their start both are live, neither counted as cut off');
  for (const id of ids) await events.waitFor((e) => e.event === 'step' && e.runId === id && e.data.step >= 3, `step 3 of run ${id}`, 60_000, mark);
  assert.deepEqual(await listedNow(), [[true, 'running'], [true, 'running']]);
  await refused(client.request('pause', { runId: ids[1] }), 'conflict', new RegExp(`^run ${ids[1]} trains in a worker thread, beside another run of its experiment: stop the experiment`));
  await refused(client.request('deleteRun', { runId: ids[0] }), 'conflict', /is training: stop it first/);

  // Stop on one of its runs (the dashboard's Stop button) stops the experiment, both runs.
  const status = await client.request('stop', { runId: ids[1] });
  assert.deepEqual([status.id, status.state], [ids[1], 'stopped']);
  const [stopped] = (await client.request('listExperiments', {})).experiments.filter((e) => e.id === started.id);
  assert.equal(stopped.state, 'interrupted');
  assert.deepEqual(stopped.runs.map((r) => r.state), ['running', 'running'], 'both interrupted runs are kept to resume');
  for (const id of ids) assert.ok(existsSync(join(engine.runsDir, id, 'checkpoints')), `run ${id} has a checkpoint to resume from`);
  assert.deepEqual(await listedNow(), [[false, 'stopped'], [false, 'stopped']]);

  mark = events.mark;
  const resumed = await client.request('resumeExperiment', { id: started.id });
  assert.equal(resumed.parallel, 2, 'a resume keeps two at a time');
  const done = await events.waitFor(
    (e): e is ExperimentEvent => e.event === 'experiment' && e.data.id === started.id && e.data.state === 'completed',
    'the parallel experiment completed',
    240_000,
    mark,
  );
  assert.deepEqual(done.data.runs.map((r) => [r.runId, r.state]), ids.map((id) => [id, 'completed']), 'the same two runs carried on');
  const after = events.items.slice(mark);
  const firstStep = after.findIndex((e) => e.event === 'step' && e.runId === ids[1]);
  const firstEnd = after.findIndex((e) => isState('completed')(e) && e.runId === ids[0]);
  assert.ok(firstStep >= 0 && firstStep < firstEnd, `the second run stepped (event ${firstStep}) before the first completed (event ${firstEnd}): side by side again`);
  for (const id of ids) {
    const steps = (await client.request('getMetrics', { runId: id })).records.filter((r) => r.type === 'step').map((r) => r.step);
    assert.equal(steps.at(-1), 400);
    assert.equal(new Set(steps).size, steps.length, `run ${id}: no step trained twice`);
  }
  assert.deepEqual(await listedNow(), [[false, 'completed'], [false, 'completed']]);
});

test('distill refuses a dense teacher and an unknown run, then makes a dense student of the Switch run', async () => {
  const [teacher, dense] = experiment.runs.map((r) => r.runId!);
  await refused(client.request('distill', { teacher: dense }), 'bad_request', /^distill: run .* is dense: distillation needs a Switch teacher/);
  await refused(client.request('distill', { teacher: 'no-such-run' }), 'not_found', /no-such-run/);
  const student = await client.request('distill', { teacher, steps: 2 });
  assert.equal(student.router, 'dense');
  await events.waitFor((e) => isState('completed')(e) && e.runId === student.id, 'the student completed', 60_000);
  const origin = JSON.parse(readFileSync(join(engine.runsDir, student.id, 'origin.json'), 'utf8')) as { kind: string; from: string };
  assert.equal(origin.kind, 'distill');
  assert.equal(origin.from, join(engine.runsDir, teacher));
});

test('finetune refuses an unknown run, a missing corpus and a bad dropout, naming each', async () => {
  const from = experiment.runs[0].runId!;
  await refused(client.request('finetune', { from: 'no-such-run', corpus }), 'not_found', /no-such-run/);
  await refused(client.request('finetune', { from, corpus: join(corpus, 'missing') }), 'bad_request', /^finetune: .*missing/);
  await refused(client.request('finetune', { from, corpus, expertDropoutRate: 2 }), 'bad_request', /^finetune: .*expertDropoutRate/);
});
