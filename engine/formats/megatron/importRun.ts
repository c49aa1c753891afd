// A Megatron router trace becomes a run folder in the run format (external, producer 'megatron'):
// one step record per traced step with each layer's routed counts; listed like any run.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { RUN_FORMAT_VERSION, runRecordSchema, type ExternalRunConfig, type RunRecord } from '../../train/runFormat';
import { newId, RunDir } from '../../train/runStore';
import { readRoutingTrace } from './routingTrace';

export function importMegatronTrace(source: string, runsDir: string, name?: string, numExperts?: number): { run: RunDir; records: number; warnings: string[] } {
  const trace = readRoutingTrace(source, numExperts);
  const records: RunRecord[] = [...trace.steps.keys()]
    .sort((a, b) => a - b)
    .map((step) =>
      runRecordSchema.parse({
        type: 'step',
        step,
        layers: [...trace.steps.get(step)!].map(([layer, routed]) => ({
          layer,
          numExperts: trace.numExperts,
          topK: trace.topK.get(layer),
          routed,
          assignments: routed.reduce((a, b) => a + b, 0),
        })),
      }),
    );
  const run = new RunDir(runsDir, newId(name ?? 'megatron'));
  mkdirSync(run.path, { recursive: true });
  const last = records.at(-1)?.step ?? 0;
  run.writeText('metrics.jsonl', records.map((r) => JSON.stringify(r) + '\n').join(''));
  run.writeJson('status.json', { id: run.id, state: 'completed', step: last, steps: last, backend: 'megatron (imported)', updatedAt: new Date().toISOString() });
  const config: ExternalRunConfig = {
    format: 'switchyard-run',
    version: RUN_FORMAT_VERSION,
    external: { producer: 'megatron', source: resolve(source), createdAt: new Date().toISOString() },
    layers: [...trace.topK].map(([layer, k]) => ({ name: layer, numExperts: trace.numExperts, topK: k, router: 'TopKRouter' })),
  };
  run.writeJson('config.json', config); // last: the folder is a run once config.json exists
  return { run, records: records.length, warnings: trace.warnings };
}
