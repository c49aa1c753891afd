// `npm run bench:listRuns`: what listing runs costs when runs are long. 200 runs of 10,000 steps each
// (one metrics.jsonl of `tiny`'s shape, hard-linked into every run folder), listed by the engine's
// `listRuns` (the last step read from each file's tail) beside the way it was done before (every
// line of every run's metrics.jsonl parsed and validated), in one run of this script.
import { linkSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sparseLayerNames } from '../model/block';
import { EngineService } from '../server/service';
import type { LayerMetrics, StepMetrics } from '../train/metrics';
import { resolveRunConfig } from '../train/runConfig';
import { listRuns, readMetrics, RunDir } from '../train/runStore';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '200' }, steps: { type: 'string', default: '10000' } } });
const RUNS = Number(args.runs);
const STEPS = Number(args.steps);

function stepRecord(step: number, layers: string[], numExperts: number): StepMetrics {
  const routed = Array.from({ length: numExperts }, (_, e) => 100 + ((step * 7 + e * 13) % 50));
  const assignments = routed.reduce((s, x) => s + x, 0);
  const layer = (name: string): LayerMetrics => ({
    layer: name,
    numExperts,
    capacity: 160,
    assignments,
    routed,
    kept: routed,
    shares: routed.map((r) => r / assignments),
    dropped: 0,
    overflowRate: 0,
    routerEntropy: 2.0,
    normalizedEntropy: 0.96,
    loadCv: 0.12,
    maxShare: Math.max(...routed) / assignments,
    unusedExperts: 0,
    meanProb: routed.map(() => 1 / numExperts),
  });
  return { type: 'step', step, time: 1_700_000_000_000 + step, tokens: 4096, tokensPerSecond: 4000, learningRate: 1e-3, loss: 5, crossEntropy: 4.9, auxLoss: 1, zLoss: 2, gradNorm: 1, layers: layers.map(layer) };
}

function time<T>(f: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = f();
  return { ms: performance.now() - start, value };
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-listruns-'));
  try {
    const config = resolveRunConfig({ preset: 'tiny', steps: STEPS });
    const layers = sparseLayerNames(config.model);
    const metrics = join(dir, 'metrics.jsonl');
    const lines: string[] = [];
    for (let s = 1; s <= STEPS; s++) lines.push(JSON.stringify(stepRecord(s, layers, config.model.numExperts)));
    writeFileSync(metrics, lines.join('\n') + '\n');
    const runsDir = join(dir, 'runs');
    for (let i = 0; i < RUNS; i++) {
      const run = new RunDir(runsDir, `20260101-000000-tiny-${String(i).padStart(4, '0')}`);
      mkdirSync(run.path, { recursive: true });
      run.writeJson('config.json', config);
      run.writeJson('status.json', { id: run.id, state: 'completed', step: STEPS, steps: STEPS, backend: 'wasm', updatedAt: new Date(0).toISOString() });
      linkSync(metrics, run.metricsFile);
    }
    const mb = statSync(metrics).size / 2 ** 20;
    console.log(`# listRuns: ${RUNS} runs of ${STEPS} steps (metrics.jsonl ${mb.toFixed(1)} MB each)\n`);

    const service = new EngineService(runsDir, { name: 'wasm', fallbacks: [] }); // lists runs only: no backend is started
    const after = time(() => service.listRuns());
    const before = time(() => listRuns(runsDir).map((id) => readMetrics(new RunDir(runsDir, id).metricsFile).records.filter((r) => r.type === 'step').pop()));
    const same = after.value.runs.every((r, i) => r.crossEntropy === before.value[i]?.crossEntropy && r.crossEntropy !== undefined);
    console.log('| how | ms | ms per run |');
    console.log('|---|---|---|');
    console.log(`| before: parse every line of every metrics.jsonl | ${before.ms.toFixed(0)} | ${(before.ms / RUNS).toFixed(2)} |`);
    console.log(`| after: \`listRuns\` (the tail of each file) | ${after.ms.toFixed(0)} | ${(after.ms / RUNS).toFixed(3)} |`);
    console.log(`\nbefore / after: ${(before.ms / after.ms).toFixed(0)}×; both find the same last step: ${same ? 'yes' : 'NO'}`);
    if (!same) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
