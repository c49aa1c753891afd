// `switchyard analyze`: what a run's experts learned and what capacity would change, on its fixed
// validation batches in eval mode: specialisation per sparse layer, overflow by position, the
// capacity what-if, the validation cross-entropy re-measured at a few eval capacity factors, and
// how much routing changed between the kept checkpoints.
import * as tf from '@tensorflow/tfjs-core';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { capacityWhatIf, WHAT_IF_FACTORS, type WhatIfPoint } from '../analysis/capacityWhatIf';
import { collectRouting } from '../analysis/collect';
import { dropByPosition, type DropPositionPoint } from '../analysis/dropPosition';
import type { RoutedTokens } from '../analysis/routedTokens';
import { specialisation, type LayerSpecialisation } from '../analysis/specialisation';
import { routingChange } from '../analysis/stability';
import { UNIVERSAL_TAGS } from '../analysis/universalTags';
import { initBackend } from '../backend';
import type { Batch } from '../data/batches';
import { Tokenizer } from '../data/tokenizer';
import { ForwardContext } from '../model/context';
import { SwitchTransformer } from '../model/model';
import { checkpointDir, listCheckpoints, loadCheckpoint } from '../train/checkpoint';
import { loadDataset, validationBatches } from '../train/dataset';
import { parseRunConfig, type RunConfig } from '../train/runConfig';
import { restoreWeights } from '../train/runModel';
import { findRun } from '../train/runStore';
import { backendOption, requiredOption, UsageError } from './args';

export const ANALYZE_USAGE = `analyze --run RUN|PATH [--checkpoint STEP] [--json] [--runs DIR] [--backend ...]`;

/** Eval capacity factors at which the validation cross-entropy is measured again. */
const LOSS_FACTORS = [0.5, 1, 2];

export interface Analysis {
  run: string;
  step: number;
  validationBatches: number;
  layers: {
    layer: string;
    tokens: number;
    /** Dropped share at the run's own eval capacity factor, as the router dropped them. */
    droppedShare: number;
    specialisation: LayerSpecialisation;
    dropPosition: DropPositionPoint[];
    whatIf: WhatIfPoint[];
  }[];
  /** Validation cross-entropy at other eval capacity factors (a real forward pass each). */
  lossAtFactor: { capacityFactor: number; crossEntropy: number }[];
  /** Between consecutive kept checkpoints: per layer, the share of tokens whose expert changed. */
  stability: { from: number; to: number; changed: Record<string, number> }[];
}

export async function analyze(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { run: { type: 'string' }, checkpoint: { type: 'string' }, json: { type: 'boolean', default: false }, runs: { type: 'string', default: 'runs' }, backend: { type: 'string' } },
    strict: true,
  });
  const run = findRun(resolve(values.runs), requiredOption('run', values.run));
  const steps = listCheckpoints(run.checkpoints);
  if (!steps.length) throw new Error(`run ${run.id} has no checkpoint to analyze`);
  const step = values.checkpoint === undefined ? steps[steps.length - 1] : Number(values.checkpoint);
  if (!steps.includes(step)) throw new UsageError(`--checkpoint ${values.checkpoint}: run ${run.id} keeps checkpoints at steps ${steps.join(', ')}`);
  await initBackend(backendOption(values.backend));
  const config = parseRunConfig(run.readJson('config.json'));
  const tokenizer = Tokenizer.fromJSON(run.readJson('tokenizer.json'));
  const dataset = await loadDataset(config.corpus, config.training.vocabSize, tokenizer);
  const batches = validationBatches(dataset, config.training);
  const result = analyzeCheckpoints(run.id, config, tokenizer, batches, dataset.tags, steps, step, (s) => loadCheckpoint(checkpointDir(run.checkpoints, s)).weights);
  console.log(values.json ? JSON.stringify(result) : formatAnalysis(result, tokenizer));
}

