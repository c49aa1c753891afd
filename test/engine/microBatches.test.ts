// Gradient accumulation over micro-batches: the split keeps whole rows in order, the loss weights
// are target-token shares, routings merge by adding counts, and a step accumulated over two
// micro-batches computes what the whole batch does when no capacity binds (the per-micro-batch
// balance loss is the one term that differs by design, so it is switched off there).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Batch } from '../../engine/data/batches';
import type { LayerRouting } from '../../engine/model/stats';
import { mergeRouting, microBatchWeights, splitBatch } from '../../engine/train/microBatches';
import { resolveRunConfig } from '../../engine/train/runConfig';
import { Trainer } from '../../engine/train/trainer';
import type { BackendName } from '../../engine/backend';
import { useTestBackend } from './setup';

let backend: BackendName = 'wasm';
const runsDir = mkdtempSync(join(tmpdir(), 'switchyard-micro-'));
before(async () => (backend = await useTestBackend()));
after(() => rmSync(runsDir, { recursive: true, force: true }));

/** Rows r = 0..4 of encoder length 2 and decoder length 3; row r's values are 10r + column. */
function batchOf(rows: number, decoderMasks: number[][]): Batch {
  const enc = (f: (r: number, c: number) => number) => Int32Array.from({ length: rows * 2 }, (_, i) => f(Math.floor(i / 2), i % 2));
  const dec = (f: (r: number, c: number) => number) => Float32Array.from({ length: rows * 3 }, (_, i) => f(Math.floor(i / 3), i % 3));
  return {
    batchSize: rows,
    encoderLength: 2,
    decoderLength: 3,
    numExamples: rows,
    encoderIds: enc((r, c) => 10 * r + c),
    encoderMask: Float32Array.from(enc(() => 1)),
    encoderTags: enc(() => 0),
    decoderInputIds: Int32Array.from(dec((r, c) => 10 * r + c)),
    decoderTargetIds: Int32Array.from(dec((r, c) => 10 * r + c + 1)),
    decoderMask: dec((r, c) => decoderMasks[r][c]),
  };
}

test('splitBatch keeps whole rows in order; the last micro-batch takes the remainder', () => {
  const b = batchOf(5, [[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 1, 1]]);
  const parts = splitBatch(b, 2);
  assert.deepEqual(parts.map((p) => p.batchSize), [2, 2, 1]);
  assert.deepEqual(Array.from(parts[1].encoderIds), [20, 21, 30, 31]);
  assert.deepEqual(Array.from(parts[2].decoderTargetIds), [41, 42, 43]);
  assert.deepEqual(Array.from(parts[1].decoderMask), [1, 0, 0, 1, 1, 1]);
  assert.equal(splitBatch(b, undefined)[0], b);
  assert.equal(splitBatch(b, 5)[0], b);
  // 5 + 4 + 3 = 12 target tokens: 5/12, 4/12, 3/12.
  assert.deepEqual(microBatchWeights(parts).map((w) => w * 12), [5, 4, 3].map((x) => x));
});

function routing(numTokens: number, routed: number[], kept: number[], meanProb: number[], routerEntropy: number, expert: number[]): LayerRouting {
  return {
    layer: 'encoder.block.1',
    numExperts: 2,
    capacity: 2,
    numTokens,
    routed,
    kept,
    dropped: routed.reduce((s, x, i) => s + x - kept[i], 0),
    meanProb,
    routerEntropy,
    tokens: { expert: Int32Array.from(expert), prob: new Float32Array(expert.length).fill(0.5), dropped: new Uint8Array(expert.length), entropy: new Float32Array(expert.length) },
  };
}

test('mergeRouting adds counts, weights means by real tokens and concatenates per-token arrays', () => {
  const a = routing(4, [3, 1], [2, 1], [0.7, 0.3], 0.4, [0, 0, 0, 1]);
  const b = routing(2, [0, 2], [0, 2], [0.1, 0.9], 0.1, [1, 1]);
  const [m] = mergeRouting([[a], [b]]);
  assert.deepEqual(m.routed, [3, 3]);
  assert.deepEqual(m.kept, [2, 3]);
  assert.equal(m.dropped, 1);
  assert.equal(m.numTokens, 6);
  assert.equal(m.capacity, 4, 'two micro-batches of 2 slots per expert: 4 in the step');
  // (4 × 0.7 + 2 × 0.1) / 6 = 0.5; entropy (4 × 0.4 + 2 × 0.1) / 6 = 0.3.
  assert.ok(Math.abs(m.meanProb[0] - 0.5) < 1e-12 && Math.abs(m.meanProb[1] - 0.5) < 1e-12, String(m.meanProb));
  assert.ok(Math.abs(m.routerEntropy - 0.3) < 1e-12, String(m.routerEntropy));
  assert.deepEqual(Array.from(m.tokens.expert), [0, 0, 0, 1, 1, 1]);
  assert.equal(mergeRouting([[a]])[0], a);
});

test('a step accumulated over two micro-batches matches the whole batch when no capacity binds', async () => {
  const config = (microBatchSize?: number) =>
    resolveRunConfig({
      preset: 'tiny',
      overrides: {
        model: { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4, dropoutRate: 0, expertDropoutRate: 0, routerJitterNoise: 0, capacityFactor: 4, routerAuxLossCoef: 0 },
        training: { batchSize: 4, inputLength: 32, vocabSize: 1024, checkpointEvery: 100, validateEvery: 100, ...(microBatchSize ? { microBatchSize } : {}) },
      },
      steps: 2,
    });
  const whole = await Trainer.create(runsDir, config(), backend);
  const split = await Trainer.create(runsDir, config(2), backend);
  for (let s = 0; s < 2; s++) {
    const [a, b] = [whole.trainStep(), split.trainStep()];
    for (const key of ['loss', 'crossEntropy', 'zLoss', 'gradNorm'] as const) {
      assert.ok(Math.abs(a[key] - b[key]) <= 1e-5 * Math.abs(a[key]) + 1e-7, `step ${a.step} ${key}: ${a[key]} vs ${b[key]}`);
    }
    assert.deepEqual(b.layers.map((l) => l.routed), a.layers.map((l) => l.routed));
    assert.deepEqual(b.layers.map((l) => l.dropped), a.layers.map((l) => l.dropped));
    assert.equal(b.tokens, a.tokens);
    // The step's slots are the micro-batches' added (each rounds its own up), and hold every kept count.
    assert.ok(b.layers.every((l, i) => l.capacity >= a.layers[i].capacity && l.kept.every((k) => k <= l.capacity)), JSON.stringify(b.layers.map((l) => l.capacity)));
  }
  whole.dispose();
  split.dispose();
});

test('a micro-batch larger than the batch is refused, naming the field', () => {
  assert.throws(() => resolveRunConfig({ preset: 'tiny', overrides: { training: { batchSize: 4, microBatchSize: 8 } } }), /training\.microBatchSize: 8 is more than the batch size \(4\)/);
});
