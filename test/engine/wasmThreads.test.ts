// The wasm backend on two threads (SWITCHYARD_WASM_THREADS=2, engine/wasmThreads.ts): it really runs
// two threads, in the bundled engine a user installs, and trains bit for bit as on one thread
// (a thread computes whole output tiles of a matmul, so the count changes no sum's order).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { wasmThreads } from '../../engine/backend';

const bin = join(__dirname, '..', '..', 'bin', 'switchyard.js');
const dir = mkdtempSync(join(tmpdir(), 'switchyard-threads-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], threads: number) {
  const res = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 180_000, env: { ...process.env, SWITCHYARD_WASM_THREADS: String(threads) } });
  assert.equal(res.status, 0, res.stderr);
  return { stdout: res.stdout, log: res.stdout + res.stderr };
}

test('SWITCHYARD_WASM_THREADS is read strictly', () => {
  assert.equal(wasmThreads({}), Math.min(2, availableParallelism()));
  assert.equal(wasmThreads({ SWITCHYARD_WASM_THREADS: '1' }), 1);
  assert.equal(wasmThreads({ SWITCHYARD_WASM_THREADS: '2' }), 2);
  for (const bad of ['0', '1.5', 'two', '65']) assert.throws(() => wasmThreads({ SWITCHYARD_WASM_THREADS: bad }), /SWITCHYARD_WASM_THREADS must be a whole number from 1 to 64/);
});

test('on two threads the engine reports them and trains bit for bit as on one', () => {
  const info = JSON.parse(cli(['info', '--backend', 'wasm'], 2).stdout) as { backend: { name: string; threads: number } };
  assert.deepEqual([info.backend.name, info.backend.threads], ['wasm', 2]);
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ model: { dModel: 64, dKv: 16, dFf: 256, numHeads: 4, numExperts: 4 }, training: { batchSize: 4, inputLength: 64, vocabSize: 600, validateEvery: 2, checkpointEvery: 10 } }),
  );
  const records = (threads: number) => {
    const runs = join(dir, `runs${threads}`);
    const out = cli(['train', '--preset', 'tiny', '--config', 'config.json', '--steps', '4', '--backend', 'wasm', '--runs', runs], threads);
    assert.match(out.log, new RegExp(`backend wasm \\(SIMD, ${threads} threads?\\)`));
    const [run] = readdirSync(runs);
    return readFileSync(join(runs, run, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .map(({ time: _time, tokensPerSecond: _speed, ...rest }) => rest); // the clock differs, nothing else may
  };
  const one = records(1);
  assert.equal(one.filter((r) => r.type === 'step').length, 4);
  assert.deepEqual(records(2), one);
});
