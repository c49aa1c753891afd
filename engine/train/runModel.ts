// A trained run's model, ready for inference: its config, tokenizer and latest checkpoint's weights.
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { Tokenizer } from '../data/tokenizer';
import { hfParams } from '../formats/hf/names';
import { openSafetensorsFile } from '../formats/hf/safetensors';
import { HfTokenizer } from '../formats/hf/tokenizer';
import { SwitchTransformer } from '../model/model';
import { checkpointDir, listCheckpoints, loadCheckpointWeights, type CheckpointWeights, type NamedTensor } from './checkpoint';
import { parseRunConfig, type RunConfig } from './runConfig';
import type { RunDir } from './runStore';

export interface RunModel<C extends CheckpointWeights = CheckpointWeights> {
  config: RunConfig;
  /** An imported model keeps its own tokenizer, run by HF's library. */
  tokenizer: Tokenizer | HfTokenizer;
  model: SwitchTransformer;
  /** The checkpoint's step; 0 for a run with none (its initial weights). */
  step: number;
  checkpoint: C | null;
}

/**
 * The run's model at its newest checkpoint, read by `load`: its weights alone by default (inference,
 * a run started from another); `loadCheckpoint` to train on, with the optimizer's state.
 */
export function loadRunModel<C extends CheckpointWeights = CheckpointWeights>(run: RunDir, load: (dir: string) => C = loadCheckpointWeights as (dir: string) => C): RunModel<C> {
  const config = parseRunConfig(run.readJson('config.json'));
  const tokenizerJson = run.readJson('tokenizer.json');
  const tokenizer = config.imported ? HfTokenizer.fromJSON(tokenizerJson) : Tokenizer.fromJSON(tokenizerJson);
  const steps = config.imported ? [] : listCheckpoints(run.checkpoints);
  const checkpoint = steps.length ? load(checkpointDir(run.checkpoints, steps[steps.length - 1])) : null;
  const model = config.imported ? importedModel(run, config) : checkpoint ? modelFromWeights(config, checkpoint.weights) : new SwitchTransformer(config.model, config.training.seed);
  return { config, tokenizer, model, step: checkpoint?.step ?? 0, checkpoint };
}

/**
 * Built from the checkpoint's weights (drawing initial ones first would cost a cold start ~0.3 s on
 * tiny). A weight missing or of another shape is made of zeros and noted; then the model is disposed
 * and the first of them thrown, so a mismatch loads nothing.
 */
function modelFromWeights(config: RunConfig, weights: Map<string, NamedTensor>): SwitchTransformer {
  const problems: string[] = [];
  const read = (name: string, shape: number[]) => {
    const problem = weightProblem(weights, name, shape);
    if (!problem) return tf.tensor((weights.get(name) as NamedTensor).values, shape);
    problems.push(problem);
    return tf.zeros(shape);
  };
  const model = new SwitchTransformer(config.model, config.training.seed, read);
  if (problems.length) {
    model.dispose();
    throw new Error(problems[0]);
  }
  return model;
}

/** Why the checkpoint's weight `name` cannot be the model's of this shape; null when it can. */
function weightProblem(weights: Map<string, NamedTensor>, name: string, shape: number[]): string | null {
  const w = weights.get(name);
  if (!w) return `the checkpoint has no weight ${name}`;
  if (w.shape.join() !== shape.join()) return `the checkpoint's ${name} has shape [${w.shape}], the model's is [${shape}]`;
  return null;
}

/** Checks every weight against the model before assigning any, so a mismatch loads nothing. */
export function restoreWeights(model: SwitchTransformer, weights: Map<string, NamedTensor>): void {
  for (const [name, v] of model.params.vars) {
    const problem = weightProblem(weights, name, v.shape);
    if (problem) throw new Error(problem);
  }
  for (const [name, v] of model.params.vars) {
    const w = weights.get(name) as NamedTensor;
    tf.tidy(() => v.assign(tf.tensor(w.values, w.shape)));
  }
}

/**
 * An imported model's weights, in the engine's names and shapes, are one safetensors file: unlike a
 * checkpoint's weights.bin it may pass 2 GiB (switch-base-8 is 2.5 GB), and is read a tensor at a time.
 */
export const IMPORTED_WEIGHTS = 'weights.safetensors';

/**
 * Built from its weights directly: initializing 620 M parameters first would take minutes. The
 * decoder is read on its first use (routing needs only the encoder and the shared embedding).
 */
function importedModel(run: RunDir, config: RunConfig): SwitchTransformer {
  const open = () => {
    const file = openSafetensorsFile(join(run.path, IMPORTED_WEIGHTS));
    return { file, read: (name: string, shape: number[]) => tf.tensor(file.readSync(name), shape), close: () => file.close() };
  };
  const { file, read, close } = open();
  try {
    // Every weight checked before any is made, so that a mismatch loads nothing.
    const want = new Map(hfParams(config.model, false).map((p) => [p.engineName, p.transposed ? [p.hfShape[1], p.hfShape[0]] : p.hfShape]));
    for (const [name, shape] of want) {
      const have = file.tensors.get(name)?.shape;
      if (have?.join() !== shape.join()) throw new Error(`${IMPORTED_WEIGHTS} ${have ? `has ${name} of shape [${have}], the model's is [${shape}]` : `has no weight ${name}`}`);
    }
    return new SwitchTransformer(config.model, config.training.seed, read, open);
  } finally {
    close();
  }
}
