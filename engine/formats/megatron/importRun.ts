// A Megatron router trace or tokens-per-expert dump becomes a run folder in the run format (external, producer 'megatron'):
// one step record per traced step with each layer's routed counts; listed like any run.
import { RUN_FORMAT_VERSION, runRecordSchema, type ExternalRunConfig, type RunRecord } from '../../train/runFormat';
import { newId, RunDir } from '../../train/runStore';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readRoutingTrace, traceFiles } from './routingTrace';
import { readTokensPerExpert } from './tokensPerExpert';

export interface MegatronImportOptions {
  name?: string;
  /** Experts per layer (a router trace only names those it routed to). */
  numExperts?: number;
  /** Expert-parallel size, for a tokens-per-expert dump. */
  expertParallel?: number;
}

/**
 * `source`: a router-trace folder (router_trace_rank*.jsonl), a tokens-per-expert folder (rank*.jsonl),
 * Megatron's save folder holding tokens_per_expert/, or one such file.
 */
export function importMegatron(source: string, runsDir: string, o: MegatronImportOptions = {}): { run: RunDir; records: number; warnings: string[] } {
  const tpeDir = join(source, 'tokens_per_expert');
  const isTrace = (() => {
    try {
      return traceFiles(source).every((f) => /router_trace_rank\d+\.jsonl$/.test(f));
    } catch {
      return false;
    }
  })();
  const trace = isTrace ? readRoutingTrace(source, o.numExperts) : readTokensPerExpert(existsSync(tpeDir) ? tpeDir : source, o.expertParallel);
  const name = o.name;
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
    layers: [...trace.topK].map(([layer, k]) => ({ name: layer, numExperts: trace.numExperts, ...(k ? { topK: k } : {}), router: 'TopKRouter' })),
  };
  run.writeJson('config.json', config); // last: the folder is a run once config.json exists
  return { run, records: records.length, warnings: trace.warnings };
}
