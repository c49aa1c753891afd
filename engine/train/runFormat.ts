// The run format: what a run folder holds (config.json, status.json, metrics.jsonl), as read by the
// engine, the extension and any other producer (the PyTorch probe, the Megatron / fairseq importers).
// The engine's own records (metrics.ts) are the richest case; a producer with less information
// writes only the required fields (step, per-layer routed counts) and is still a valid run.
// docs/run-format.schema.json is generated from these schemas (`npm run schema`).
import { z } from 'zod';
import { meshStepSchema } from '../mesh/meshStep';
import { runStatusSchema } from './runStatus';
import { layerMetricsSchema, stepMetricsSchema, validationMetricsSchema } from './metrics';
import { runConfigSchema } from './runConfig';

export const RUN_FORMAT_VERSION = 1;
const count = z.number().int().min(0);

/** One sparse layer at one step: its name, expert count and routed counts are required; the rest is what the producer knows. */
export const layerRecordSchema = layerMetricsSchema
  .partial()
  .required({ layer: true, numExperts: true, routed: true })
  .extend({
    /** Experts each token chose (k of top-k). */
    topK: count.optional(),
  });
export type LayerRecord = z.infer<typeof layerRecordSchema>;

/** A training step: `type`, `step` and `layers` are required. */
export const stepRecordSchema = stepMetricsSchema
  .partial()
  .required({ type: true, step: true })
  .extend({
    layers: z.array(layerRecordSchema),
    /** Expert-parallel mesh figures (engine/mesh), when the producer simulates or measures a mesh. */
    mesh: meshStepSchema.optional(),
    /** Seconds the producer spent gathering this record (the probe's own cost), if it measured it. */
    probeSeconds: z.number().min(0).optional(),
    /**
     * Scalar router figures from a producer that logs no per-expert counts, under its own names and
     * units, as it aggregates them (fairseq: overflow_expert1 in %, entropy_gating in nats,
     * unused_expert1_count, ... averaged over its MoE layers and the log interval). `layers` is then empty.
     */
    gateMetrics: z.record(z.string(), z.number()).optional(),
  });
export type StepRecord = z.infer<typeof stepRecordSchema>;

export const validationRecordSchema = validationMetricsSchema.partial().required({ type: true, step: true });
export type ValidationRecord = z.infer<typeof validationRecordSchema>;

/** One line of metrics.jsonl. */
export const runRecordSchema = z.discriminatedUnion('type', [stepRecordSchema, validationRecordSchema]);
export type RunRecord = z.infer<typeof runRecordSchema>;

/** A sparse layer as an external producer declares it in config.json. */
export const externalLayerSchema = z.object({
  name: z.string().min(1),
  numExperts: z.number().int().min(1),
  topK: z.number().int().min(1).optional(),
  /** Tokens an expert processes per step at most, when the layer has a capacity. */
  expertCapacity: count.optional(),
  /** The module type the router was found as (e.g. SwitchTransformersTop1Router). */
  router: z.string().optional(),
});

/** config.json of a run the engine did not train: written by the probe or an importer. */
export const externalRunConfigSchema = z
  .object({
    format: z.literal('switchyard-run'),
    version: z.literal(RUN_FORMAT_VERSION),
    /** Who wrote the folder. */
    external: z.object({
      producer: z.enum(['pytorch-probe', 'megatron', 'fairseq']),
      /** Where the records came from: a script, a log folder or file. */
      source: z.string().optional(),
      /** Producer's version (the probe's, a library's). */
      producerVersion: z.string().optional(),
      createdAt: z.string(),
    }),
    layers: z.array(externalLayerSchema),
    /** Whatever else the producer wants to keep (hyper-parameters); not read by Switchyard. */
    extra: z.record(z.string(), z.unknown()).optional(),
  });
export type ExternalRunConfig = z.infer<typeof externalRunConfigSchema>;

/** config.json: a run the engine trained or imported, or an external one. */
export const runFolderConfigSchema = z.union([runConfigSchema, externalRunConfigSchema]);

/** status.json, as the engine writes it; an external producer writes the same. */
export const runFolderStatusSchema = runStatusSchema;

/** The JSON Schema of the three files, as published in docs/run-format.schema.json. */
export function runFormatJsonSchema(): object {
  const io = { io: 'input', unrepresentable: 'any' } as const;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `Switchyard run format, version ${RUN_FORMAT_VERSION}`,
    description: 'A run folder: config.json, status.json and metrics.jsonl (one record per line). See docs/run-format.md.',
    $defs: {
      config: z.toJSONSchema(runFolderConfigSchema, io),
      status: z.toJSONSchema(runFolderStatusSchema, io),
      metricsRecord: z.toJSONSchema(runRecordSchema, io),
    },
  };
}
