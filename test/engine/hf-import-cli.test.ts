// `switchyard import-hf` through the installed command: the imported model is a run that `infer`
// works on unchanged, with HF's tokens; training it is refused; a folder without a model is one error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeCheckpoint } from './hf-helpers';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'switchyard.js');
const tmp = mkdtempSync(join(tmpdir(), 'switchyard-hf-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args, '--runs', join(tmp, 'runs')], { encoding: 'utf8', timeout: 60_000 });

test('import-hf makes an inference-only run that infer routes and fills', () => {
  const dir = makeCheckpoint(join(tmp, 'model'));
  const imported = cli('import-hf', dir, '--name', 'tiny switch');
  assert.equal(imported.status, 0, imported.stderr);
  assert.match(imported.stdout, /imported 143,488 parameters from model\.safetensors in [\d.]+ s as run \S+-tiny-switch-/);
  const [id] = readdirSync(join(tmp, 'runs'));
  const r = cli('infer', '--run', id, '--text', 'The cat sat on the <extra_id_0> mat.', '--json', '--backend', process.env.SWITCHYARD_BACKEND ?? 'wasm');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tokens: { id: number; text: string }[]; layers: { layer: string; tokens: unknown[] }[]; fills: { sentinel: number }[] };
  // HF's Unigram ids from make_checkpoint.py's vocabulary: "▁The" is 3, <extra_id_0> the top id (142).
  assert.deepEqual(out.tokens.map((t) => [t.id, t.text]), [[3, 'The'], [5, 'cat'], [6, 'sat'], [7, 'on'], [4, 'the'], [142, '<extra_id_0>'], [8, 'mat'], [26, '.']]);
  assert.deepEqual(out.layers.map((l) => l.layer), ['encoder.block.1.layer.1', 'encoder.block.3.layer.1']);
  assert.ok(out.layers.every((l) => l.tokens.length === out.tokens.length));
  assert.deepEqual(out.fills.map((f) => f.sentinel), [0]);

  const train = cli('train', '--resume', id);
  assert.equal(train.status, 1);
  assert.match(train.stderr, /is a model imported from .*: it runs inference only/);
});

test('import-hf of a folder without a model is one clear error and makes no run', () => {
  const r = cli('import-hf', tmp, '--name', 'nothing');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^switchyard: .*config\.json: cannot read it \(ENOENT\)/);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
});
