// experiment.json's shape, and what clients see of an experiment (engine/protocol.ts). Schemas
// only, so that the extension and webviews can import them without the trainer.
import { z } from 'zod';
import { corpusSpecSchema } from '../train/runConfig';
import { gridSchema, MAX_SEEDS } from './grid';

export const budgetSchema = z.union([z.object({ steps: z.number().int().positive() }).strict(), z.object({ minutes: z.number().positive() }).strict()]);
export type Budget = z.infer<typeof budgetSchema>;

/** The steps a run trains to under `budget` (undefined: a time budget, which the clock ends). */
export function budgetSteps(budget: Budget): number | undefined {
  return 'steps' in budget ? budget.steps : undefined;
}

export const experimentSchema = z
  .object({
    id: z.string(),
    /** A built-in grid's name or the grid file's path. */
    name: z.string(),
    preset: z.string().optional(),
    /** The base config every run starts from (a `--config` file's content). */
    base: z.unknown().optional(),
    corpus: corpusSpecSchema.optional(),
    budget: budgetSchema,
    grid: gridSchema,
    runs: z.array(
      z
        .object({
          name: z.string(),
          /** With several seeds: the grid entry and the seed this run trains with. */
          entry: z.string().optional(),
          seed: z.number().int().min(0).optional(),
          runId: z.string().nullable(),
          state: z.enum(['pending', 'running', 'completed', 'diverged']),
        })
        .strict(),
    ),
    state: z.enum(['running', 'interrupted', 'completed']),
    /** Each grid entry runs with this many seeds (absent: one, the base config's). */
    seeds: z.number().int().min(2).max(MAX_SEEDS).optional(),
    /** Runs side by side when it last ran (absent: one after the other); a resume keeps it unless told. */
    parallel: z.number().int().min(2).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .strict();
export type ExperimentRecord = z.infer<typeof experimentSchema>;

/** What clients see of an experiment (engine/protocol.ts). */
export const experimentSummarySchema = experimentSchema.pick({ id: true, name: true, preset: true, budget: true, runs: true, state: true, seeds: true, parallel: true, createdAt: true, updatedAt: true });
export type ExperimentSummary = z.infer<typeof experimentSummarySchema>;
