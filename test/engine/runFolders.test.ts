// External run folders: the tailing reader, the folder resolution, the protocol message, and the
// engine service following a folder that another process writes.
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
import { stepRecord } from '../../scripts/runFolderWriter.mjs';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sy-runfolders-'));
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

    const writer = spawn(process.execPath, ['scripts/runFolderWriter.mjs', join(dir, 'job2'), '--steps', '12', '--interval', '250'], { stdio: 'inherit' });
    service.watchRunFolders({ folders: [dir] }); // a folder of runs: job now, job2 once it has a file
    const done = new Promise((r) => writer.on('exit', r));
    await done;
    const id2 = externalRunId(join(dir, 'job2'));
    const steps = () => events.filter((e) => e.event === 'step' && e.runId === id2).map((e) => (e.event === 'step' ? e.data.step : -1));
    const deadline = Date.now() + 3000; // the last record's watcher event or poll
    while (steps().at(-1) !== 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // job2 may be discovered after its first records were written: those are history (getMetrics).
    const history = service.getMetrics({ runId: id2 }).records.map((r) => r.step);
    assert.deepEqual(history, Array.from({ length: 12 }, (_, i) => i + 1));
    assert.ok(steps().length >= 1, `live step events for job2: ${steps().join(',')}`);
    assert.deepEqual(steps(), history.slice(history.length - steps().length), 'events are the newest steps, in order, none twice');

    assert.throws(() => service.deleteRun({ runId: id }), /external .* read-only/);
    assert.throws(() => service.pause({ runId: id }), /no run is training/);
  } finally {
    await service.shutdown();
    rmSync(dir, { recursive: true });
  }
});
