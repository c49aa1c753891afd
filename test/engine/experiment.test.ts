// The experiment runner end to end, through the installed command: a grid trained one run after the
// other, killed (SIGKILL) in the middle of its second run, then resumed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listCheckpoints } from '../../engine/train/checkpoint';
import { readMetrics } from '../../engine/train/runStore';
import { sentences } from './setup';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'switchyard.js');
const backend = process.env.SWITCHYARD_BACKEND ?? 'wasm';
const STEPS = 60;

const cwd = mkdtempSync(join(tmpdir(), 'switchyard-experiment-'));
after(() => rmSync(cwd, { recursive: true, force: true }));
const runs = join(cwd, 'runs');

before(() => {
  if (!existsSync(join(root, 'dist', 'engine.js'))) {
    const r = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, `npm run build failed: ${r.stderr}`);
  }
  mkdirSync(join(cwd, 'corpus'));
  for (let i = 0; i < 4; i++) writeFileSync(join(cwd, 'corpus', `doc${i}.txt`), sentences(60, 1000 + i) + '\n');
  writeFileSync(
    join(cwd, 'base.json'),
    JSON.stringify({
      model: { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4, numLayers: 2, numDecoderLayers: 2 },
      training: { batchSize: 4, inputLength: 32, vocabSize: 600, validateEvery: 20, checkpointEvery: 5, validationBatches: 1 },
    }),
  );
  writeFileSync(join(cwd, 'grid.json'), JSON.stringify([{ name: 'a' }, { name: 'b', model: { router: 'ntlb' } }, { name: 'c', model: { router: 'expertChoice' } }]));
});

interface ExperimentJson {
  id: string;
  state: string;
  runs: { name: string; runId: string | null; state: string }[];
  parallel?: number;
}

function experimentJson(): ExperimentJson | null {
  const dir = join(runs, 'experiments');
  const [id] = existsSync(dir) ? readdirSync(dir) : [];
  if (!id || !existsSync(join(dir, id, 'experiment.json'))) return null;
  return JSON.parse(readFileSync(join(dir, id, 'experiment.json'), 'utf8')) as ExperimentJson;
}

const metricsText = (id: string) => readFileSync(join(runs, id, 'metrics.jsonl'), 'utf8');

