// Bundles the extension-host suite (test/e2e/suite/index.ts and *.test.ts) with esbuild into
// test/e2e/out/: one CommonJS file per entry, `vscode` (the host's own module) and `mocha` (resolved
// at run time beside the bundles, from test/e2e/node_modules or the repository's) left external.
// Used by run.mjs (code-server) and scripts/test-vscode.mjs (desktop VS Code).
import { readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SUITE_DIR = join(ROOT, 'test/e2e/suite');
export const SUITE_OUT = join(ROOT, 'test/e2e/out');

/** User settings both editor runs use (code-server here, a desktop VS Code in scripts/test-vscode.mjs):
 * no welcome page, tips, update checks, AI features or toasts that would cover what the tests read. */
export const QUIET_SETTINGS = {
  'chat.disableAIFeatures': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  // The test workspace lives inside this repository: no "open the parent repository?" toast.
  'git.openRepositoryInParentFolders': 'never',
  // The engine listens on a loopback port: no "your application is available" toast.
  'remote.autoForwardPorts': false,
};

export async function buildSuite() {
  const esbuild = createRequire(join(ROOT, 'package.json'))('esbuild');
  rmSync(SUITE_OUT, { recursive: true, force: true });
  const entries = readdirSync(SUITE_DIR).filter((f) => f === 'index.ts' || f.endsWith('.test.ts'));
  await esbuild.build({
    entryPoints: entries.map((f) => join(SUITE_DIR, f)),
    outdir: SUITE_OUT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    external: ['vscode', 'mocha'],
    // The bundles are build output: keep the repository's `eslint .` off them.
    banner: { js: '/* eslint-disable */' },
    logLevel: 'warning',
  });
  return join(SUITE_OUT, 'index.js');
}
