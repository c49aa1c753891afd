// New runs that start from a trained run (fine-tuning, distillation), shared by the CLI and the
// engine server: the source's tokenizer and its newest checkpoint's weights (all of them, or the
// teacher's non-expert ones).
import type { BackendName } from '../backend';
import { Tokenizer } from '../data/tokenizer';
import { copyNonExpertWeights, studentConfig } from './distill';
import { parseRunConfig, type CorpusSpec, type RunConfig } from './runConfig';
import { loadRunModel, restoreWeights } from './runModel';
import type { RunDir } from './runStore';
import { Trainer } from './trainer';

export type StartKind = 'finetune' | 'distill';

/** The paper fine-tunes with dropout 0.4 inside experts and 0.1 elsewhere. */
export const FINETUNE_DROPOUT = { expertDropoutRate: 0.4, dropoutRate: 0.1 };

/** The source's config on a new corpus, with fine-tuning dropout. */
export function finetuneConfig(source: RunDir, opts: { corpus: CorpusSpec; expertDropoutRate: number; dropoutRate: number; steps?: number }): RunConfig {
  const base = parseRunConfig(source.readJson('config.json'));
  const dropout = { expertDropoutRate: opts.expertDropoutRate, dropoutRate: opts.dropoutRate };
  return parseRunConfig({ ...base, model: { ...base.model, ...dropout }, training: { ...base.training, steps: opts.steps ?? base.training.steps }, corpus: opts.corpus });
}

/** A dense student of the teacher's shape; throws for a dense teacher. */
export function distillConfig(teacher: RunDir, steps?: number): RunConfig {
  const base = parseRunConfig(teacher.readJson('config.json'));
  if (base.model.router === 'dense') throw new Error(`run ${teacher.id} is dense: distillation needs a Switch teacher`);
  return parseRunConfig({ ...base, model: studentConfig(base.model), training: { ...base.training, steps: steps ?? base.training.steps } });
}

/** Creates the new run (not yet trained). `copied`: the teacher's weights a student starts from. */
export async function createFromRun(runsDir: string, source: RunDir, config: RunConfig, kind: StartKind, backend: BackendName): Promise<{ trainer: Trainer; copied: string[]; step: number }> {
  const from = loadRunModel(source);
  if (!from.checkpoint) {
    from.model.dispose();
    throw new Error(`run ${source.id} has no checkpoint to start from`);
  }
  if (!(from.tokenizer instanceof Tokenizer)) {
    from.model.dispose();
    throw new Error(`run ${source.id} is an imported model: ${kind} starts from runs trained here`);
  }
  const weights = from.checkpoint.weights;
  let copied: string[] = [];
  const trainer = await Trainer.create(runsDir, config, backend, {
    tokenizer: from.tokenizer,
    initModel: (model) => {
      if (kind === 'finetune') restoreWeights(model, weights);
      else copied = copyNonExpertWeights(from.model, model);
    },
    origin: { kind, from: source.path, step: from.step },
    // The trainer owns and disposes its teacher.
    ...(kind === 'distill' ? { teacher: from.model } : {}),
  });
  if (kind === 'finetune') from.model.dispose();
  return { trainer, copied, step: from.step };
}
