// External run folders: the tailing reader (records with only the run format's required fields, and
// what their counts imply), the folder resolution, the protocol message, and the engine service
// following a folder that the PyTorch probe writes while it trains (Debian's /usr/bin/python3 + torch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsTail } from '../../engine/runFolders/metricsTail';
import { externalRunId, resolveRunFolders } from '../../engine/runFolders/externalRuns';
import { parseParams, ProtocolError, type EngineEvent } from '../../engine/protocol';
import { EngineService } from '../../engine/server/service';

const repo = join(import.meta.dirname, '..', '..');
const PYTHON = '/usr/bin/python3';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sy-runfolders-'));
}

/** A record with only what the run format requires (as the Megatron import writes it), plus a loss. */
function stepRecord(step: number, routed = (l: number) => [0, 1, 2, 3].map((e) => 8 + ((step + e + l) % 4))) {
  return { type: 'step', step, loss: 5 / (1 + step / 10), layers: [0, 1].map((l) => ({ layer: `encoder.block.${2 * l + 1}.layer.1`, numExperts: routed(l).length, routed: routed(l) })) };
}
const line = (step: number) => JSON.stringify(stepRecord(step)) + '\n';

test('the tail reads only what was appended, and a torn last line waits for its end', () => {
  const dir = tempDir();
  const file = join(dir, 'metrics.jsonl');
  const tail = new MetricsTail(file);
  assert.deepEqual(tail.read().records, [], 'no file yet: nothing, no error');
  writeFileSync(file, line(1) + line(2));
  assert.deepEqual(tail.read().records.map((r) => r.step), [1, 2]);
  assert.deepEqual(tail.read().records, [], 'nothing new: nothing read again');
  const third = line(3);
  appendFileSync(file, third.slice(0, 40));
  const torn = tail.read();
  assert.deepEqual(torn.records, [], 'half a line is not a record yet');
  assert.deepEqual(torn.warnings, [], 'nor a warning');
  appendFileSync(file, third.slice(40) + line(4));
  assert.deepEqual(tail.read().records.map((r) => r.step), [3, 4]);
  rmSync(dir, { recursive: true });
});

test('a record with only the required fields is read, with what its counts imply and nothing else', () => {
  const dir = tempDir();
  const file = join(dir, 'metrics.jsonl');
  const tail = new MetricsTail(file);
  const kept = { type: 'step', step: 2, layers: [{ layer: 'moe', numExperts: 4, routed: [6, 2, 0, 0], kept: [4, 2, 0, 0], loadCv: 0.5 }] };
  writeFileSync(file, JSON.stringify({ type: 'step', step: 1, layers: [{ layer: 'moe', numExperts: 4, routed: [6, 2, 0, 0] }] }) + '\n' + JSON.stringify(kept) + '\n');
  const read = tail.read();
  assert.deepEqual(read.warnings, []);
  const [a, b] = read.records;
  assert.ok(a.type === 'step' && b.type === 'step');
  assert.equal(a.layers[0].routerEntropy, undefined, 'entropy is never guessed');
  assert.equal(a.layers[0].overflowRate, undefined, 'no kept counts: no overflow');
  assert.deepEqual(a.layers[0], {
    layer: 'moe',
    numExperts: 4,
    routed: [6, 2, 0, 0],
    assignments: 8,
    shares: [0.75, 0.25, 0, 0],
    loadCv: Math.sqrt(((6 - 2) ** 2 + 0 + 2 * 2 ** 2) / 4) / 2,
    maxShare: 0.75,
    maxVio: 2,
    activeFraction: 0.5,
    unusedExperts: 2,
  });
  assert.equal(a.loss, undefined);
  assert.deepEqual([b.layers[0].dropped, b.layers[0].overflowRate], [2, 0.25], 'kept counts give the overflow');
  assert.equal(b.layers[0].loadCv, 0.5, "the producer's own figure wins");
  rmSync(dir, { recursive: true });
});

