#!/usr/bin/env node
// `npm run test:vscode`: the extension-host suite (test/e2e/suite/*.test.ts, the same tests the
// code-server run uses) in a real desktop VS Code, through @vscode/test-electron's runTests.
//   VS Code: the executable in SWITCHYARD_VSCODE_PATH, or else a stable build downloaded into
//   .vscode-test/ (only where update.code.visualstudio.com answers).
// It never passes without running: when it cannot run (no VS Code and no network, no display, no
// mocha) it says so on one line starting `test:vscode: did not run:` and exits with code 2; a run
// counts only if the suite itself reported its counts (a file the suite's index.ts writes), and any
// failure exits with code 1.
// Usage: node scripts/test-vscode.mjs [--grep PATTERN]   (Linux without a display: xvfb-run -a npm run test:vscode)
/* global fetch, AbortSignal -- Node's */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import { buildSuite, QUIET_SETTINGS } from '../test/e2e/buildSuite.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'test-results/vscode');
const DOWNLOAD_PROBE = 'https://update.code.visualstudio.com/api/releases/stable';
const require = createRequire(join(ROOT, 'package.json'));


class DidNotRun extends Error {}

function parseArgs(argv) {
  const o = { grep: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--grep') o.grep = argv[++i];
    else {
      console.error(`test:vscode: unknown argument ${argv[i]}\nusage: node scripts/test-vscode.mjs [--grep PATTERN]`);
      process.exit(2);
    }
  }
  return o;
}

async function reachable(url) {
  try {
    const r = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(10_000) });
    return { ok: r.status < 500, why: `HTTP ${r.status}` };
  } catch (e) {
    return { ok: false, why: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

/** The VS Code executable: SWITCHYARD_VSCODE_PATH, or a download where there is network. */
async function findVSCode() {
  const given = process.env.SWITCHYARD_VSCODE_PATH;
  if (given) {
    try {
      accessSync(given, constants.X_OK);
    } catch {
      throw new DidNotRun(`SWITCHYARD_VSCODE_PATH=${given} is not an executable file`);
    }
    return given;
  }
  const net = await reachable(DOWNLOAD_PROBE);
  if (!net.ok) {
    throw new DidNotRun(`no VS Code desktop (set SWITCHYARD_VSCODE_PATH) and no network to download one (${new URL(DOWNLOAD_PROBE).host}: ${net.why})`);
  }
  const { downloadAndUnzipVSCode } = require('@vscode/test-electron');
  console.log('test:vscode: downloading VS Code (stable) into .vscode-test/');
  return downloadAndUnzipVSCode({ version: process.env.SWITCHYARD_VSCODE_VERSION || 'stable', cachePath: join(ROOT, '.vscode-test') });
}

function checkPrerequisites() {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    throw new DidNotRun('no display (DISPLAY is not set): run it under a virtual one, e.g. `xvfb-run -a npm run test:vscode`');
  }
  // The suite's bundle (test/e2e/out/index.js) loads mocha at run time: from test/e2e/node_modules
  // (bash .ci/install-e2e.sh) or the repository's own node_modules.
  const candidates = [join(ROOT, 'test/e2e/node_modules/mocha/package.json'), join(ROOT, 'node_modules/mocha/package.json')];
  if (!candidates.some((p) => existsSync(p))) {
    throw new DidNotRun('mocha is not installed: run `bash .ci/install-e2e.sh` (or `npm install --no-save mocha@11.8.0`)');
  }
}

function makeWorkspace(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sample.txt'), 'The jury said it did find that the court had been fair.\n');
  writeFileSync(join(dir, 'joke.txt'), 'The <extra_id_0> walks into a bar.\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const vscodePath = await findVSCode();
  checkPrerequisites();

  console.log('test:vscode: building the extension (dist/) and the suite (test/e2e/out/)');
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`the build failed (exit code ${build.status})`);
  const testsPath = await buildSuite();

  rmSync(RESULTS, { recursive: true, force: true });
  const userData = join(RESULTS, 'user-data');
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(join(userData, 'User/settings.json'), JSON.stringify(QUIET_SETTINGS, null, 2));
  const workspace = join(RESULTS, 'workspace');
  makeWorkspace(workspace);
  const resultFile = join(RESULTS, 'suite-result.json');

  const { runTests } = require('@vscode/test-electron');
  console.log(`test:vscode: running the extension-host suite in ${vscodePath}`);
  let code;
  try {
    code = await runTests({
      vscodeExecutablePath: vscodePath,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: testsPath,
      launchArgs: [workspace, `--user-data-dir=${userData}`, `--extensions-dir=${join(RESULTS, 'extensions')}`, '--disable-extensions', '--disable-gpu'],
      extensionTestsEnv: { SWITCHYARD_E2E_RESULT: resultFile, ...(args.grep ? { SWITCHYARD_E2E_GREP: args.grep } : {}) },
    });
  } catch (e) {
    code = typeof e.code === 'number' ? e.code : 1;
    console.error(`test:vscode: VS Code exited with ${e.code ?? e.signal ?? e.message}`);
  }
  if (!existsSync(resultFile)) {
    throw new DidNotRun(`VS Code exited (code ${code}) without the suite reporting its counts: the tests did not run in it (see the output above)`);
  }
  const counts = JSON.parse(readFileSync(resultFile, 'utf8'));
  console.log(`test:vscode: ${counts.passed} passed, ${counts.failed} failed (desktop VS Code)`);
  return code === 0 && counts.failed === 0 && counts.passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof DidNotRun) {
      console.error(`test:vscode: did not run: ${err.message}`);
      process.exit(2);
    }
    console.error(`test:vscode: ${err.stack ?? err}`);
    process.exit(1);
  },
);
