// `npm run bench:train`: whole-model training throughput of the presets on the wasm and cpu
// backends, and the loss the tiny preset reaches in five minutes on the Brown corpus. Each
// measurement runs in its own process, one after another (a process holds one tfjs backend).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, type BackendChoice } from '../backend';
import { resolveRunConfig } from '../train/runConfig';
import { Trainer } from '../train/trainer';

const { values: args } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'wasm' },
    preset: { type: 'string', default: 'tiny' },
    steps: { type: 'string', default: '5' },
    minutes: { type: 'string', default: '0' },
  },
});

interface Measurement {
  preset: string;
  backend: string;
  steps: number;
  seconds: number;
  tokensPerSecond: number;
  initialValidationCrossEntropy?: number;
  validationCrossEntropy?: number;
}

/** Trains `preset` for `steps` timed steps after one untimed one, or for `minutes` of wall time. */
async function measure(backendChoice: BackendChoice, preset: string, steps: number, minutes: number): Promise<Measurement> {
  const backend = await initBackend(backendChoice);
  const runsDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  try {
    const trainer = await Trainer.create(runsDir, resolveRunConfig({ preset, steps: 1_000_000 }), backend.name);
    const initial = minutes ? trainer.validate().crossEntropy : undefined;
    trainer.trainStep(); // warm-up: kernel set-up, wasm heap growth, Adam's slots
    let tokens = 0;
    let done = 0;
    const start = performance.now();
    const deadline = start + minutes * 60_000;
    while (minutes ? performance.now() < deadline : done < steps) {
      tokens += trainer.trainStep().tokens;
      done++;
    }
    const seconds = (performance.now() - start) / 1000;
    const result: Measurement = { preset, backend: backend.name, steps: done, seconds, tokensPerSecond: tokens / seconds };
    if (minutes) Object.assign(result, { initialValidationCrossEntropy: initial, validationCrossEntropy: trainer.validate().crossEntropy });
    trainer.dispose();
    return result;
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

function runChild(backend: string, preset: string, steps: number, minutes = 0): Measurement | string {
  const res = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', '--backend', backend, '--preset', preset, '--steps', String(steps), '--minutes', String(minutes)], {
    encoding: 'utf8',
  });
  if (res.status !== 0) return `failed: ${res.stderr.trim().split('\n').pop()}`;
  return JSON.parse(res.stdout.trim().split('\n').pop() as string) as Measurement;
}

async function main(): Promise<void> {
  if (args.child) {
    console.log(JSON.stringify(await measure(args.backend as BackendChoice, args.preset, Number(args.steps), Number(args.minutes))));
    return;
  }
  console.log(`# Switchyard training benchmark (${new Date().toISOString()})\n`);
  console.log('| preset | backend | timed steps | tokens/s |');
  console.log('|---|---|---|---|');
  for (const [preset, backend, steps] of [
    ['tiny', 'wasm', 10],
    ['small', 'wasm', 4],
    ['tiny', 'cpu', 2],
    ['small', 'cpu', 1],
  ] as const) {
    const m = runChild(backend, preset, steps);
    console.log(typeof m === 'string' ? `| ${preset} | ${backend} | - | ${m} |` : `| ${preset} | ${m.backend} | ${m.steps} | ${m.tokensPerSecond.toFixed(0)} |`);
  }
  const five = runChild('wasm', 'tiny', 0, 5);
  if (typeof five === 'string') console.log(`\ntiny, 5 minutes on wasm: ${five}`);
  else {
    console.log(
      `\ntiny on wasm, Brown corpus, 5 minutes: ${five.steps} steps, ${five.tokensPerSecond.toFixed(0)} tokens/s; ` +
        `validation cross-entropy ${five.initialValidationCrossEntropy?.toFixed(3)} -> ${five.validationCrossEntropy?.toFixed(3)}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(`bench:train failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
