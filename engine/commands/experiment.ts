// `switchyard experiment`: a grid of runs, one after the other (or `--parallel N` side by side), and
// their results table. Ctrl-C stops the runs training with a checkpoint; `--resume ID` carries on
// where it stopped, as many at a time as before unless `--parallel` says otherwise. `--seeds N` runs
// each entry with N seeds, for results that a seed's luck does not decide.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../backend';
import { Experiment } from '../experiments/experiment';
import { budgetSteps, type Budget } from '../experiments/experimentSchema';
import { BUILT_IN_GRIDS, MAX_SEEDS } from '../experiments/grid';
import { storedCorpus } from '../train/trainer';
import { resolveRunConfig } from '../train/runConfig';
import { backendOption, positiveIntOption, UsageError } from './args';
import { Progress, validationLine } from './progress';
import { corpusOption, readJsonFile } from './train';

export const EXPERIMENT_USAGE = `experiment NAME|FILE [--steps N | --minutes M] [--preset P] [--config file.json] [--corpus brown|PATH|GLOB]
        [--seeds N] [--backend ...] [--runs DIR] [--parallel N]      NAME: ${Object.keys(BUILT_IN_GRIDS).join(', ')}; FILE: a JSON list of config overrides
        --seeds N: each entry N times, with the base config's seed and the N - 1 after it; results give mean and range per entry
  experiment --resume ID|PATH [--steps N] [--backend ...] [--runs DIR] [--parallel N]      --parallel N: N runs side by side, one wasm thread each
        --resume ID --steps N: trains every run on to N steps, the finished ones from their last checkpoint`;

export async function experiment(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      steps: { type: 'string' },
      minutes: { type: 'string' },
      preset: { type: 'string' },
      config: { type: 'string' },
      corpus: { type: 'string' },
      backend: { type: 'string' },
      runs: { type: 'string', default: 'runs' },
      resume: { type: 'string' },
      parallel: { type: 'string' },
      seeds: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const backendChoice = backendOption(values.backend);
  const given = positiveIntOption('parallel', values.parallel);
  const runsDir = resolve(values.runs);
  // Before the experiment's folder is written: a refused option leaves nothing behind.
  const backend = await initBackend(backendChoice);
  const refuseParallel = (parallel: number, context: string) => {
    const refusal = Experiment.parallelRefusal(backend.name, parallel);
    if (refusal) throw new UsageError(`${context}${refusal}: give --parallel 1`);
  };
  refuseParallel(given ?? 1, '');
  let exp: Experiment;
  let longer = '';
  if (values.resume) {
    if (positionals.length || values.minutes || values.preset || values.config || values.corpus || values.seeds) {
      throw new UsageError('--resume carries on an experiment as it was defined: give only --resume, --steps (to train its runs longer), --runs, --backend and --parallel');
    }
    const steps = positiveIntOption('steps', values.steps);
    exp = Experiment.open(runsDir, values.resume);
    if (steps !== undefined) {
      const from = budgetSteps(exp.budget);
      if (exp.extendTo(steps)) longer = `runs trained on from ${from} to ${steps} steps`;
    }
    refuseParallel(given ?? exp.parallel, `experiment ${exp.id} ran ${exp.parallel} runs at a time: `);
  } else {
    if (positionals.length !== 1) throw new UsageError('experiment takes one grid: a built-in name or a grid file');
    const [name] = positionals;
    const grid = name in BUILT_IN_GRIDS ? BUILT_IN_GRIDS[name].entries : gridFile(name);
    const base = readJsonFile(values.config);
    const corpus = corpusOption(values.corpus);
    exp = Experiment.create(runsDir, {
      name,
      grid,
      preset: values.preset,
      base,
      // Absolute, so that --resume from another folder reads the same files.
      corpus: corpus && storedCorpus(corpus),
      budget: budgetOption(values.steps, values.minutes, () => resolveRunConfig({ preset: values.preset, overrides: base }).training.steps),
      seeds: seedsOption(values.seeds),
    });
  }

  const parallel = given ?? exp.parallel;
  const out = new Progress(0);
  const seeds = exp.summary().seeds;
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  out.line(`experiment ${exp.id}: ${count(exp.runs.length, 'run', 'runs')}${seeds ? ` (${count(exp.entryCount, 'entry', 'entries')} × ${seeds} seeds)` : ''}${parallel > 1 ? `, ${parallel} at a time` : ''}${longer ? `, ${longer}` : ''}; results in ${exp.dir.path}`);
  exp.on('run', ({ index, name, runId, fromStep, steps, events }) => {
    out.line(`run ${index + 1}/${exp.runs.length} ${name}: ${runId} from step ${fromStep}`);
    // Runs side by side print plain lines with their names; one run at a time has a progress line.
    // A time-budgeted run has no step count to show progress against: its validations say enough.
    const progress = parallel > 1 ? null : new Progress(steps);
    const prefix = progress ? '' : `${name}: `;
    if (progress && 'steps' in exp.budget) events.on('metrics', (m) => progress.step(m));
    events.on('validation', (v) => (progress ? progress.validation(v) : out.line(prefix + validationLine(v))));
    events.on('log', (line) => out.line(prefix + line));
    events.on('state', (st) => {
      if (st.state === 'paused' && st.message) out.line(`${prefix}diverged: ${st.message}; the next run starts`);
    });
  });
  const stop = () => {
    out.line('stopping after this step, with a checkpoint…');
    exp.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const state = await exp.run(backend.name, parallel);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  out.line(state === 'completed' ? `completed; results in ${exp.dir.path}/results.md` : `${state}; continue with --resume ${exp.id}`);
}

function gridFile(path: string): unknown {
  if (!existsSync(path)) throw new UsageError(`'${path}' is neither a built-in grid (${Object.keys(BUILT_IN_GRIDS).join(', ')}) nor a grid file`);
  return readJsonFile(path, 'grid file');
}

function seedsOption(seeds: string | undefined): number | undefined {
  const n = positiveIntOption('seeds', seeds);
  if (n !== undefined && n > MAX_SEEDS) throw new UsageError(`--seeds is at most ${MAX_SEEDS}, not ${n}`);
  return n;
}

/** --steps N or --minutes M per run; neither: the steps of the base config (the preset's, or the config file's). */
function budgetOption(steps: string | undefined, minutes: string | undefined, baseSteps: () => number): Budget {
  if (steps !== undefined && minutes !== undefined) throw new UsageError('give --steps or --minutes, not both');
  if (minutes !== undefined) {
    const m = Number(minutes);
    if (!Number.isFinite(m) || m <= 0) throw new UsageError(`--minutes must be a positive number, not '${minutes}'`);
    return { minutes: m };
  }
  return { steps: positiveIntOption('steps', steps) ?? baseSteps() };
}
