// A fairseq `--log-format json` log becomes a run folder in the run format (external, producer
// 'fairseq'): its losses, speed and the gate's scalar figures per logged update; no per-expert counts.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { RUN_FORMAT_VERSION, type ExternalRunConfig } from '../../train/runFormat';
import { newId, RunDir } from '../../train/runStore';
import { TraceFormatError } from '../megatron/jsonl';
import { readFairseqLog } from './jsonLog';

export function importFairseq(source: string, runsDir: string, o: { name?: string } = {}): { run: RunDir; records: number; warnings: string[] } {
  const log = readFairseqLog(source);
  const steps = log.records.filter((r) => r.type === 'step');
  if (!steps.length) throw new TraceFormatError(`${source} holds no train_inner stats line (fairseq-train … --log-format json)`);
  const run = new RunDir(runsDir, newId(o.name ?? 'fairseq'));
  mkdirSync(run.path, { recursive: true });
  const last = steps.at(-1)!.step;
  run.writeText('metrics.jsonl', log.records.map((r) => JSON.stringify(r) + '\n').join(''));
  run.writeJson('status.json', { id: run.id, state: 'completed', step: last, steps: last, backend: 'fairseq (imported)', updatedAt: new Date().toISOString() });
  const config: ExternalRunConfig = {
    format: 'switchyard-run',
    version: RUN_FORMAT_VERSION,
    external: { producer: 'fairseq', source: resolve(source), createdAt: new Date().toISOString() },
    layers: [],
    extra: { gateMetrics: log.gateKeys },
  };
  run.writeJson('config.json', config); // last: the folder is a run once config.json exists
  return { run, records: log.records.length, warnings: log.warnings };
}
