// Shared by the Hugging Face import tests: the Python reference (Debian's /usr/bin/python3 with
// torch) that makes tiny checkpoints in HF's layout and runs HF's forward on them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';
const REFERENCE = join(__dirname, '..', '..', 'python', 'hf_reference');

/** Runs a script of python/hf_reference; fails the test with its stderr when it fails. */
export function python(args: string[], input?: string): string {
  const r = spawnSync(PYTHON, args, { cwd: REFERENCE, input, encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `${PYTHON} ${args.join(' ')} failed (is Debian's python3-torch installed? .ci/install-python.sh):\n${r.stderr}`);
  return r.stdout;
}

/** A tiny random checkpoint in HF's layout (see make_checkpoint.py for the flags). */
export function makeCheckpoint(dir: string, ...flags: string[]): string {
  python(['make_checkpoint.py', dir, ...flags]);
  return dir;
}
