// An experiment's grid: the runs it compares, each a set of config overrides over one base config.
// The built-in grids mirror the paper's comparisons; a grid file is a JSON list of overrides. Every
// run of a grid keeps the same seed, data order and token budget, so those fields are not its to set.
import { z } from 'zod';
import { ConfigError, configError } from '../model/config';
import { resolveRunConfig, type RunConfig } from '../train/runConfig';

export const gridEntrySchema = z
  .object({
    /** Shown in the results; derived from the overrides when absent. */
    name: z.string().regex(/^[\w.=,-]+$/, 'letters, digits and . _ = , - only').optional(),
    model: z.record(z.string(), z.unknown()).optional(),
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type GridEntry = z.infer<typeof gridEntrySchema>;

export const gridSchema = z.array(gridEntrySchema).min(1, 'a grid needs at least one run');
/** The outer shape alone, so that each entry's problems can be named with its index. */
const gridListSchema = z.array(z.unknown()).min(1, 'a grid needs at least one run');

/** Training fields every run of an experiment shares: seed, data order and token budget. */
const FIXED_TRAINING = ['steps', 'seed', 'batchSize', 'inputLength', 'vocabSize', 'sampling'] as const;

const switchWith = (model: Record<string, unknown>): GridEntry => ({ model: { router: 'switch', ...model } });

export const BUILT_IN_GRIDS: Record<string, { mirrors: string; entries: GridEntry[] }> = {
  /** Top-1 routing costs one expert's FLOPs per token whatever E, so all are at equal FLOPs. */
  experts: {
    mirrors: 'paper Fig. 4: dense vs Switch with more experts, equal FLOPs per token',
    entries: [{ name: 'dense', model: { router: 'dense' } }, ...[2, 4, 8, 16].map((e) => ({ name: `switch-e${e}`, ...switchWith({ numExperts: e }) }))],
  },
  capacity: {
    mirrors: 'paper Table 1: Switch and top-2 at capacity factors 1.0, 1.25, 2.0',
    entries: (['switch', 'top2'] as const).flatMap((router) => [1.0, 1.25, 2.0].map((f) => ({ name: `${router}-cf${f}`, model: { router, capacityFactor: f } }))),
  },
  routers: {
    mirrors: 'the routers side by side: switch, top2, ntlb, expertChoice, dense',
    entries: ['switch', 'top2', 'ntlb', 'expertChoice', 'dense'].map((router) => ({ name: router, model: { router } })),
  },
  exploration: {
    mirrors: 'paper Table 11: router exploration strategies',
    entries: ['argmax', 'sample', 'inputDropout', 'jitter'].map((e) => ({ name: e, ...switchWith({ routerExploration: e }) })),
  },
  precision: {
    mirrors: 'paper Table 2: float32, selective precision (router in float32, the rest in bfloat16), bfloat16',
    entries: [
      { name: 'float32', ...switchWith({ dtype: 'float32', routerDtype: 'float32' }) },
      { name: 'selective', ...switchWith({ dtype: 'bfloat16', routerDtype: 'float32' }) },
      { name: 'bfloat16', ...switchWith({ dtype: 'bfloat16', routerDtype: 'bfloat16' }) },
    ],
  },
};

/** Seeds per entry an experiment may ask for. */
export const MAX_SEEDS = 10;

/** A grid's run: its name (`<entry>-seed<s>` when each entry runs with several seeds), its entry, seed and whole config. */
export interface GridRun {
  name: string;
  entry: string;
  seed: number;
  overrides: GridEntry;
  config: RunConfig;
}

export interface GridBase {
  preset?: string;
  overrides?: unknown;
  corpus?: RunConfig['corpus'];
  steps: number;
  /** Each entry runs with this many seeds: the base config's seed, the next, … (default 1). */
  seeds?: number;
}

/**
 * Every run's config: the base (preset, config file, corpus, budget) under each entry's overrides.
 * Checks the whole grid before anything runs and names every bad field as `[i].model.field`.
 * With several seeds, all entries run with the first seed, then all with the next, and so on: an
 * experiment cut short still compares every entry on the seeds it reached.
 */
export function resolveGrid(raw: unknown, base: GridBase): GridRun[] {
  return withSeeds(resolveEntries(raw, base), base.seeds);
}

/** Each entry's run repeated with `seeds` seeds, seed-major, named `<entry>-seed<s>` when more than one. */
export function withSeeds(entries: GridRun[], seeds = 1): GridRun[] {
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > MAX_SEEDS) throw new ConfigError([{ field: 'seeds', message: `a whole number from 1 to ${MAX_SEEDS}` }]);
  if (seeds === 1) return entries;
  return Array.from({ length: seeds }, (_, k) =>
    entries.map((r) => {
      const seed = r.seed + k;
      return { ...r, name: `${r.entry}-seed${seed}`, seed, config: { ...r.config, training: { ...r.config.training, seed } } };
    }),
  ).flat();
}

/** One run per entry, with the base config's seed. */
export function resolveEntries(raw: unknown, base: GridBase): GridRun[] {
  // The base config's own problems are named once, as in `train --config`, not once per entry.
  resolveRunConfig({ preset: base.preset, overrides: base.overrides, corpus: base.corpus, steps: base.steps });
  const list = gridListSchema.safeParse(raw);
  if (!list.success) throw configError(list.error);
  const baseOverrides = (base.overrides ?? {}) as { model?: object; training?: object };
  const problems: ConfigError['problems'] = [];
  const named = (i: number, err: ConfigError) => err.problems.map((p) => ({ field: `[${i}]${p.field === '(root)' ? '' : `.${p.field}`}`, message: p.message }));
  const runs: GridRun[] = [];
  const seen = new Map<string, number>();
  list.data.forEach((rawEntry, i) => {
    const parsed = gridEntrySchema.safeParse(rawEntry);
    if (!parsed.success) problems.push(...named(i, configError(parsed.error)));
    // Past an unknown key, the entry's config is still checked, so that all its bad fields are named.
    const known = parsed.success ? parsed : gridEntrySchema.strip().safeParse(rawEntry);
    if (!known.success) return;
    const entry = known.data;
    const name = entry.name ?? entryName(entry);
    if (seen.has(name)) problems.push({ field: `[${i}].name`, message: `'${name}' is also entry ${seen.get(name)}'s name` });
    seen.set(name, i);
    for (const key of FIXED_TRAINING) {
      if (entry.training && key in entry.training) {
        problems.push({ field: `[${i}].training.${key}`, message: "fixed across an experiment's runs (same seed, data order and token budget)" });
      }
    }
    try {
      const overrides = { ...baseOverrides, model: { ...baseOverrides.model, ...entry.model }, training: { ...baseOverrides.training, ...entry.training } };
      const config = resolveRunConfig({ preset: base.preset, overrides, corpus: base.corpus, steps: base.steps });
      runs.push({ name, entry: name, seed: config.training.seed, overrides: entry, config });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...named(i, err));
    }
  });
  if (problems.length) throw new ConfigError(problems);
  return runs;
}

/** e.g. `router=top2,capacityFactor=2`; `base` when the entry changes nothing. */
function entryName(entry: GridEntry): string {
  const parts = Object.entries({ ...entry.model, ...entry.training }).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length ? parts.join(',').replace(/[^\w.=,-]/g, '_') : 'base';
}
