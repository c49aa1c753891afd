// The HF checkpoint readers on good and broken files: each broken one is one clear error naming
// what is wrong, and no run is made from it.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { importHfModel } from '../../engine/formats/hf/importRun';
import { hfParams } from '../../engine/formats/hf/names';
import { openSafetensors, writeSafetensors } from '../../engine/formats/hf/safetensors';
import { openTorchBin } from '../../engine/formats/hf/torchBin';
import { SwitchTransformer } from '../../engine/model/model';
import { makeCheckpoint, python } from './hf-helpers';
import { testConfig, useTestBackend } from './setup';

let tmp: string;
let good: string;
before(async () => {
  await useTestBackend();
  tmp = mkdtempSync(join(tmpdir(), 'switchyard-hf-readers-'));
  good = makeCheckpoint(join(tmp, 'good'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

let copies = 0;
/** A copy of the good checkpoint folder, changed by `change`, and where its import would put runs. */
function broken(change: (dir: string) => void): { dir: string; runs: string } {
  const dir = join(tmp, `case-${++copies}`);
  cpSync(good, dir, { recursive: true });
  change(dir);
  return { dir, runs: join(tmp, `runs-${copies}`) };
}

async function assertRefused(c: { dir: string; runs: string }, message: RegExp): Promise<void> {
  await assert.rejects(importHfModel(c.dir, c.runs), message);
  assert.deepEqual(existsSync(c.runs) ? readdirSync(c.runs) : [], [], 'no run is made');
}

/** The good file's tensors, to write back changed. */
async function goodTensors(): Promise<Map<string, { shape: number[]; values: Float32Array }>> {
  const source = openSafetensors(good);
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, info] of source.tensors) out.set(name, { shape: info.shape, values: await source.read(name) });
  source.close();
  return out;
}

function rawSafetensors(header: unknown, data: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

test('both formats of one checkpoint hold the same values (bfloat16 and float16 converted exactly)', async () => {
  const st = openSafetensors(good);
  const bin = await openTorchBin(join(good, 'pytorch_model.bin'));
  try {
    assert.equal(st.tensors.get('encoder.block.1.layer.1.mlp.experts.expert_1.wi.weight')?.dtype, 'BF16');
    assert.equal(bin.tensors.get('decoder.final_layer_norm.weight')?.dtype, 'F16');
    for (const name of st.tensors.keys()) assert.deepEqual(await bin.read(name), await st.read(name), name);
    // The state dict's tied aliases share shared.weight's storage.
    assert.deepEqual(await bin.read('encoder.embed_tokens.weight'), await st.read('shared.weight'));
  } finally {
    st.close();
    bin.close();
  }
});

test('HF\'s names and shapes map onto exactly the engine\'s parameters', () => {
  for (const tied of [true, false]) {
    const c = testConfig({ numLayers: 3, numDecoderLayers: 2 });
    const model = new SwitchTransformer(c, 1);
    const mapped = new Map(hfParams(c, tied).map((p) => [p.engineName, p.transposed ? [p.hfShape[1], p.hfShape[0]] : p.hfShape]));
    if (tied) mapped.set('lm_head.weight', [c.dModel, c.vocabSize]); // made from shared.weight
    const engine = new Map([...model.params.vars].map(([name, v]) => [name, v.shape]));
    assert.deepEqual(new Map([...mapped].sort()), new Map([...engine].sort()));
    model.dispose();
  }
});

test('a truncated safetensors file is refused, naming the tensor that runs past its end', async () => {
  await assertRefused(broken((d) => truncateSync(join(d, 'model.safetensors'), readFileSync(join(d, 'model.safetensors')).length - 100)), /model\.safetensors: truncated: tensor \S+ ends at data byte/);
});

test('a bad safetensors header is refused: an absurd length, or not JSON', async () => {
  await assertRefused(broken((d) => writeFileSync(join(d, 'model.safetensors'), Buffer.alloc(64, 0xff))), /header length \d+ is not plausible/);
  await assertRefused(broken((d) => writeFileSync(join(d, 'model.safetensors'), rawSafetensors('x', new Uint8Array(0)).fill(0x7b, 8, 11))), /bad header: not valid JSON/);
});

test('a tensor of an unsupported dtype is refused by name', async () => {
  const header = { 'shared.weight': { dtype: 'F64', shape: [2], data_offsets: [0, 16] } };
  await assertRefused(broken((d) => writeFileSync(join(d, 'model.safetensors'), rawSafetensors(header, new Uint8Array(16)))), /tensor shared\.weight has dtype "F64"; supported: F32, F16, BF16/);
});

test('a missing, a mis-shaped and an unexpected tensor are each named', async () => {
  const tensors = await goodTensors();
  const without = new Map(tensors);
  without.delete('encoder.block.1.layer.1.mlp.router.classifier.weight');
  await assertRefused(broken((d) => writeSafetensors(join(d, 'model.safetensors'), without)), /missing tensor encoder\.block\.1\.layer\.1\.mlp\.router\.classifier\.weight \[4,32\]/);
  const misshaped = new Map(tensors);
  misshaped.set('decoder.block.2.layer.1.EncDecAttention.o.weight', { shape: [16, 64], values: new Float32Array(1024) });
  await assertRefused(broken((d) => writeSafetensors(join(d, 'model.safetensors'), misshaped)), /tensor decoder\.block\.2\.layer\.1\.EncDecAttention\.o\.weight has shape \[16,64\], the config needs \[32,32\]/);
  const extra = new Map(tensors);
  extra.set('encoder.block.0.layer.1.mlp.router.classifier.weight', { shape: [4, 32], values: new Float32Array(128) });
  await assertRefused(broken((d) => writeSafetensors(join(d, 'model.safetensors'), extra)), /unexpected tensor encoder\.block\.0\.layer\.1\.mlp\.router\.classifier\.weight/);
});

test('a pytorch_model.bin whose pickle calls a forbidden global is refused before anything runs', async () => {
  const marker = join(tmp, 'pwned');
  const c = broken((d) => {
    rmSync(join(d, 'model.safetensors'));
    python([
      '-c',
      [
        'import os, pickle, sys, zipfile',
        'class Evil:',
        `    def __reduce__(self): return (os.system, ("touch ${marker}",))`,
        'with zipfile.ZipFile(sys.argv[1], "w") as z: z.writestr("archive/data.pkl", pickle.dumps({"shared.weight": Evil()}, protocol=2))',
      ].join('\n'),
      join(d, 'pytorch_model.bin'),
    ]);
  });
  await assertRefused(c, /pytorch_model\.bin: pickle: refusing global posix\.system: a state dict needs only tensors/);
  assert.equal(existsSync(marker), false);
});

test('a truncated pytorch_model.bin is refused as a broken zip', async () => {
  const c = broken((d) => {
    rmSync(join(d, 'model.safetensors'));
    truncateSync(join(d, 'pytorch_model.bin'), 4096);
  });
  await assertRefused(c, /pytorch_model\.bin: not a zip archive as torch\.save writes it/);
});