test("an external run's step events carry the alerts its routed counts raise", async () => {
  const dir = tempDir();
  const service = new EngineService(join(dir, 'own-runs'), { name: 'cpu', fallbacks: [] });
  const events: EngineEvent[] = [];
  service.on('event', (e) => events.push(e));
  try {
    const run = join(dir, 'collapsing');
    mkdirSync(run);
    const collapsed = (step: number) => JSON.stringify(stepRecord(step, () => [57, 1, 1, 1, 1, 1, 1, 1])) + '\n';
    // Expert 0 takes 89% (over 4 × the fair 12.5%). 15 steps of history: the monitor learns from them; 5 more arrive live (collapse needs 20 in a row).
    writeFileSync(join(run, 'metrics.jsonl'), Array.from({ length: 15 }, (_, i) => collapsed(i + 1)).join(''));
    const id = service.watchRunFolders({ folders: [run] }).runs[0].id;
    appendFileSync(join(run, 'metrics.jsonl'), Array.from({ length: 5 }, (_, i) => collapsed(16 + i)).join(''));
    const deadline = Date.now() + 3000;
    const last = () => events.flatMap((e) => (e.event === 'step' && e.runId === id ? [e.data] : [])).at(-1);
    while (last()?.step !== 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const alerts = last()?.alerts ?? [];
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.layer, a.expert, a.step]),
      [
        ['collapse', 'encoder.block.1.layer.1', 0, 20],
        ['collapse', 'encoder.block.3.layer.1', 0, 20],
      ],
    );
    assert.ok(!alerts.some((a) => a.kind === 'zLoss' || a.kind === 'overflow'), 'no alert on figures the run does not log');
  } finally {
    await service.shutdown();
    rmSync(dir, { recursive: true });
  }
});

test('a malformed line is skipped with its line number, and the next ones still read', () => {
  const dir = tempDir();
  const file = join(dir, 'metrics.jsonl');
  const tail = new MetricsTail(file);
  writeFileSync(file, line(1) + '{not json\n' + JSON.stringify({ type: 'step', step: -1 }) + '\n' + line(2));
  const read = tail.read();
  assert.deepEqual(read.records.map((r) => r.step), [1, 2]);
  assert.equal(read.warnings.length, 2);
  assert.match(read.warnings[0], /metrics\.jsonl:2: skipped a metrics line: not JSON/);
  assert.match(read.warnings[1], /metrics\.jsonl:3: .*step/);
  rmSync(dir, { recursive: true });
});

test('a truncated or rotated file is read again from its start', () => {
  const dir = tempDir();
  const file = join(dir, 'metrics.jsonl');
  const tail = new MetricsTail(file);
  writeFileSync(file, line(1) + line(2) + line(3));
  assert.equal(tail.read().records.length, 3);
  writeFileSync(file, line(1)); // truncated (a resume that dropped steps)
  const again = tail.read();
  assert.equal(again.restarted, true);
  assert.deepEqual(again.records.map((r) => r.step), [1]);
  // Rotation: a new file renamed over the old one, longer than what was read.
  writeFileSync(join(dir, 'next'), line(7) + line(8) + line(9));
  renameSync(join(dir, 'next'), file);
  const rotated = tail.read();
  assert.equal(rotated.restarted, true);
  assert.deepEqual(rotated.records.map((r) => r.step), [7, 8, 9]);
  rmSync(dir, { recursive: true });
});

test('folders resolve to runs, folders of runs, or a clear warning', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'runs', 'a'), { recursive: true });
  mkdirSync(join(dir, 'runs', 'b'), { recursive: true });
  mkdirSync(join(dir, 'runs', 'notarun'), { recursive: true });
  writeFileSync(join(dir, 'runs', 'a', 'metrics.jsonl'), line(1));
  writeFileSync(join(dir, 'runs', 'b', 'config.json'), '{}');
  assert.deepEqual(resolveRunFolders(join(dir, 'runs', 'a')).runs, [join(dir, 'runs', 'a')]);
  assert.deepEqual(resolveRunFolders(join(dir, 'runs')).runs, [join(dir, 'runs', 'a'), join(dir, 'runs', 'b')]);
  assert.match(resolveRunFolders(join(dir, 'missing')).warning ?? '', /missing does not exist/);
  assert.match(resolveRunFolders(join(dir, 'runs', 'notarun')).warning ?? '', /holds no run/);
  assert.match(resolveRunFolders(join(dir, 'runs', 'a', 'metrics.jsonl')).warning ?? '', /is not a folder/);
  assert.match(externalRunId('/x/my run!'), /^ext-my_run_-[0-9a-f]{6}$/);
  rmSync(dir, { recursive: true });
});

