// `switchyard train`: a new run (or --resume an old one) with a progress bar; Ctrl-C stops it with a
// final checkpoint. Everything is checked before the run folder is created, so an error writes nothing.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { backendLabel, initBackend, type BackendInfo } from '../backend';
import { PRESET_NAMES } from '../model/config';
import { resolveRunConfig, type CorpusSpec } from '../train/runConfig';
import { findRun } from '../train/runStore';
import { Trainer } from '../train/trainer';
import { backendOption, positiveIntOption, UsageError } from './args';
import { Progress } from './progress';

export const TRAIN_USAGE = `train [--preset ${PRESET_NAMES.join('|')}] [--config file.json] [--corpus brown|PATH|GLOB] [--steps N]
        [--backend auto|tensorflow|wasm|cpu] [--runs DIR] [--resume RUN|PATH]`;

export async function train(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' },
      config: { type: 'string' },
      corpus: { type: 'string' },
      steps: { type: 'string' },
      backend: { type: 'string' },
      runs: { type: 'string', default: 'runs' },
      resume: { type: 'string' },
    },
    strict: true,
  });
  const steps = positiveIntOption('steps', values.steps);
  const backendChoice = backendOption(values.backend);
  const runsDir = resolve(values.runs);
  if (values.resume && (values.preset || values.config || values.corpus)) {
    throw new UsageError('--resume continues a run with its own config: drop --preset, --config and --corpus');
  }
  const config = values.resume ? null : resolveRunConfig({ preset: values.preset, overrides: readJsonFile(values.config), corpus: corpusOption(values.corpus), steps });
  const resumed = values.resume ? findRun(runsDir, values.resume) : null;

  const backend = await initBackend(backendChoice);
  const trainer = resumed ? await Trainer.open(resumed.runsDir, resumed.id, backend.name, steps) : await Trainer.create(runsDir, config!, backend.name);
  await trainWithProgress(trainer, backend);
}

/** Trains a run to its end with a progress bar; Ctrl-C stops it with a checkpoint. */
export async function trainWithProgress(trainer: Trainer, backend: BackendInfo): Promise<void> {
  const progress = new Progress(trainer.config.training.steps);
  progress.line(`run ${trainer.run.id} in ${trainer.run.path}`);
  progress.line(`backend ${backendLabel(backend)}${backend.fallbacks.length ? ` (${backend.fallbacks.join('; ')})` : ''}; ${trainer.model.params.count().toLocaleString('en')} parameters; from step ${trainer.step}${trainer.dataParallel > 1 ? `; data-parallel over ${trainer.dataParallel} worker threads (1 wasm thread each)` : ''}`);
  trainer.on('metrics', (m) => progress.step(m));
  trainer.on('validation', (v) => progress.validation(v));
  trainer.on('log', (line) => progress.line(line));
  trainer.on('state', (s) => {
    if (s.state === 'paused' && s.message) {
      progress.line(`paused: ${s.message}. Stopping with a checkpoint; continue with --resume ${trainer.run.id}`);
      trainer.stop();
    }
  });
  const stop = () => {
    progress.line('stopping after this step, with a checkpoint…');
    trainer.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const final = await trainer.train();
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  progress.line(`${final} at step ${trainer.step}; checkpoint in ${trainer.run.checkpoints}`);
  trainer.dispose();
}

/** A JSON file named on the command line (`what`: how the error names it). */
export function readJsonFile(path: string | undefined, what = 'config file'): unknown {
  if (!path) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function corpusOption(value: string | undefined): CorpusSpec | undefined {
  if (value === undefined) return undefined;
  return value === 'brown' ? { kind: 'brown' } : { kind: 'files', spec: value };
}
