// `npm run bench:experiment`: an experiment's wall time with its runs one after the other (each on
// the engine's default two wasm threads) against `--parallel 2` (two runs side by side, one wasm
// thread each), through the built command, on the same grid, preset and steps. It fails unless
// both give every run the same validation cross-entropy.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'mini' },
    steps: { type: 'string', default: '300' },
  },
});
const root = join(__dirname, '..', '..');
const engine = join(root, 'dist', 'engine.js');
/** The study's pair (README, "Does the paper's headline reproduce here?"). */
const GRID = [
  { name: 'dense', model: { router: 'dense' } },
  { name: 'switch-e8', model: { router: 'switch' } },
];

interface Outcome {
  seconds: number;
  /** Per run: name, final validation cross-entropy, steps per second of training. */
  runs: { name: string; crossEntropy: number; stepsPerSecond: number }[];
}

function runExperiment(dir: string, extra: string[]): Outcome {
  const start = performance.now();
  const r = spawnSync(process.execPath, [engine, 'experiment', join(dir, 'grid.json'), '--preset', args.preset, '--steps', args.steps, '--runs', join(dir, 'runs'), ...extra], { encoding: 'utf8' });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`experiment ${extra.join(' ')} failed: ${r.stderr.trim().split('\n').pop()}`);
  const home = join(dir, 'runs', 'experiments');
  const [id] = readdirSync(home);
  const results = JSON.parse(readFileSync(join(home, id, 'results.json'), 'utf8')) as { runs: { name: string; crossEntropyAtStep: number; stepsPerSecond: number }[] };
  return { seconds, runs: results.runs.map((x) => ({ name: x.name, crossEntropy: x.crossEntropyAtStep, stepsPerSecond: x.stepsPerSecond })) };
}

function main(): void {
  if (!existsSync(engine)) {
    const b = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`npm run build failed: ${b.stderr}`);
  }
  console.log(`# Switchyard experiment benchmark (${new Date().toISOString()}): ${GRID.map((g) => g.name).join(' and ')}, ${args.preset}, ${args.steps} steps each\n`);
  const outcomes: [string, Outcome][] = [];
  for (const [label, extra] of [
    ['one after the other, 2 threads each', []],
    ['--parallel 2, 1 thread each', ['--parallel', '2']],
  ] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-experiment-'));
    try {
      writeFileSync(join(dir, 'grid.json'), JSON.stringify(GRID));
      outcomes.push([label, runExperiment(dir, [...extra])]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`| how | wall s | ${GRID.map((g) => `${g.name} steps/s`).join(' | ')} | ${GRID.map((g) => `${g.name} val CE`).join(' | ')} |`);
  console.log(`|---|---|${GRID.map(() => '---|').join('')}${GRID.map(() => '---|').join('')}`);
  for (const [label, o] of outcomes) {
    console.log(`| ${label} | ${o.seconds.toFixed(1)} | ${o.runs.map((r) => r.stepsPerSecond.toFixed(2)).join(' | ')} | ${o.runs.map((r) => r.crossEntropy.toFixed(4)).join(' | ')} |`);
  }
  const [[, one], [, two]] = outcomes;
  console.log(`\n--parallel 2 against one after the other: ${(one.seconds / two.seconds).toFixed(2)}× faster (wall time, process start included)`);
  const differ = one.runs.filter((r, i) => r.crossEntropy !== two.runs[i].crossEntropy);
  if (differ.length) throw new Error(`the results differ: ${differ.map((r) => r.name).join(', ')}`);
  console.log('Every run reached the same validation cross-entropy both ways.');
}

try {
  main();
} catch (err) {
  console.error(`bench:experiment failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
