// The run format (engine/train/runFormat.ts): the published JSON Schema is current, the engine's own
// records are valid run-format records, and a folder written by the PyTorch probe
// (python/switchyard_probe, run with Debian's /usr/bin/python3) validates record by record and is
// listed and read by the engine's run store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { layerMetrics } from '../../engine/train/metrics';
import { runFolderConfigSchema, runFolderStatusSchema, runFormatJsonSchema, runRecordSchema } from '../../engine/train/runFormat';
import { listRuns, readMetrics } from '../../engine/train/runStore';
import { withTempDir } from './setup';

const repo = join(import.meta.dirname, '..', '..');
const PYTHON = '/usr/bin/python3';

test('docs/run-format.schema.json is what `npm run schema` generates from the zod schemas', () => {
  const published = readFileSync(join(repo, 'docs', 'run-format.schema.json'), 'utf8');
  assert.equal(published, JSON.stringify(runFormatJsonSchema(), null, 2) + '\n', 'stale: run `npm run schema`');
});

test('the examples in docs/run-format.md are valid', () => {
  const blocks = [...readFileSync(join(repo, 'docs', 'run-format.md'), 'utf8').matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]));
  assert.equal(blocks.length, 2);
  runRecordSchema.parse(blocks[0]);
  runFolderConfigSchema.parse(blocks[1]);
});

test('a step record needs its step and per-layer routed counts; everything else is optional', () => {
  const minimal = { type: 'step', step: 3, layers: [{ layer: 'moe.0', numExperts: 2, routed: [5, 3] }] };
  assert.deepEqual(runRecordSchema.parse(minimal), minimal);
  assert.throws(() => runRecordSchema.parse({ type: 'step', step: 3, layers: [{ layer: 'moe.0', numExperts: 2 }] }), /routed/);
  assert.throws(() => runRecordSchema.parse({ type: 'step', layers: [] }), /step/);
  assert.throws(() => runRecordSchema.parse({ type: 'step', step: -1, layers: [] }));
  // The engine's own layer record is a valid (the richest) run-format layer record.
  const engineLayer = layerMetrics({
    layer: 'encoder.1',
    numExperts: 2,
    capacity: 4,
    numTokens: 8,
    routed: [5, 3],
    kept: [4, 3],
    dropped: 1,
    routerEntropy: 0.6,
    meanProb: [0.6, 0.4],
    tokens: { expert: new Int32Array(8), prob: new Float32Array(8), dropped: new Uint8Array(8), entropy: new Float32Array(8) },
  });
  const record = { type: 'step', step: 1, time: 1, tokens: 8, tokensPerSecond: 1, learningRate: 1e-3, loss: 2, crossEntropy: 2, auxLoss: 1, zLoss: 0.1, gradNorm: 1, layers: [engineLayer] };
  assert.deepEqual(runRecordSchema.parse(record), record);
});

test('a run folder written by the PyTorch probe validates against the run format and is listed and read by the run store', () => {
  const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  assert.equal(hasTorch.status, 0, `${PYTHON} cannot import torch (${hasTorch.stderr?.trim() || hasTorch.error}); run .ci/install-python.sh`);
  withTempDir('probe', (runs) => {
    const folder = join(runs, 'probe-run');
    execFileSync(PYTHON, ['-m', 'tests.make_run', folder], { cwd: join(repo, 'python', 'switchyard_probe'), stdio: 'pipe' });
    const config = runFolderConfigSchema.parse(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')));
    assert.ok('external' in config && config.external.producer === 'pytorch-probe');
    assert.deepEqual(
      config.layers.map((l) => [l.name, l.topK]),
      [['switch.router', 1], ['mixtral.gate', 2]],
    );
    const status = runFolderStatusSchema.parse(JSON.parse(readFileSync(join(folder, 'status.json'), 'utf8')));
    assert.deepEqual([status.id, status.state, status.step], ['probe-run', 'completed', 12]);
    const lines = readFileSync(join(folder, 'metrics.jsonl'), 'utf8').trimEnd().split('\n');
    const records = lines.map((line, i) => {
      const r = runRecordSchema.safeParse(JSON.parse(line));
      assert.ok(r.success, `metrics.jsonl:${i + 1}: ${r.error?.message}`);
      return r.data;
    });
    assert.deepEqual(records.map((r) => r.step), [1, 5, 10]);
    for (const r of records) {
      assert.ok(r.type === 'step');
      assert.equal(r.layers[0].routed.reduce((a, b) => a + b, 0), 64, 'switch: 64 tokens, top-1');
      assert.equal(r.layers[1].routed.reduce((a, b) => a + b, 0), 128, 'mixtral: 64 tokens, top-2');
      assert.ok(r.layers[0].kept && !r.layers[1].kept, 'kept counts only where a capacity exists');
    }
    assert.deepEqual(listRuns(runs), ['probe-run']);
    const read = readMetrics(join(folder, 'metrics.jsonl'), runRecordSchema);
    assert.deepEqual([read.records, read.warnings], [records, []]);
    // The engine's strict reader skips these records (they lack the engine's fields) rather than misreading them.
    assert.equal(readMetrics(join(folder, 'metrics.jsonl')).records.length, 0);
    appendFileSync(join(folder, 'metrics.jsonl'), '{"type":"step","step":11,"lay');
    const torn = readMetrics(join(folder, 'metrics.jsonl'), runRecordSchema);
    assert.deepEqual(torn.records, records);
    assert.match(torn.warnings.join('\n'), /metrics\.jsonl:4: .*torn last line/);
  });
});
