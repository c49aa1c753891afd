#!/usr/bin/env node
// Writes a run folder in the engine's format the way a foreign trainer would: config.json and
// status.json once, then one metrics.jsonl record per step, appended and flushed, every `--interval`
// ms. Used by the tests of external run folders (a stand-in until the PyTorch probe writes them).
//   node scripts/runFolderWriter.mjs <folder> [--steps N] [--interval MS] [--experts E] [--layers L]
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

/** One step record with `layers` sparse layers of `experts` experts; only the fields the format requires plus a loss. */
export function stepRecord(step, experts = 4, layers = 2) {
  return {
    type: 'step',
    step,
    time: Date.now(),
    tokens: 64,
    tokensPerSecond: 1000,
    learningRate: 0.001,
    loss: 5 / (1 + step / 10),
    crossEntropy: 4.9 / (1 + step / 10),
    auxLoss: 1,
    zLoss: 0.1,
    gradNorm: 1,
    layers: Array.from({ length: layers }, (_, l) => {
      const routed = Array.from({ length: experts }, (_, e) => 8 + ((step + e + l) % experts));
      const assignments = routed.reduce((a, b) => a + b, 0);
      return {
        layer: `encoder.block.${2 * l + 1}.layer.1`,
        numExperts: experts,
        capacity: 0,
        assignments,
        routed,
        kept: routed,
        shares: routed.map((r) => r / assignments),
        dropped: 0,
        overflowRate: 0,
        routerEntropy: Math.log(experts) * 0.9,
        normalizedEntropy: 0.9,
        loadCv: 0.1,
        maxShare: Math.max(...routed) / assignments,
        unusedExperts: 0,
        meanProb: routed.map(() => 1 / experts),
      };
    }),
  };
}

export async function writeRun(folder, { steps = 20, interval = 200, experts = 4, layers = 2 } = {}) {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), JSON.stringify({ model: { router: 'top1', numExperts: experts } }) + '\n');
  for (let step = 1; step <= steps; step++) {
    appendFileSync(join(folder, 'metrics.jsonl'), JSON.stringify(stepRecord(step, experts, layers)) + '\n');
    if (step < steps) await sleep(interval);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [folder, ...rest] = process.argv.slice(2);
  if (!folder) throw new Error('usage: runFolderWriter.mjs <folder> [--steps N] [--interval MS] [--experts E] [--layers L]');
  const opt = (name, d) => (rest.includes(`--${name}`) ? Number(rest[rest.indexOf(`--${name}`) + 1]) : d);
  void writeRun(folder, { steps: opt('steps', 20), interval: opt('interval', 200), experts: opt('experts', 4), layers: opt('layers', 2) });
}
