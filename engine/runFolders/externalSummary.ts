// What the Runs tree shows of an external run. Its config.json may be the engine's (a copied run)
// or a probe's with less in it, or absent: the layers and experts then come from the last step.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sparseLayerNames } from '../model/block';
import { runStatusSchema, type RunSummary } from '../protocol';
import { runConfigSchema } from '../train/runConfig';
import { externalRunConfigSchema, runRecordSchema } from '../train/runFormat';
import { lastStepRecord } from '../train/runStore';
import type { ExternalRun } from './externalRuns';

/** The model sizes the mesh simulation needs, when config.json is the engine's. */
export function engineModel(path: string): { dModel: number; dFf: number; numExperts: number } | undefined {
  const c = runConfigSchema.safeParse(readJson(join(path, 'config.json'))).data?.model;
  return c && { dModel: c.dModel, dFf: c.dFf, numExperts: c.numExperts };
}

export function externalSummary(run: Pick<ExternalRun, 'id' | 'path'>): RunSummary {
  const raw = readJson(join(run.path, 'config.json'));
  const config = runConfigSchema.safeParse(raw).data;
  const last = lastStepRecord(join(run.path, 'metrics.jsonl'), runRecordSchema);
  const status = runStatusSchema.safeParse({ ...(readJson(join(run.path, 'status.json')) as object), id: run.id }).data;
  const loose = (raw ?? {}) as { model?: { router?: unknown; numExperts?: unknown } };
  // A probe's or importer's config.json: its producer where a preset goes, its layers' k as the router.
  const producer = externalRunConfigSchema.safeParse(raw).data;
  const topKs = [...new Set(producer?.layers.flatMap((l) => (l.topK ? [`top-${l.topK}`] : [])))];
  return {
    id: run.id,
    preset: config?.preset ?? producer?.external.producer ?? 'custom', // a model not from the engine's presets
    router: config?.model.router ?? (topKs.length ? topKs.join('/') : typeof loose.model?.router === 'string' ? loose.model.router : 'router'),
    numExperts: config?.model.numExperts ?? last?.layers[0]?.numExperts ?? producer?.layers[0]?.numExperts ?? (Number.isInteger(loose.model?.numExperts) ? (loose.model?.numExperts as number) : 0),
    ...(status ? { status } : {}),
    ...(last?.crossEntropy !== undefined ? { crossEntropy: last.crossEntropy } : {}),
    ...(last?.loss !== undefined ? { loss: last.loss } : {}),
    layers: config ? sparseLayerNames(config.model) : (last?.layers.map((l) => l.layer) ?? producer?.layers.map((l) => l.name) ?? []),
    active: false,
    external: run.path,
  };
}

function readJson(file: string): unknown {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
