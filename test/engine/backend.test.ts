import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..');

function run(args: string[], cwd = root) {
  const res = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

test('the wasm backend starts from the source tree', () => {
  const r = run(['--import', 'tsx', join(root, 'engine', 'cli.ts'), 'info', '--backend', 'wasm']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).backend.name, 'wasm');
});

test('the wasm backend starts from the bundle, copied away from node_modules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bundle-'));
  try {
    cpSync(join(root, 'dist'), dir, { recursive: true });
    const r = run([join(dir, 'engine.js'), 'info', '--backend', 'wasm'], dir);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.backend.name, 'wasm');
    assert.equal(info.backend.simd, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('auto falls back past a missing native backend and says why', () => {
  const r = run([join(root, 'dist', 'engine.js'), 'info']);
  assert.equal(r.code, 0, r.stderr);
  const { backend } = JSON.parse(r.stdout);
  assert.ok(['tensorflow', 'wasm'].includes(backend.name));
  if (backend.name !== 'tensorflow') assert.match(backend.fallbacks[0], /^tensorflow: /);
});

test('the cpu backend starts from the bundle', () => {
  const r = run([join(root, 'dist', 'engine.js'), 'info', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).backend.name, 'cpu');
});

test('an unknown backend is refused with one clear message', () => {
  const r = run([join(root, 'dist', 'engine.js'), 'info', '--backend', 'gpu']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--backend must be one of auto, tensorflow, wasm, cpu, not 'gpu'/);
  assert.equal(r.stdout, '');
});
