import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SwitchTransformer } from '../../engine/model/model';
import { checkpointDir, CheckpointError, listCheckpoints, loadCheckpoint, saveCheckpoint, type Checkpoint, type NamedTensor } from '../../engine/train/checkpoint';
import { restoreWeights } from '../../engine/train/runModel';
import { randomValues, testConfig, useTestBackend, withTempDir } from './setup';

before(useTestBackend);


/** Float32 values including the awkward ones: -0, NaN with a payload, infinities, subnormals. */
function awkwardFloats(n: number, seed: number): Float32Array {
  const v = randomValues(n, seed);
  const bits = new Uint32Array(v.buffer);
  bits[0] = 0x80000000; // -0
  bits[1] = 0x7fc01234; // a NaN with a payload
  bits[2] = 0x7f800000; // +Infinity
  bits[3] = 0x00000001; // the smallest subnormal
  bits[4] = 0xff7fffff; // -max float
  return v;
}

function sampleCheckpoint(step: number, seed = 1): Checkpoint {
  const weights = new Map<string, NamedTensor>([
    ['shared.weight', { shape: [6, 4], values: awkwardFloats(24, seed) }],
    ['encoder.block.0.layer.0.SelfAttention.q.weight', { shape: [4, 4], values: randomValues(16, seed + 1) }],
    ['scalar.like', { shape: [1], values: randomValues(1, seed + 2) }],
    ['empty.weight', { shape: [0, 4], values: new Float32Array(0) }],
  ]);
  return {
    step,
    weights,
    optimizer: [
      { name: 'shared.weight', step: 7, m: randomValues(24, seed + 3), v: awkwardFloats(24, seed + 4) },
      // An expert that has seen fewer updates than the rest keeps its own count.
      { name: 'encoder.block.0.layer.0.SelfAttention.q.weight', step: 3, m: randomValues(16, seed + 5), v: randomValues(16, seed + 6) },
    ],
    state: { step, cursor: { epoch: 2, doc: 5, token: 17, rng: { s: [1, 2, 3, 4] } }, note: 'ünïcödé', nested: [null, true, 1.5e-7] },
  };
}

function bytes(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function assertSameCheckpoint(actual: Checkpoint, expected: Checkpoint): void {
  assert.equal(actual.step, expected.step);
  assert.deepEqual([...actual.weights.keys()], [...expected.weights.keys()], 'weight names, in order');
  for (const [name, w] of expected.weights) {
    const got = actual.weights.get(name) as NamedTensor;
    assert.deepEqual(got.shape, w.shape, `${name} shape`);
    assert.ok(bytes(got.values).equals(bytes(w.values)), `${name} values are bit-exact`);
  }
  assert.equal(actual.optimizer.length, expected.optimizer.length);
  expected.optimizer.forEach((s, i) => {
    const got = actual.optimizer[i];
    assert.equal(got.name, s.name);
    assert.equal(got.step, s.step, `${s.name} step count`);
    assert.ok(bytes(got.m).equals(bytes(s.m)), `${s.name} m is bit-exact`);
    assert.ok(bytes(got.v).equals(bytes(s.v)), `${s.name} v is bit-exact`);
  });
  assert.deepEqual(actual.state, expected.state);
}

test('a checkpoint round-trips bit-exactly: weights, optimizer slots with their step counts, state', () => {
  withTempDir('ckpt', (root) => {
    const ckpt = sampleCheckpoint(12);
    const dir = saveCheckpoint(root, ckpt);
    assert.equal(dir, checkpointDir(root, 12));
    assert.deepEqual(readdirSync(dir).sort(), ['manifest.json', 'optimizer.bin', 'state.json', 'weights.bin']);
    assert.equal(readFileSync(join(dir, 'weights.bin')).length, 4 * (24 + 16 + 1 + 0));
    assert.equal(readFileSync(join(dir, 'optimizer.bin')).length, 4 * 2 * (24 + 16));
    assertSameCheckpoint(loadCheckpoint(dir), ckpt);
    assert.deepEqual(readdirSync(root), ['step-12'], 'no temporary folder is left behind');
  });
});

/** Saves a checkpoint, damages it with `damage`, and returns the CheckpointError message. */
function refusal(damage: (dir: string) => void): string {
  let message = '';
  withTempDir('ckpt', (root) => {
    const dir = saveCheckpoint(root, sampleCheckpoint(4));
    damage(dir);
    assert.throws(
      () => loadCheckpoint(dir),
      (err: unknown) => {
        assert.ok(err instanceof CheckpointError, String(err));
        assert.ok(err.message.includes(dir), `the message names the folder: ${err.message}`);
        message = err.message;
        return true;
      },
    );
  });
  return message;
}

test('a flipped byte in weights.bin is refused: checksum', () => {
  const msg = refusal((dir) => {
    const file = join(dir, 'weights.bin');
    const buf = readFileSync(file);
    buf[37] ^= 0x01;
    writeFileSync(file, buf);
  });
  assert.match(msg, /weights\.bin does not match its checksum/);
});

test('a truncated optimizer.bin is refused: size', () => {
  const msg = refusal((dir) => truncateSync(join(dir, 'optimizer.bin'), 100));
  assert.match(msg, /optimizer\.bin has 100 bytes, the manifest says 320/);
});

test('a missing manifest.json (an interrupted write) is refused', () => {
  const msg = refusal((dir) => unlinkSync(join(dir, 'manifest.json')));
  assert.match(msg, /manifest\.json is missing/);
});

test('a manifest.json that is not JSON, or not a manifest, is refused as malformed', () => {
  const notJson = refusal((dir) => writeFileSync(join(dir, 'manifest.json'), '{"format": "switchyard-checkpoint/1", "step": 4, "weig'));
  assert.match(notJson, /manifest\.json is malformed/);
  const wrongFormat = refusal((dir) => {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...m, format: 'switchyard-checkpoint/99' }));
  });
  assert.match(wrongFormat, /manifest\.json is malformed/);
  const badOffset = refusal((dir) => {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    m.weights[1].offset = -3;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  });
  assert.match(badOffset, /manifest\.json is malformed/);
});

