// `switchyard import --from fairseq`: fairseq-train's `--log-format json` output (stats lines as
// fairseq's JsonProgressBar prints them, MoE gate keys from its MoECriterion.moe_logging_keys)
// becomes a run folder in the run format, with the gate's scalar figures and no per-expert counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../engine/cli';
import { readFairseqLog } from '../../engine/formats/fairseq/jsonLog';
import { runFolderConfigSchema, runRecordSchema } from '../../engine/train/runFormat';
import { listRuns, readMetrics } from '../../engine/train/runStore';
import { EngineService } from '../../engine/server/service';

const log = join(import.meta.dirname, '..', 'fixtures', 'fairseq', 'train.log');

test('train_inner lines become step records (losses from bits to nats, gate figures as logged), valid lines validations; the rest is passed over', () => {
  const r = readFairseqLog(log);
  assert.deepEqual(
    r.records.map((x) => [x.type, x.step]),
    [
      ['step', 50],
      ['step', 100],
      ['validation', 100],
    ],
  );
  const [first, , valid] = r.records;
  assert.ok(first.type === 'step' && valid.type === 'validation');
  assert.deepEqual(first.layers, [], 'fairseq logs no per-expert counts');
  assert.ok(Math.abs(first.loss! - 10.412 * Math.LN2) < 1e-12);
  assert.equal(first.crossEntropy, undefined, 'no nll_loss in these lines: no cross-entropy made up');
  assert.deepEqual([first.auxLoss, first.learningRate, first.gradNorm, first.tokensPerSecond, first.tokens], [1.06524, 5e-5, 1.932, 10542.8, 4096]);
  assert.deepEqual(first.gateMetrics?.overflow_expert1, 12.5);
  assert.deepEqual(first.gateMetrics?.entropy_gating, 2.071);
  assert.deepEqual(first.gateMetrics?.unused_expert1_count, 0.25);
  assert.equal(Object.keys(first.gateMetrics ?? {}).length, 11);
  assert.ok(Math.abs(valid.loss! - 8.871 * Math.LN2) < 1e-12);
  assert.match(r.warnings.join('\n'), /train\.log:7: skipped a torn last line/);
  for (const x of r.records) runRecordSchema.parse(x);
});

test('a bad stats line is refused with its file, line and what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-fairseq-'));
  try {
    const bad = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    assert.throws(() => readFairseqLog(bad('a.log', '2026 | INFO | train_inner | {"loss": "3", "num_updates": "x"}\n')), /a\.log:1: num_updates is not a number: "x"/);
    assert.throws(() => readFairseqLog(bad('b.log', '2026 | INFO | train_inner | {"loss": "3"}\n')), /b\.log:1: no num_updates/);
    assert.throws(() => readFairseqLog(bad('c.log', '2026 | INFO | train_inner | {"loss": 3,\n{"x": 1}\n')), /c\.log:1: not JSON/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('switchyard import --from fairseq writes a run folder the engine lists and reads', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'sy-fairseq-runs-'));
  try {
    const out: string[] = [];
    const logOut = console.log;
    const warn = console.warn;
    console.log = (s: string) => out.push(s);
    console.warn = (s: string) => out.push(s);
    try {
      await main(['import', '--from', 'fairseq', log, '--name', 'moe-lm', '--runs', runs]);
    } finally {
      console.log = logOut;
      console.warn = warn;
    }
    assert.match(out.join('\n'), /warning: train\.log:7: skipped a torn last line/);
    const [id] = listRuns(runs);
    assert.match(id, /-moe-lm-/);
    const config = runFolderConfigSchema.parse(JSON.parse(readFileSync(join(runs, id, 'config.json'), 'utf8')));
    assert.ok('external' in config && config.external.producer === 'fairseq');
    assert.equal(readMetrics(join(runs, id, 'metrics.jsonl'), runRecordSchema).records.length, 3);
    const service = new EngineService(runs, { name: 'cpu', fallbacks: [] });
    try {
      // In the runs folder, listed like any run (as the producer's), and its records read in the run format.
      const listed = service.listRuns().runs.find((r) => r.id === id);
      assert.deepEqual([listed?.preset, listed?.status?.state, listed?.layers, listed?.loss], ['fairseq', 'completed', [], 9.113 * Math.LN2]);
      const steps = service.getMetrics({ runId: id }).records.filter((r) => r.type === 'step');
      assert.deepEqual(
        steps.map((s) => s.gateMetrics?.overflow_expert1),
        [12.5, 9.375],
      );
    } finally {
      await service.shutdown();
    }
  } finally {
    rmSync(runs, { recursive: true });
  }
});
