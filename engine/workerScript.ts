// A worker thread's script: in the bundle, its own file beside engine.js (scripts/build.mjs builds
// it); from the source tree, the TypeScript file beside the caller, run through tsx.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** `dir`: the caller's __dirname; `name`: the script's name without extension, the same in both. */
export function workerScript(dir: string, name: string): { file: string; execArgv: string[] } {
  const bundled = join(dir, `${name}.js`);
  if (existsSync(bundled)) return { file: bundled, execArgv: [] };
  return { file: join(dir, `${name}.ts`), execArgv: ['--require', require.resolve('tsx/cjs')] };
}