test('a manifest whose tensors lie past the end of the data is refused', () => {
  const msg = refusal((dir) => {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    m.weights[0].shape = [600, 4];
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  });
  assert.match(msg, /tensor shared\.weight lies past the end of weights\.bin/);
});

test('a missing state.json is refused', () => {
  const msg = refusal((dir) => unlinkSync(join(dir, 'state.json')));
  assert.match(msg, /state\.json is missing/);
});

test('listCheckpoints ignores temporary folders and step folders without a manifest, and sorts by step', () => {
  withTempDir('ckpt', (root) => {
    assert.deepEqual(listCheckpoints(join(root, 'none')), []);
    for (const step of [10, 2, 9]) saveCheckpoint(root, sampleCheckpoint(step));
    // A write interrupted before the rename: a complete-looking temporary folder.
    saveCheckpoint(root, sampleCheckpoint(30));
    mkdirSync(join(root, '.tmp-step-40-12345'));
    for (const f of readdirSync(checkpointDir(root, 30))) writeFileSync(join(root, '.tmp-step-40-12345', f), readFileSync(join(checkpointDir(root, 30), f)));
    rmSync(checkpointDir(root, 30), { recursive: true });
    // A step folder whose manifest was never written.
    mkdirSync(join(root, 'step-50'));
    writeFileSync(join(root, 'step-50', 'weights.bin'), Buffer.alloc(16));
    // Names that only look like steps.
    mkdirSync(join(root, 'step-7.bak'));
    writeFileSync(join(root, 'step-7.bak', 'manifest.json'), '{}');
    assert.deepEqual(listCheckpoints(root), [2, 9, 10]);
  });
});

test('saving the same step twice replaces the checkpoint whole', () => {
  withTempDir('ckpt', (root) => {
    saveCheckpoint(root, sampleCheckpoint(5, 1));
    writeFileSync(join(checkpointDir(root, 5), 'stray.txt'), 'left from the first write');
    // A temporary folder left by an earlier, crashed save of this step in this process.
    mkdirSync(join(root, `.tmp-step-5-${process.pid}`));
    writeFileSync(join(root, `.tmp-step-5-${process.pid}`, 'junk.bin'), 'junk');
    const second = sampleCheckpoint(5, 99);
    const dir = saveCheckpoint(root, second);
    assertSameCheckpoint(loadCheckpoint(dir), second);
    assert.notDeepEqual([...loadCheckpoint(dir).weights.get('shared.weight')!.values.slice(5)], [...sampleCheckpoint(5, 1).weights.get('shared.weight')!.values.slice(5)]);
    assert.ok(!existsSync(join(dir, 'stray.txt')), 'the old folder was replaced, not overwritten file by file');
    assert.deepEqual(readdirSync(root), ['step-5']);
    assert.deepEqual(listCheckpoints(root), [5]);
  });
});

function snapshot(model: SwitchTransformer): Map<string, Buffer> {
  return new Map([...model.params.vars].map(([name, v]) => [name, Buffer.from(bytes(v.dataSync() as Float32Array))]));
}

function weightsOf(model: SwitchTransformer): Map<string, NamedTensor> {
  return new Map([...model.params.vars].map(([name, v]) => [name, { shape: [...v.shape], values: (v.dataSync() as Float32Array).slice() }]));
}

test('restoreWeights refuses a checkpoint whose shapes do not match, and changes no weight', () => {
  const config = testConfig({ numLayers: 2, numDecoderLayers: 2 });
  const model = new SwitchTransformer(config, 1);
  const donor = new SwitchTransformer(config, 2);
  const wider = new SwitchTransformer({ ...config, dFf: 48 }, 2);
  try {
    const before = snapshot(model);
    const names = [...model.params.vars.keys()];
    const last = names[names.length - 1];

    // All weights match but the last one checked: nothing may have been assigned before the check fails.
    const mismatched = weightsOf(donor);
    const w = mismatched.get(last) as NamedTensor;
    mismatched.set(last, { shape: [w.shape[0] + 1, ...w.shape.slice(1)], values: new Float32Array(w.values.length + w.shape.slice(1).reduce((a, b) => a * b, 1)) });
    assert.throws(() => restoreWeights(model, mismatched), new RegExp(`the checkpoint's ${last.replace(/\./g, '\\.')} has shape \\[.*\\], the model's is \\[${model.params.vars.get(last)!.shape.join(',')}\\]`));
    assert.deepEqual(snapshot(model), before, 'no weight changed');

    // A checkpoint of a model with a different feed-forward size.
    assert.throws(() => restoreWeights(model, weightsOf(wider)), /has shape \[.*\], the model's is/);
    assert.deepEqual(snapshot(model), before, 'no weight changed');

    // A checkpoint that lacks a weight.
    const missing = weightsOf(donor);
    missing.delete(last);
    assert.throws(() => restoreWeights(model, missing), new RegExp(`the checkpoint has no weight ${last.replace(/\./g, '\\.')}`));
    assert.deepEqual(snapshot(model), before, 'no weight changed');

    // And a matching one is restored exactly.
    restoreWeights(model, weightsOf(donor));
    assert.deepEqual(snapshot(model), snapshot(donor));
    assert.notDeepEqual(snapshot(model), before);
  } finally {
    model.dispose();
    donor.dispose();
    wider.dispose();
  }
});
