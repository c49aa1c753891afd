// `switchyard import --from megatron`: Megatron-Core's router trace (format from
// megatron/core/transformer/moe/router_trace.py) becomes a run folder in the run format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../engine/cli';
import { readRoutingTrace } from '../../engine/formats/megatron/routingTrace';
import { readTokensPerExpert } from '../../engine/formats/megatron/tokensPerExpert';
import { runFolderConfigSchema, runFolderStatusSchema, runRecordSchema } from '../../engine/train/runFormat';
import { listRuns, readMetrics } from '../../engine/train/runStore';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'megatron');

test('a router trace of two ranks sums into routed counts per step and layer; a torn last line is skipped', () => {
  const t = readRoutingTrace(join(fixtures, 'router_trace'));
  assert.equal(t.files.length, 2);
  assert.equal(t.numExperts, 4);
  assert.deepEqual([...t.steps.keys()], [0, 1]);
  // step 0, layer 1: rank 0 tokens start at expert 1, rank 1 at 2 (top-2: e and e+1 mod 4).
  // rank 0 rows [1,2],[2,3],[3,0]; rank 1 rows [2,3],[3,0],[0,1]
  assert.deepEqual(t.steps.get(0)!.get('decoder.layers.1'), [3, 2, 3, 4]);
  assert.equal(t.topK.get('decoder.layers.3'), 2);
  assert.match(t.warnings.join('\n'), /router_trace_rank1\.jsonl:5: skipped a torn last line/);
  assert.throws(() => readRoutingTrace(join(fixtures, 'router_trace'), 3), /routes to expert 3, but --experts is 3/);
});

test('a broken trace is refused with the file, line and what is wrong', () => {
  assert.throws(() => readRoutingTrace(join(fixtures, 'broken')), /router_trace_rank0\.jsonl:1: top_indices is not \[num_tokens=2, topk=2\]/);
  assert.throws(() => readRoutingTrace(join(fixtures, 'nope')), /does not exist/);
  assert.throws(() => readRoutingTrace(fixtures), /holds no router_trace_rank\*\.jsonl/);
});

test('a tokens-per-expert dump: microbatches summed, each rank its own experts under expert parallelism', () => {
  const t = readTokensPerExpert(join(fixtures, 'save', 'tokens_per_expert'), 2);
  assert.equal(t.numExperts, 4);
  assert.deepEqual([...t.steps.keys()], [10, 20]);
  // layer 3 at iteration 20: rank 0 [[3, 20], [1, 2]] -> experts 0-1; rank 1 [[13, 20], [1, 2]] -> experts 2-3
  assert.deepEqual(t.steps.get(20)!.get('decoder.layers.3'), [4, 22, 14, 22]);
  // Without expert parallelism the two ranks are replicas of the same 2 experts: summed.
  assert.deepEqual(readTokensPerExpert(join(fixtures, 'save', 'tokens_per_expert')).steps.get(20)!.get('decoder.layers.3'), [18, 44]);
  assert.throws(() => readTokensPerExpert(join(fixtures, 'broken-tpe')), /rank0\.jsonl:2: tpe microbatches have different expert counts/);
});

test('switchyard import --from megatron writes a run the run store lists and whose records validate', async () => {
  await withTempDirAsync(async (runs) => {
    const code = await main(['import', '--from', 'megatron', join(fixtures, 'router_trace'), '--name', 'moe-trace', '--runs', runs]);
    assert.equal(code, 0);
    const [id] = listRuns(runs);
    assert.match(id, /moe-trace/);
    const config = runFolderConfigSchema.parse(JSON.parse(readFileSync(join(runs, id, 'config.json'), 'utf8')));
    assert.ok('external' in config && config.external.producer === 'megatron');
    assert.deepEqual(config.layers.map((l) => l.name), ['decoder.layers.1', 'decoder.layers.3']);
    assert.equal(runFolderStatusSchema.parse(JSON.parse(readFileSync(join(runs, id, 'status.json'), 'utf8'))).step, 1);
    const read = readMetrics(join(runs, id, 'metrics.jsonl'), runRecordSchema);
    assert.deepEqual(read.warnings, []);
    assert.deepEqual(read.records.map((r) => r.step), [0, 1]);
    const first = read.records[0];
    assert.ok(first.type === 'step');
    assert.deepEqual(first.layers[0].routed, [3, 2, 3, 4]);
    assert.equal(first.layers[0].assignments, 12);
    assert.equal(await main(['import', '--from', 'fairseq', 'x', '--runs', runs]), 1, 'an unsupported source is a usage error');
    // Megatron's save folder, holding tokens_per_expert/
    assert.equal(await main(['import', '--from', 'megatron', join(fixtures, 'save'), '--expert-parallel', '2', '--name', 'tpe', '--runs', runs]), 0);
    const tpeId = listRuns(runs).find((r) => r.includes('tpe'))!;
    const tpe = readMetrics(join(runs, tpeId, 'metrics.jsonl'), runRecordSchema).records;
    assert.deepEqual(tpe.map((r) => r.step), [10, 20]);
    assert.ok(tpe[1].type === 'step');
    assert.deepEqual(tpe[1].layers[1].routed, [4, 22, 14, 22]);
  });
});

async function withTempDirAsync(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-megatron-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
