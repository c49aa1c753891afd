// `switchyard finetune` and `switchyard distill`: new runs that start from a trained run, with its
// tokenizer and its newest checkpoint's weights (all of them, or the teacher's non-expert ones).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../backend';
import { gainKept } from '../train/distill';
import { parseRunConfig, type RunConfig } from '../train/runConfig';
import { findRun, readMetrics, type RunDir } from '../train/runStore';
import { createFromRun, distillConfig, FINETUNE_DROPOUT, finetuneConfig, type StartKind } from '../train/startFrom';
import { backendOption, positiveIntOption, requiredOption, UsageError } from './args';
import { corpusOption, trainWithProgress } from './train';

export const FINETUNE_USAGE = `finetune --from RUN|PATH --corpus brown|PATH|GLOB [--expert-dropout 0.4] [--dropout 0.1] [--steps N]
        [--backend ...] [--runs DIR]`;
export const DISTILL_USAGE = `distill --teacher RUN|PATH [--baseline DENSE_RUN|PATH] [--steps N] [--backend ...] [--runs DIR]`;

const common = { steps: { type: 'string' }, backend: { type: 'string' }, runs: { type: 'string', default: 'runs' } } as const;

/** Continues a run on another corpus; the paper fine-tunes with dropout 0.4 inside experts, 0.1 elsewhere. */
export async function finetune(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { ...common, from: { type: 'string' }, corpus: { type: 'string' }, 'expert-dropout': { type: 'string' }, dropout: { type: 'string' } },
    strict: true,
  });
  const from = requiredOption('from', values.from);
  const corpus = corpusOption(requiredOption('corpus', values.corpus))!;
  const expertDropoutRate = rateOption('expert-dropout', values['expert-dropout'], FINETUNE_DROPOUT.expertDropoutRate);
  const dropoutRate = rateOption('dropout', values.dropout, FINETUNE_DROPOUT.dropoutRate);
  const steps = positiveIntOption('steps', values.steps);
  const source = findRun(values.runs, from);
  await startFrom(source, values, finetuneConfig(source, { corpus, expertDropoutRate, dropoutRate, steps }), 'finetune');
}

/** A dense student of a Switch teacher, trained on 0.25 × soft + 0.75 × hard cross-entropy. */
export async function distill(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { ...common, teacher: { type: 'string' }, baseline: { type: 'string' } }, strict: true });
  const ref = requiredOption('teacher', values.teacher);
  const steps = positiveIntOption('steps', values.steps);
  const teacher = findRun(values.runs, ref);
  if (parseRunConfig(teacher.readJson('config.json')).model.router === 'dense') throw new UsageError(`run ${teacher.id} is dense: distillation needs a Switch teacher`);
  const baseline = values.baseline === undefined ? null : findRun(values.runs, values.baseline);
  if (baseline && parseRunConfig(baseline.readJson('config.json')).model.router !== 'dense') throw new UsageError(`--baseline: run ${baseline.id} is not dense`);
  const student = await startFrom(teacher, values, distillConfig(teacher, steps), 'distill');
  if (!baseline) return;
  // The paper's measure: how much of the teacher's gain over a dense model the student keeps.
  const [b, t, st] = [baseline, teacher, student].map(lastValidationCrossEntropy);
  const figures = `last validation cross-entropy: baseline ${b.toFixed(3)}, teacher ${t.toFixed(3)}, student ${st.toFixed(3)}`;
  // The run is made either way: a teacher no better than the baseline is reported, not an error.
  const kept = b > t ? `the student keeps ${(100 * gainKept(b, t, st)).toFixed(1)}% of the teacher's gain over the dense baseline` : 'the teacher is no better than the baseline: no gain to keep';
  process.stderr.write(`${kept} (${figures})\n`);
}

function lastValidationCrossEntropy(run: RunDir): number {
  const last = readMetrics(run.metricsFile).records.filter((r) => r.type === 'validation').at(-1);
  if (!last) throw new Error(`run ${run.id} has no validation yet`);
  return last.crossEntropy;
}

/** Creates and trains the new run; returns its folder. */
async function startFrom(source: RunDir, values: { runs: string; backend?: string }, config: RunConfig, kind: StartKind): Promise<RunDir> {
  const backend = await initBackend(backendOption(values.backend));
  const { trainer, copied, step } = await createFromRun(resolve(values.runs), source, config, kind, backend.name);
  if (kind === 'distill') process.stderr.write(`student: ${copied.length} of ${trainer.model.params.vars.size} weights copied from the teacher (step ${step}); its FFNs where the teacher had experts start fresh\n`);
  await trainWithProgress(trainer, backend);
  return trainer.run;
}

function rateOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const r = Number(value);
  if (!(r >= 0 && r < 1)) throw new UsageError(`--${name} must be a rate in [0, 1), not '${value}'`);
  return r;
}