test('watchRunFolders params are validated', () => {
  assert.deepEqual(parseParams('watchRunFolders', { folders: ['/a', 'b'] }), { folders: ['/a', 'b'] });
  assert.deepEqual(parseParams('watchRunFolders', { folders: [] }), { folders: [] });
  for (const bad of [{}, { folders: '/a' }, { folders: [''] }, { folders: [3] }, { folders: ['/a'], extra: 1 }, { folders: Array(101).fill('/a') }]) {
    assert.throws(() => parseParams('watchRunFolders', bad), (e: unknown) => e instanceof ProtocolError && e.code === 'bad_request', JSON.stringify(bad).slice(0, 60));
  }
});

test('the engine lists an external run, streams its steps as another process writes them, and keeps it read-only', async () => {
  const dir = tempDir();
  const service = new EngineService(join(dir, 'own-runs'), { name: 'cpu', fallbacks: [] });
  const events: EngineEvent[] = [];
  service.on('event', (e) => events.push(e));
  try {
    const warned = service.watchRunFolders({ folders: [join(dir, 'missing')] });
    assert.match(warned.warnings[0], /missing does not exist/);
    assert.ok(events.some((e) => e.event === 'log' && /missing does not exist/.test(e.message)));

    const run = join(dir, 'job');
    writeFileSync(join(mkdirSync(run, { recursive: true }) ?? run, 'metrics.jsonl'), line(1));
    const watched = service.watchRunFolders({ folders: [run, join(dir, 'missing')] });
    assert.equal(watched.runs.length, 1, 'the good folder is followed despite the bad one');
    const id = watched.runs[0].id;
    assert.equal(watched.runs[0].external, run);
    assert.deepEqual(watched.runs[0].layers, ['encoder.block.1.layer.1', 'encoder.block.3.layer.1'], 'layers from the last step: no config.json');
    assert.equal(watched.runs[0].numExperts, 4);
    assert.ok(service.listRuns().runs.some((r) => r.id === id && r.external === run));

    // The PyTorch probe, training the tests' TinyMoE (a Switch router with capacity, a Mixtral top-2 gate), a record a step.
    const writer = spawn(PYTHON, ['-m', 'tests.make_run', join(dir, 'job2'), '--steps', '12', '--every', '1', '--pause', '0.25'], { cwd: join(repo, 'python', 'switchyard_probe'), stdio: 'inherit' });
    service.watchRunFolders({ folders: [dir] }); // a folder of runs: job now, job2 once it has a file
    const exit = await new Promise((r) => writer.on('exit', r));
    assert.equal(exit, 0, 'the probe run ends well (python3 with torch: .ci/install-python.sh)');
    const id2 = externalRunId(join(dir, 'job2'));
    const stepEvents = () => events.flatMap((e) => (e.event === 'step' && e.runId === id2 ? [e.data] : []));
    const steps = () => stepEvents().map((d) => d.step);
    const deadline = Date.now() + 3000; // the last record's watcher event or poll
    while (steps().at(-1) !== 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // job2 may be discovered after its first records were written: those are history (getMetrics).
    const metrics = service.getMetrics({ runId: id2 });
    const history = metrics.records.map((r) => r.step);
    assert.deepEqual(history, Array.from({ length: 12 }, (_, i) => i + 1));
    assert.deepEqual(metrics.warnings, []);
    assert.ok(steps().length >= 1, `live step events for job2: ${steps().join(',')}`);
    const last = stepEvents().at(-1)!;
    assert.equal(last.crossEntropy, undefined, 'the probe logs no cross-entropy: none is made up');
    assert.ok(last.loss !== undefined && last.loss > 0 && last.tokens === 64);
    const [sw, mx] = last.layers;
    assert.deepEqual([sw.layer, mx.layer], ['switch.router', 'mixtral.gate']);
    assert.ok(sw.kept && sw.overflowRate !== undefined && mx.kept === undefined && mx.overflowRate === undefined, 'overflow only where a capacity exists');
    assert.equal(last.mesh, undefined, 'no mesh for a model the engine does not know');
    const summary = service.listRuns().runs.find((r) => r.id === id2);
    assert.deepEqual(
      [summary?.preset, summary?.router, summary?.numExperts, summary?.layers, summary?.status?.state, summary?.loss],
      ['pytorch-probe', 'top-1/top-2', 4, ['switch.router', 'mixtral.gate'], 'completed', last.loss],
    );
    assert.deepEqual(steps(), history.slice(history.length - steps().length), 'events are the newest steps, in order, none twice');

    assert.throws(() => service.deleteRun({ runId: id }), /external .* read-only/);
    assert.throws(() => service.pause({ runId: id }), /no run is training/);
  } finally {
    await service.shutdown();
    rmSync(dir, { recursive: true });
  }
});
