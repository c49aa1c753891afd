// A run's whole configuration, as stored in runs/<id>/config.json: the model (HF's fields), the
// training schedule and data, and the corpus. `--config file.json` gives any part of it; the preset
// fills the rest. Everything is validated, with every bad field named.
import { z } from 'zod';
import { alertThresholdsSchema } from '../analysis/health';
import { ConfigError, configError, PRESETS, switchConfigSchema, type PresetName, type SwitchConfig } from '../model/config';

const positiveInt = z.number().int().positive();

export const trainingOptionsSchema = z
  .object({
    steps: positiveInt,
    batchSize: positiveInt,
    /**
     * Sequences per forward/backward pass when a batch is too big for memory at once: the batch's
     * gradients are accumulated over micro-batches, and each routes (and fills its experts' capacity)
     * on its own, as each device does in the paper. Default: the whole batch in one pass.
     */
    microBatchSize: positiveInt.optional(),
    /**
     * Replicas of the model that train a step's micro-batches side by side, each in its own worker
     * thread with its own backend, their gradients summed before one identical optimizer step in each
     * (data parallelism, section 5.1 of the paper). 2 splits the batch in two halves unless
     * microBatchSize says otherwise; the result is the one-process run with that split. Default 1.
     */
    dataParallel: z.union([z.literal(1), z.literal(2)], { error: '1 or 2 (model replicas training side by side, one per core)' }).optional(),
    /** Encoder length: span-corrupted inputs plus </s>. */
    inputLength: z.number().int().min(8),
    /** Peak learning rate, reached after warmupSteps, then decayed as 1/sqrt(step). */
    learningRate: z.number().positive(),
    warmupSteps: z.number().int().min(0),
    /**
     * The routers' classifiers train at this multiple of the learning rate (unset: 1, as in the
     * paper): a router that stays near uniform can be let to move faster than the rest.
     */
    routerLearningRateScale: z.number().positive().optional(),
    /** Global gradient-norm clipping; 0 turns it off. */
    clipNorm: z.number().min(0),
    seed: z.number().int().min(0),
    /**
     * How training examples are cut: 'stream' (unset) takes consecutive pieces of each epoch's shuffled
     * documents, so one batch holds one or two documents; 'random' cuts each at a random position of the
     * training text, so a batch mixes documents (and steps are less alike).
     */
    sampling: z.enum(['stream', 'random']).optional(),
    /** Subword vocabulary the tokenizer is trained to (the model takes the size it reaches). */
    vocabSize: z.number().int().min(512),
    validateEvery: positiveInt,
    validationBatches: positiveInt,
    checkpointEvery: positiveInt,
    /** Router-health alert thresholds; any left out take their defaults (analysis/health.ts). */
    alerts: alertThresholdsSchema.partial().optional(),
  })
  .strict();
export type TrainingOptions = z.infer<typeof trainingOptionsSchema>;

export const corpusSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('brown') }).strict(),
  /** A folder, file or glob of text files. */
  z.object({ kind: z.literal('files'), spec: z.string().min(1) }).strict(),
]);
export type CorpusSpec = z.infer<typeof corpusSpecSchema>;

