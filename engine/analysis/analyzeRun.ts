// A run's routing explained, on its fixed validation batches in eval mode at one of its checkpoints:
// per sparse layer the specialisation, overflow by position and the capacity what-if; the validation
// cross-entropy re-measured at other eval capacity factors; and the routing change between the kept
// checkpoints. What `switchyard analyze` prints and the engine's `analyzeRun` answers.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/batches';
import { Tokenizer } from '../data/tokenizer';
import { ForwardContext } from '../model/context';
import { SwitchTransformer } from '../model/model';
import { checkpointDir, listCheckpoints, loadCheckpointWeights, type NamedTensor } from '../train/checkpoint';
import { loadDataset, validationBatches } from '../train/dataset';
import { parseRunConfig, type RunConfig } from '../train/runConfig';
import { restoreWeights } from '../train/runModel';
import type { RunDir } from '../train/runStore';
import type { Analysis } from './analysisSchema';
import { capacityLoad } from './capacityLoad';
import { capacityWhatIf, WHAT_IF_FACTORS } from './capacityWhatIf';
import { collectRouting } from './collect';
import { dropByPosition } from './dropPosition';
import { contingency, type RoutedTokens } from './routedTokens';
import { routerInputSpread } from './routerInput';
import { normalisedMutualInformation, specialisation } from './specialisation';
import { routingChange } from './stability';

/** Eval capacity factors at which the validation cross-entropy is measured again. */
const LOSS_FACTORS = [0.5, 1, 2];


/** Analyzes a run at `step` (its newest checkpoint when not given). */
export async function analyzeRun(run: RunDir, step?: number): Promise<Analysis> {
  const steps = listCheckpoints(run.checkpoints);
  if (!steps.length) throw new Error(`run ${run.id} has no checkpoint to analyze`);
  const at = step ?? steps[steps.length - 1];
  if (!steps.includes(at)) throw new Error(`run ${run.id} has no checkpoint at step ${at}: it keeps steps ${steps.join(', ')}`);
  const config = parseRunConfig(run.readJson('config.json'));
  const tokenizer = Tokenizer.fromJSON(run.readJson('tokenizer.json'));
  const dataset = await loadDataset(config.corpus, config.training.vocabSize, tokenizer);
  const batches = validationBatches(dataset, config.training);
  return analyzeCheckpoints(run.id, config, tokenizer, batches, dataset.tags, steps, at, (s) => loadCheckpointWeights(checkpointDir(run.checkpoints, s)).weights);
}

export function analyzeCheckpoints(
  runId: string,
  config: RunConfig,
  tokenizer: Tokenizer,
  batches: readonly Batch[],
  tags: readonly string[],
  steps: readonly number[],
  step: number,
  weightsAt: (step: number) => Map<string, NamedTensor>,
): Analysis {
  const model = new SwitchTransformer(config.model, config.training.seed);
  try {
    const routedAt = (s: number): RoutedTokens[] => {
      restoreWeights(model, weightsAt(s));
      return collectRouting(model, tokenizer, batches, tags);
    };
    const stability: Analysis['stability'] = [];
    const nmiOverTraining: Analysis['nmiOverTraining'] = [];
    let previous: RoutedTokens[] | null = null;
    let chosen: RoutedTokens[] = [];
    for (const s of steps) {
      const routed = routedAt(s);
      if (previous) stability.push({ from: steps[steps.indexOf(s) - 1], to: s, changed: Object.fromEntries(routed.map((r, i) => [r.layer, routingChange((previous as RoutedTokens[])[i].expert, r.expert)])) });
      nmiOverTraining.push({ step: s, nmi: Object.fromEntries(routed.map((r) => [r.layer, normalisedMutualInformation(contingency(r.expert, r.label, r.numExperts, r.labels.length))])) });
      if (s === step) chosen = routed;
      previous = routed;
    }
    // The run's own eval factor among them: there the replay must drop what the router dropped.
    const whatIfFactors = [...new Set([...WHAT_IF_FACTORS, config.model.evalCapacityFactor])].sort((a, b) => a - b);
    const weights = weightsAt(step);
    const layers = chosen.map((r) => ({
      layer: r.layer,
      tokens: r.expert.length,
      droppedShare: r.dropped.reduce((s, d) => s + d, 0) / Math.max(1, r.expert.length),
      specialisation: { ...specialisation(r), labels: [...r.labels] },
      load: capacityLoad(r),
      dropPosition: dropByPosition(r),
      whatIf: capacityWhatIf(r, { factors: whatIfFactors, ntlbMaxTries: config.model.ntlbMaxTries }),
      ...(r.routerInput ? { routerInput: routerInputSpread(r.routerInput) } : {}),
    }));
    const named = new Set(layers.flatMap((l) => l.specialisation.experts.flatMap((e) => [...e.topByCount, ...e.topByLift].map((t) => t.tokenId))));
    return {
      run: runId,
      step,
      router: config.model.router,
      evalCapacityFactor: config.model.evalCapacityFactor,
      validationBatches: batches.length,
      layers,
      lossAtFactor: LOSS_FACTORS.map((capacityFactor) => ({ capacityFactor, crossEntropy: crossEntropyAt(config, weights, batches, capacityFactor) })),
      nmiOverTraining,
      stability,
      tokenTexts: Object.fromEntries([...named].map((id) => [id, tokenizer.decode([id])])),
    };
  } finally {
    model.dispose();
  }
}

/** Mean validation cross-entropy of the weights with another eval capacity factor. */
function crossEntropyAt(config: RunConfig, weights: Map<string, NamedTensor>, batches: readonly Batch[], evalCapacityFactor: number): number {
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