test('a killed experiment resumes: finished runs kept, the interrupted one from its checkpoint, the rest started', async () => {
  const args = ['experiment', 'grid.json', '--steps', String(STEPS), '--config', 'base.json', '--corpus', 'corpus', '--backend', backend, '--runs', runs];
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // Kill once the second run has a checkpoint and has not finished.
  const deadline = Date.now() + 120_000;
  let killedAt: ExperimentJson | null = null;
  while (!killedAt) {
    assert.ok(Date.now() < deadline, `the experiment never reached its second run's checkpoint:\n${stderr}`);
    assert.equal(child.exitCode, null, `the experiment ended before it could be killed:\n${stderr}`);
    const e = experimentJson();
    const second = e?.runs[1].runId;
    if (second && listCheckpoints(join(runs, second, 'checkpoints')).length > 0) {
      child.kill('SIGKILL');
      killedAt = e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await exited;
  const [first, second] = killedAt.runs.map((r) => r.runId);
  assert.equal(killedAt.runs[0].state, 'completed');
  assert.equal(killedAt.runs[2].runId, null, 'the third run had not started');
  const firstMetrics = metricsText(first!);
  const checkpoint = Math.max(...listCheckpoints(join(runs, second!, 'checkpoints')));
  assert.ok(checkpoint < STEPS, `the second run was killed before its end (checkpoint ${checkpoint})`);
  const beforeKill = readMetrics(join(runs, second!, 'metrics.jsonl')).records.filter((r) => r.step <= checkpoint);

  // From another folder: the experiment reads its corpus where it was, not a folder named alike here.
  const elsewhere = join(cwd, 'elsewhere');
  mkdirSync(join(elsewhere, 'corpus'), { recursive: true });
  writeFileSync(join(elsewhere, 'corpus', 'other.txt'), 'Something else entirely.\n');
  const resumed = spawnSync(process.execPath, [bin, 'experiment', '--resume', killedAt.id, '--runs', runs, '--backend', backend], { cwd: elsewhere, encoding: 'utf8', timeout: 180_000 });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`run 2/3 b: ${second} from step ${checkpoint}\\b`));
  assert.doesNotMatch(resumed.stderr, /run 1\/3/, 'the finished run is not trained again');

  const done = experimentJson()!;
  assert.equal(done.state, 'completed');
  assert.deepEqual(done.runs.map((r) => r.state), ['completed', 'completed', 'completed']);
  assert.deepEqual(done.runs.slice(0, 2).map((r) => r.runId), [first, second]);
  assert.equal(metricsText(first!), firstMetrics, "the finished run's metrics are untouched");
  const afterResume = readMetrics(join(runs, second!, 'metrics.jsonl')).records;
  assert.deepEqual(afterResume.filter((r) => r.type === 'step').map((r) => r.step), Array.from({ length: STEPS }, (_, i) => i + 1), 'every step once');
  assert.deepEqual(afterResume.filter((r) => r.step <= checkpoint), beforeKill, 'the records up to the checkpoint are kept as they were');

  const third = JSON.parse(readFileSync(join(runs, done.runs[2].runId!, 'config.json'), 'utf8'));
  assert.deepEqual(third.corpus, { kind: 'files', spec: join(cwd, 'corpus') }, 'the run started on resume reads the same corpus');
  const results = JSON.parse(readFileSync(join(runs, 'experiments', done.id, 'results.json'), 'utf8'));
  assert.equal(results.commonStep, STEPS);
  assert.deepEqual(results.runs.map((r: { name: string }) => r.name), ['a', 'b', 'c']);
  for (const r of results.runs) assert.ok(Number.isFinite(r.crossEntropyAtStep) && Number.isFinite(r.crossEntropyAtTime), JSON.stringify(r));
  const md = readFileSync(join(runs, 'experiments', done.id, 'results.md'), 'utf8');
  assert.equal(md.split('\n').filter((l) => /^\| [abc] \| completed \| 60 \|/.test(l)).length, 3, md);
});