export const runConfigSchema = z
  .object({
    preset: z.enum(Object.keys(PRESETS) as [PresetName, ...PresetName[]]),
    model: switchConfigSchema,
    training: trainingOptionsSchema,
    corpus: corpusSpecSchema,
    /** A model imported from elsewhere: inference only (its training options are unused). */
    imported: z
      .object({
        format: z.literal('huggingface'),
        /** The folder it was imported from. */
        source: z.string(),
        /** The checkpoint file read there. */
        file: z.string(),
        at: z.string(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type RunConfig = z.infer<typeof runConfigSchema>;

/** Sequences of 64 tokens: with mini's width, about 1,250 tokens a step against tiny's 2,500. */
const mini: TrainingOptions = { steps: 300, batchSize: 16, inputLength: 64, learningRate: 1e-3, warmupSteps: 50, clipNorm: 1, seed: 0, vocabSize: 2048, validateEvery: 50, validationBatches: 4, checkpointEvery: 100 };

export const TRAINING_PRESETS: Record<PresetName, TrainingOptions> = {
  tiny: { steps: 600, batchSize: 16, inputLength: 128, learningRate: 1e-3, warmupSteps: 50, clipNorm: 1, seed: 0, vocabSize: 4096, validateEvery: 50, validationBatches: 4, checkpointEvery: 100 },
  mini,
  /** mini at four times the batch and three times the learning rate, for about 4 passes over Brown. */
  mini64: { ...mini, steps: 1600, batchSize: 64, learningRate: 3e-3 },
  small: { steps: 3000, batchSize: 8, inputLength: 128, learningRate: 1e-3, warmupSteps: 300, clipNorm: 1, seed: 0, vocabSize: 8192, validateEvery: 100, validationBatches: 4, checkpointEvery: 250 },
  base: { steps: 100000, batchSize: 32, inputLength: 512, learningRate: 1e-3, warmupSteps: 10000, clipNorm: 1, seed: 0, vocabSize: 32000, validateEvery: 1000, validationBatches: 8, checkpointEvery: 1000 },
};

/** What a user may give in a config file: any subset of a run config. */
const overridesSchema = z
  .object({
    preset: z.string().optional(),
    model: z.record(z.string(), z.unknown()).optional(),
    training: z.record(z.string(), z.unknown()).optional(),
    corpus: z.unknown().optional(),
  })
  .strict();

/**
 * The run config from a preset, a user's overrides (a parsed config file) and command-line values.
 * The model's vocabSize is a placeholder until the tokenizer is trained (see withVocabSize).
 */
export function resolveRunConfig(opts: { preset?: string; overrides?: unknown; corpus?: CorpusSpec; steps?: number }): RunConfig {
  const o = overridesSchema.safeParse(opts.overrides ?? {});
  if (!o.success) throw configError(o.error);
  const preset = opts.preset ?? o.data.preset ?? 'tiny';
  if (!(preset in PRESETS)) throw new ConfigError([{ field: 'preset', message: `unknown preset '${preset}' (one of ${Object.keys(PRESETS).join(', ')})` }]);
  const name = preset as PresetName;
  const raw = {
    preset: name,
    model: { ...PRESETS[name], ...o.data.model },
    training: { ...TRAINING_PRESETS[name], ...o.data.training, ...(opts.steps !== undefined ? { steps: opts.steps } : {}) },
    corpus: opts.corpus ?? o.data.corpus ?? { kind: 'brown' },
  };
  // The tokenizer sets the model's vocabulary: a model.vocabSize of its own would be silently replaced
  // (a run's own config.json, given back, agrees with its training.vocabSize and passes).
  const modelVocab = o.data.model?.vocabSize;
  if (modelVocab !== undefined && modelVocab !== raw.training.vocabSize) {
    throw new ConfigError([{ field: 'model.vocabSize', message: `the tokenizer sets it: give training.vocabSize (${raw.training.vocabSize} here), the vocabulary the tokenizer is trained to, instead` }]);
  }
  return parseRunConfig(raw);
}

export function parseRunConfig(raw: unknown): RunConfig {
  const r = runConfigSchema.safeParse(raw);
  if (!r.success) throw configError(r.error);
  const { microBatchSize, batchSize, dataParallel = 1 } = r.data.training;
  if (microBatchSize !== undefined && microBatchSize > batchSize) {
    throw new ConfigError([{ field: 'training.microBatchSize', message: `${microBatchSize} is more than the batch size (${batchSize})` }]);
  }
  const parts = Math.ceil(batchSize / (microBatchSizeOf(r.data.training) ?? batchSize));
  if (parts < dataParallel) {
    throw new ConfigError([{ field: 'training.dataParallel', message: `${dataParallel} replicas need ${dataParallel} micro-batches; the batch of ${batchSize} splits into ${parts}` }]);
  }
  return r.data;
}

/** Sequences per micro-batch: as configured, else the batch's share of one replica, else the whole batch (undefined). */
export function microBatchSizeOf(t: TrainingOptions): number | undefined {
  const replicas = t.dataParallel ?? 1;
  return t.microBatchSize ?? (replicas > 1 ? Math.ceil(t.batchSize / replicas) : undefined);
}

export function withVocabSize(config: RunConfig, vocabSize: number): RunConfig {
  const model: SwitchConfig = { ...config.model, vocabSize };
  return parseRunConfig({ ...config, model });
}
