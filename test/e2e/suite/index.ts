// The extension-host test entry (extensionTestsPath points at its bundle, test/e2e/out/index.js).
// VS Code loads this file in the real extension host, with the extension under test loaded from
// extensionDevelopmentPath, and calls run(); a rejection fails the run (exit code 1).
// mocha is resolved at run time from test/e2e/node_modules; vscode is the host's own module.
import Mocha, { type Runner } from 'mocha';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function run(): Promise<void> {
  const grep = process.env.SWITCHYARD_E2E_GREP;
  const mocha = new Mocha({
    ui: 'tdd',
    color: false,
    reporter: 'spec',
    // Per-test ceiling; real waits (engine start, training steps) are bounded inside the tests.
    timeout: 180_000,
    ...(grep ? { grep } : {}),
  });
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  if (files.length === 0) return Promise.reject(new Error(`no *.test.js beside ${__filename}`));
  for (const f of files) mocha.addFile(join(__dirname, f));
  // run.mjs echoes the console between this line and the closing one.
  console.log(`extension-host tests: starting ${files.join(', ')}`);
  return new Promise((resolve, reject) => {
    let passed = 0;
    let failed = 0;
    let ran = 0;
    let runner: Runner | undefined;
    const done = (failures: number, error?: unknown) => {
      // The tests the grep selects; fewer run (a failed hook skips its suite's) or none at all fail the run.
      const declared = runner?.total ?? 0;
      const problems = [
        ...(error ? [`an error outside the tests: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`] : []),
        ...(declared === 0 ? [`no test to run${grep ? ` (none matches --grep ${JSON.stringify(grep)})` : ''}`] : []),
        ...(ran < declared ? [`${declared - ran} of ${declared} tests did not run`] : []),
      ];
      for (const p of problems) console.log(`extension-host tests: ${p}`);
      // run.mjs reads this line from the forwarded console.
      console.log(`extension-host tests: ${passed} passed, ${failed} failed, ${ran} of ${declared} run`);
      // scripts/test-vscode.mjs reads the counts from this file: an editor that exited without
      // running the suite must not look like a pass.
      const resultFile = process.env.SWITCHYARD_E2E_RESULT;
      if (resultFile) writeFileSync(resultFile, JSON.stringify({ passed, failed, ran, declared, files }));
      if (failures > 0 || problems.length) reject(new Error([`${failures} extension-host test(s) failed`, ...problems].join('; ')));
      else resolve();
    };
    try {
      runner = mocha.run((failures) => done(failures));
    } catch (e) {
      done(0, e); // a test file that does not load
      return;
    }
    runner.on('pass', () => passed++);
    runner.on('fail', () => failed++);
    runner.on('test end', () => ran++);
  });
}