test('--seeds 2 runs each entry with the base seed and the next, all entries per seed in turn, and results.md gives each entry over its seeds', () => {
  const out = join(cwd, 'seeded');
  writeFileSync(join(cwd, 'seeded.json'), JSON.stringify([{ name: 'sw' }, { name: 'dense', model: { router: 'dense' } }]));
  writeFileSync(join(cwd, 'seeded-base.json'), readFileSync(join(cwd, 'base.json'), 'utf8').replace('"validateEvery":20', '"validateEvery":5'));
  const r = spawnSync(process.execPath, [bin, 'experiment', 'seeded.json', '--seeds', '2', '--steps', '10', '--config', 'seeded-base.json', '--corpus', 'corpus', '--backend', backend, '--runs', out], { cwd, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /experiment \S+: 4 runs \(2 entries × 2 seeds\)/);
  const [id] = readdirSync(join(out, 'experiments'));
  const e = JSON.parse(readFileSync(join(out, 'experiments', id, 'experiment.json'), 'utf8'));
  assert.equal(e.seeds, 2);
  assert.equal(e.grid.length, 2, 'the grid keeps its entries; the runs list holds one per seed');
  assert.deepEqual(e.runs.map((x: { name: string; entry: string; seed: number }) => [x.name, x.entry, x.seed]), [['sw-seed0', 'sw', 0], ['dense-seed0', 'dense', 0], ['sw-seed1', 'sw', 1], ['dense-seed1', 'dense', 1]]);
  for (const run of e.runs) assert.equal(JSON.parse(readFileSync(join(out, run.runId, 'config.json'), 'utf8')).training.seed, run.seed);
  const firstLoss = (i: number) => readMetrics(join(out, e.runs[i].runId, 'metrics.jsonl')).records.find((x) => x.type === 'step')?.loss;
  assert.notEqual(firstLoss(0), firstLoss(2), 'another seed, another model and data order');
  const results = JSON.parse(readFileSync(join(out, 'experiments', id, 'results.json'), 'utf8'));
  assert.deepEqual(results.entries.map((x: { entry: string; seeds: number[] }) => [x.entry, x.seeds]), [['sw', [0, 1]], ['dense', [0, 1]]]);
  const late = (i: number) => results.runs[i].crossEntropyLate as number;
  const dense = results.entries[1];
  assert.ok(Math.abs(dense.crossEntropyLate.mean - (late(1) + late(3)) / 2) < 1e-9, 'the mean of its seeds’ late means');
  assert.ok(Math.abs(dense.lateVsFirst.min - Math.min(late(1) - late(0), late(3) - late(2))) < 1e-9, 'paired by seed');
  const md = readFileSync(join(out, 'experiments', id, 'results.md'), 'utf8');
  assert.match(md, /^## Over seeds$/m);
  assert.match(md, /^\| dense \| 0, 1 \| \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \|/m);
});

test('--minutes gives every run the same wall time, and results compare them at a common time', () => {
  const out = join(cwd, 'timed');
  writeFileSync(join(cwd, 'timed.json'), JSON.stringify([{ name: 'switch' }, { name: 'top2', model: { router: 'top2' } }]));
  writeFileSync(join(cwd, 'timed-base.json'), readFileSync(join(cwd, 'base.json'), 'utf8').replace('"validateEvery":20', '"validateEvery":3'));
  const minutes = 0.1; // 6 s a run
  const r = spawnSync(process.execPath, [bin, 'experiment', 'timed.json', '--minutes', String(minutes), '--config', 'timed-base.json', '--corpus', 'corpus', '--backend', backend, '--runs', out], { cwd, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const [id] = readdirSync(join(out, 'experiments'));
  const results = JSON.parse(readFileSync(join(out, 'experiments', id, 'results.json'), 'utf8'));
  assert.deepEqual(results.budget, { minutes });
  for (const run of results.runs) {
    assert.equal(run.state, 'completed');
    const status = JSON.parse(readFileSync(join(out, run.runId, 'status.json'), 'utf8'));
    assert.equal(status.state, 'stopped', 'the clock stopped it, not a step count');
    // Three steps are enough for a common validation step; a loaded machine may fit no more in 6 s.
    assert.ok(run.steps >= 3 && run.steps / run.stepsPerSecond < minutes * 60, `${run.name}: ${run.steps} steps in ${run.steps / run.stepsPerSecond} s of training`);
  }
  assert.ok(results.commonSeconds > 0 && results.commonStep >= 3, JSON.stringify(results));
});

test('a run that diverges is marked so, and the next one still runs', () => {
  const out = join(cwd, 'diverging');
  // An absurd learning rate without clipping makes the first step's update overflow the weights.
  writeFileSync(join(cwd, 'diverging.json'), JSON.stringify([{ name: 'blowup', training: { learningRate: 1e30, clipNorm: 0 } }, { name: 'ok' }]));
  const r = spawnSync(process.execPath, [bin, 'experiment', 'diverging.json', '--steps', '4', '--config', 'base.json', '--corpus', 'corpus', '--backend', backend, '--runs', out], { cwd, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /diverged: step \d+: the loss is not finite.*; the next run starts/);
  const [id] = readdirSync(join(out, 'experiments'));
  const results = JSON.parse(readFileSync(join(out, 'experiments', id, 'results.json'), 'utf8'));
  assert.deepEqual(results.runs.map((x: { state: string; diverged: boolean }) => [x.state, x.diverged]), [['diverged', true], ['completed', false]]);
  assert.equal(results.commonStep, 4, 'the diverged run does not hold back the common step');
  assert.match(readFileSync(join(out, 'experiments', id, 'results.md'), 'utf8'), /^\| blowup \| diverged \| .* \| yes \|$/m);
});

test('Ctrl-C stops the current run with a checkpoint and leaves the experiment interrupted, to resume', async () => {
  const out = join(cwd, 'interrupted');
  const args = ['experiment', 'grid.json', '--steps', String(STEPS), '--config', 'base.json', '--corpus', 'corpus', '--backend', backend, '--runs', out];
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 120_000;
  while (!/run 1\/3 a: .* from step 0\n[\s\S]*step \d+\/60/.test(stderr)) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `the first run never started:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  const [id] = readdirSync(join(out, 'experiments'));
  const e = JSON.parse(readFileSync(join(out, 'experiments', id, 'experiment.json'), 'utf8')) as ExperimentJson;
  assert.equal(e.state, 'interrupted');
  assert.deepEqual(e.runs.map((r) => r.state), ['running', 'pending', 'pending']);
  const status = JSON.parse(readFileSync(join(out, e.runs[0].runId!, 'status.json'), 'utf8'));
  assert.equal(status.state, 'stopped');
  assert.ok(listCheckpoints(join(out, e.runs[0].runId!, 'checkpoints')).includes(status.step), 'a checkpoint at the step it stopped');
  assert.match(stderr, new RegExp(`interrupted; continue with --resume ${id}`));
});

test('--parallel 2 trains runs side by side in worker threads; Ctrl-C stops both with a checkpoint, --resume finishes two at a time, and the records are those of runs one at a time', async () => {
  const steps = 40;
  const par = join(cwd, 'parallel');
  const args = (out: string) => ['experiment', 'grid.json', '--steps', String(steps), '--config', 'base.json', '--corpus', 'corpus', '--backend', backend, '--runs', out];
  const child = spawn(process.execPath, [bin, ...args(par), '--parallel', '2'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const experimentAt = () => {
    const dir = join(par, 'experiments');
    const [id] = existsSync(dir) ? readdirSync(dir) : [];
    return id && existsSync(join(dir, id, 'experiment.json')) ? (JSON.parse(readFileSync(join(dir, id, 'experiment.json'), 'utf8')) as ExperimentJson) : null;
  };
  const hasCheckpoint = (runId: string | null) => runId !== null && listCheckpoints(join(par, runId, 'checkpoints')).length > 0;
  // Stop once the first two runs both train (each has a checkpoint): they run at the same time.
  const deadline = Date.now() + 120_000;
  for (let e = experimentAt(); !(e && hasCheckpoint(e.runs[0].runId) && hasCheckpoint(e.runs[1].runId)); e = experimentAt()) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `the two runs never trained side by side:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /3 runs, 2 at a time/);
  const stopped = experimentAt()!;
  assert.equal(stopped.state, 'interrupted');
  assert.deepEqual(stopped.runs.map((r) => r.state), ['running', 'running', 'pending'], 'the third waits for a free lane');
  for (const run of stopped.runs.slice(0, 2)) {
    const status = JSON.parse(readFileSync(join(par, run.runId!, 'status.json'), 'utf8'));
    assert.equal(status.state, 'stopped', `${run.name} stopped`);
    assert.ok(status.step < steps && listCheckpoints(join(par, run.runId!, 'checkpoints')).includes(status.step), `${run.name}: a checkpoint at the step it stopped (${status.step})`);
  }

  assert.equal(stopped.parallel, 2, 'experiment.json records how many ran at a time');
  // Without --parallel, a resume runs as many at a time as before.
  const resumed = spawnSync(process.execPath, [bin, 'experiment', '--resume', stopped.id, '--runs', par, '--backend', backend], { cwd, encoding: 'utf8', timeout: 180_000 });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /3 runs, 2 at a time/);
  assert.match(resumed.stderr, /run 3\/3 c: .* from step 0/);
  assert.match(resumed.stderr, /^c: step 40: validation cross-entropy/m, 'runs side by side print plain lines with their names');
  const done = experimentAt()!;
  assert.equal(done.state, 'completed');
  const said = 'Trained 2 runs at a time, one wasm thread each: steps/s, tokens/s and equal time are each run\'s beside the others.';
  assert.ok(readFileSync(join(par, 'experiments', done.id, 'results.md'), 'utf8').split('\n').includes(said), 'results.md says how its timings were taken');
  assert.deepEqual(done.runs.slice(0, 2).map((r) => r.runId), stopped.runs.slice(0, 2).map((r) => r.runId), 'the stopped runs resumed, not restarted');

  // The same grid one run at a time, in this process's thread: the same losses, routing and validations.
  const seq = join(cwd, 'sequential');
  const one = spawnSync(process.execPath, [bin, ...args(seq)], { cwd, encoding: 'utf8', timeout: 180_000 });
  assert.equal(one.status, 0, one.stderr);
  const [seqId] = readdirSync(join(seq, 'experiments'));
  const seqRuns = (JSON.parse(readFileSync(join(seq, 'experiments', seqId, 'experiment.json'), 'utf8')) as ExperimentJson).runs;
  assert.ok(!readFileSync(join(seq, 'experiments', seqId, 'results.md'), 'utf8').includes(said));
  const trained = (out: string, runId: string) =>
    readMetrics(join(out, runId, 'metrics.jsonl'))
      .records.filter((r) => r.type === 'step' || r.type === 'validation')
      // Timings differ; so does routingChange, which a resumed run's first validation lacks (the
      // routing it compares with is not in the checkpoint).
      .map((r) => ({ ...r, time: 0, tokensPerSecond: 0, routingChange: undefined }));
  for (const [i, run] of done.runs.entries()) {
    const records = trained(par, run.runId!);
    assert.equal(records.filter((r) => r.type === 'step').length, steps, `${run.name}: every step once`);
    assert.deepEqual(records, trained(seq, seqRuns[i].runId!), `${run.name}: side by side and one at a time agree`);
  }
});

test('with --parallel 2, a run that fails stops the run beside it with a checkpoint; the command names the failure and exits 1', () => {
  const out = join(cwd, 'failing');
  // Too big for the wasm heap: refused as its worker creates it, while the other run trains.
  writeFileSync(join(cwd, 'failing.json'), JSON.stringify([{ name: 'huge', model: { dFf: 4_000_000 } }, { name: 'a' }]));
  const r = spawnSync(process.execPath, [bin, 'experiment', 'failing.json', '--steps', '400', '--config', 'base.json', '--corpus', 'corpus', '--backend', backend, '--runs', out, '--parallel', '2'], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^switchyard: run huge: this config cannot train here: /m);
  const [id] = readdirSync(join(out, 'experiments'));
  const e = JSON.parse(readFileSync(join(out, 'experiments', id, 'experiment.json'), 'utf8')) as ExperimentJson;
  assert.equal(e.state, 'interrupted');
  assert.deepEqual(e.runs.map((x) => [x.name, x.state]), [['huge', 'pending'], ['a', 'running']], 'the other run is kept to resume');
  const status = JSON.parse(readFileSync(join(out, e.runs[1].runId!, 'status.json'), 'utf8'));
  assert.equal(status.state, 'stopped');
  assert.ok(status.step < 400 && listCheckpoints(join(out, e.runs[1].runId!, 'checkpoints')).includes(status.step), `a stopped at step ${status.step} with a checkpoint there`);
});

test('--resume ID --steps N trains a finished experiment on to N steps, one at a time or side by side: its runs end as runs given N steps from the start', () => {
  const out = join(cwd, 'longer');
  writeFileSync(join(cwd, 'longer.json'), JSON.stringify([{ name: 'a' }, { name: 'b', model: { router: 'ntlb' } }]));
  const experiment = (args: string[]) => spawnSync(process.execPath, [bin, 'experiment', ...args, '--backend', backend, '--runs', out], { cwd, encoding: 'utf8', timeout: 180_000 });
  const first = experiment(['longer.json', '--steps', '20', '--config', 'base.json', '--corpus', 'corpus']);
  assert.equal(first.status, 0, first.stderr);
  const [id] = readdirSync(join(out, 'experiments'));
  const record = () => JSON.parse(readFileSync(join(out, 'experiments', id, 'experiment.json'), 'utf8')) as ExperimentJson & { budget: unknown };
  const runIds = record().runs.map((r) => r.runId);

  // One at a time (this thread's trainer), then side by side (worker threads).
  const to30 = experiment(['--resume', id, '--steps', '30']);
  assert.equal(to30.status, 0, to30.stderr);
  assert.match(to30.stderr, /2 runs, runs trained on from 20 to 30 steps;/);
  assert.match(to30.stderr, new RegExp(`run 1/2 a: ${runIds[0]} from step 20\\b`));
  const to40 = experiment(['--resume', id, '--steps', '40', '--parallel', '2']);
  assert.equal(to40.status, 0, to40.stderr);
  assert.match(to40.stderr, new RegExp(`run 2/2 b: ${runIds[1]} from step 30\\b`));
  const longer = record();
  assert.deepEqual(longer.budget, { steps: 40 });
  assert.equal(longer.state, 'completed');
  assert.deepEqual(longer.runs.map((r) => [r.runId, r.state]), runIds.map((r) => [r, 'completed']), 'the same runs, trained on');
  const results = JSON.parse(readFileSync(join(out, 'experiments', id, 'results.json'), 'utf8'));
  assert.equal(results.commonStep, 40, 'the results are rewritten at the new common step');

  const fresh = join(cwd, 'longer-fresh');
  const r = spawnSync(process.execPath, [bin, 'experiment', 'longer.json', '--steps', '40', '--config', 'base.json', '--corpus', 'corpus', '--backend', backend, '--runs', fresh], { cwd, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr);
  const [freshId] = readdirSync(join(fresh, 'experiments'));
  const freshRuns = (JSON.parse(readFileSync(join(fresh, 'experiments', freshId, 'experiment.json'), 'utf8')) as ExperimentJson).runs;
  // Timings differ. Validations differ only where a shorter budget ended (step 30): that extra one is left out.
  const trained = (dir: string, runId: string) =>
    readMetrics(join(dir, runId, 'metrics.jsonl'))
      .records.filter((x) => x.type === 'step' || (x.type === 'validation' && x.step % 20 === 0))
      .map((x) => ({ ...x, time: 0, tokensPerSecond: 0, routingChange: undefined }));
  for (const [i, run] of longer.runs.entries()) {
    const records = trained(out, run.runId!);
    assert.equal(records.filter((x) => x.type === 'step').length, 40, `${run.name}: every step once`);
    assert.deepEqual(records, trained(fresh, freshRuns[i].runId!), `${run.name}: trained on in two goes, as trained to 40 at once`);
  }

  const shorter = experiment(['--resume', id, '--steps', '30']);
  assert.equal(shorter.status, 1, shorter.stderr);
  assert.match(shorter.stderr, new RegExp(`experiment ${id}'s runs train to 40 steps already: give 40 or more to train them on`));
  const minutes = experiment(['--resume', id, '--minutes', '1']);
  assert.equal(minutes.status, 1, minutes.stderr);
  assert.match(minutes.stderr, /--resume carries on an experiment as it was defined: give only --resume, --steps \(to train its runs longer\)/);
  assert.deepEqual(record().budget, { steps: 40 }, 'a refused extension changes nothing');
});