export function analyzeCheckpoints(
  runId: string,
  config: RunConfig,
  tokenizer: Tokenizer,
  batches: readonly Batch[],
  tags: readonly string[],
  steps: readonly number[],
  step: number,
  weightsAt: (step: number) => Parameters<typeof restoreWeights>[1],
): Analysis {
  const model = new SwitchTransformer(config.model, config.training.seed);
  try {
    const routedAt = (s: number): RoutedTokens[] => {
      restoreWeights(model, weightsAt(s));
      return collectRouting(model, tokenizer, batches, tags);
    };
    const stability: Analysis['stability'] = [];
    let previous: RoutedTokens[] | null = null;
    let chosen: RoutedTokens[] = [];
    for (const s of steps) {
      const routed = routedAt(s);
      if (previous) stability.push({ from: steps[steps.indexOf(s) - 1], to: s, changed: Object.fromEntries(routed.map((r, i) => [r.layer, routingChange((previous as RoutedTokens[])[i], r)])) });
      if (s === step) chosen = routed;
      previous = routed;
    }
    const weights = weightsAt(step);
    // The run's own eval factor among them: there the replay must drop what the router dropped.
    const whatIfFactors = [...new Set([...WHAT_IF_FACTORS, config.model.evalCapacityFactor])].sort((a, b) => a - b);
    return {
      run: runId,
      step,
      validationBatches: batches.length,
      layers: chosen.map((r) => ({
        layer: r.layer,
        tokens: r.expert.length,
        droppedShare: r.dropped.reduce((s, d) => s + d, 0) / Math.max(1, r.expert.length),
        specialisation: specialisation(r),
        dropPosition: dropByPosition(r),
        whatIf: capacityWhatIf(r, whatIfFactors),
      })),
      lossAtFactor: LOSS_FACTORS.map((capacityFactor) => ({ capacityFactor, crossEntropy: crossEntropyAt(config, weights, batches, capacityFactor) })),
      stability,
    };
  } finally {
    model.dispose();
  }
}

/** Mean validation cross-entropy of the weights with another eval capacity factor. */
function crossEntropyAt(config: RunConfig, weights: Parameters<typeof restoreWeights>[1], batches: readonly Batch[], evalCapacityFactor: number): number {
  const model = new SwitchTransformer({ ...config.model, evalCapacityFactor }, config.training.seed);
  try {
    restoreWeights(model, weights);
    let sum = 0;
    for (const b of batches) sum += tf.tidy(() => model.loss(b, new ForwardContext(false)).crossEntropy.dataSync()[0]);
    return sum / Math.max(1, batches.length);
  } finally {
    model.dispose();
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function formatAnalysis(a: Analysis, tokenizer: Tokenizer): string {
  const text = (id: number) => JSON.stringify(tokenizer.decode([id]));
  const out = [`run ${a.run} at checkpoint step ${a.step}, ${a.validationBatches} validation batches (eval mode)`];
  for (const l of a.layers) {
    const s = l.specialisation;
    out.push('', `## ${l.layer}: ${l.tokens} tokens, ${pct(l.droppedShare)} dropped; NMI(expert; ${s.labels === UNIVERSAL_TAGS ? 'part-of-speech tag' : 'token class'}) = ${s.nmi.toFixed(3)}`);
    out.push('expert  tokens  dominant          top by count                         top by lift');
    for (const e of s.experts) {
      const dominant = e.dominantLabel ? `${e.dominantLabel} ${pct(Math.max(...e.labelShares))}` : '–';
      const byCount = e.topByCount.map((t) => `${text(t.tokenId)}×${t.count}`).join(' ');
      const byLift = e.topByLift.map((t) => `${text(t.tokenId)} ${t.lift.toFixed(1)}`).join(' ');
      out.push(`${String(e.expert).padStart(6)}  ${String(e.tokens).padStart(6)}  ${dominant.padEnd(16)}  ${byCount.padEnd(35)}  ${byLift}`);
    }
    out.push(`overflow by position: ${l.dropPosition.map((p) => `${p.from}+ ${pct(p.rate)}`).join(', ')}`);
    out.push(`capacity what-if (dropped): ${l.whatIf.map((p) => `×${p.capacityFactor} ${pct(p.droppedShare)}`).join(', ')}`);
  }
  out.push('', `validation cross-entropy at eval capacity factor: ${a.lossAtFactor.map((p) => `×${p.capacityFactor} ${p.crossEntropy.toFixed(3)}`).join(', ')}`);
  if (a.stability.length) {
    out.push('', 'routing change between kept checkpoints (share of validation tokens whose expert changed):');
    for (const s of a.stability) out.push(`  ${s.from} → ${s.to}: ${Object.entries(s.changed).map(([layer, c]) => `${layer} ${pct(c)}`).join(', ')}`);
  } else {
    out.push('', 'routing change: one checkpoint only');
  }
  return out.join('\n');
}
