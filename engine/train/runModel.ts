// A trained run's model, ready for inference: its config, tokenizer and latest checkpoint's weights.
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { Tokenizer } from '../data/tokenizer';
import { openSafetensorsFile } from '../formats/hf/safetensors';
import { HfTokenizer } from '../formats/hf/tokenizer';
import { SwitchTransformer } from '../model/model';
import { checkpointDir, listCheckpoints, loadCheckpoint, type Checkpoint, type NamedTensor } from './checkpoint';
import { parseRunConfig, type RunConfig } from './runConfig';
import type { RunDir } from './runStore';

export interface RunModel {
  config: RunConfig;
  /** An imported model keeps its own tokenizer, run by HF's library. */
  tokenizer: Tokenizer | HfTokenizer;
  model: SwitchTransformer;
  /** The checkpoint's step; 0 for a run with none (its initial weights). */
  step: number;
  checkpoint: Checkpoint | null;
}

export function loadRunModel(run: RunDir): RunModel {
  const config = parseRunConfig(run.readJson('config.json'));
  const tokenizerJson = run.readJson('tokenizer.json');
  const tokenizer = config.imported ? HfTokenizer.fromJSON(tokenizerJson) : Tokenizer.fromJSON(tokenizerJson);
  const steps = config.imported ? [] : listCheckpoints(run.checkpoints);
  const checkpoint = steps.length ? loadCheckpoint(checkpointDir(run.checkpoints, steps[steps.length - 1])) : null;
  const model = new SwitchTransformer(config.model, config.training.seed);
  try {
    if (config.imported) restoreImported(model, run);
    else if (checkpoint) restoreWeights(model, checkpoint.weights);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { config, tokenizer, model, step: checkpoint?.step ?? 0, checkpoint };
}

/** Checks every weight against the model before assigning any, so a mismatch loads nothing. */
export function restoreWeights(model: SwitchTransformer, weights: Map<string, NamedTensor>): void {
  assignWeights(model, weights, (name) => (weights.get(name) as NamedTensor).values);
}

/**
 * An imported model's weights, in the engine's names and shapes, are one safetensors file: unlike a
 * checkpoint's weights.bin it may pass 2 GiB (switch-base-8 is 2.5 GB), and is read a tensor at a time.
 */
export const IMPORTED_WEIGHTS = 'weights.safetensors';

function restoreImported(model: SwitchTransformer, run: RunDir): void {
  const file = openSafetensorsFile(join(run.path, IMPORTED_WEIGHTS));
  try {
    assignWeights(model, file.tensors, (name) => file.readSync(name));
  } finally {
    file.close();
  }
}

function assignWeights(model: SwitchTransformer, shapes: Map<string, { shape: number[] }>, read: (name: string) => Float32Array): void {
  for (const [name, v] of model.params.vars) {
    const w = shapes.get(name);
    if (!w) throw new Error(`the checkpoint has no weight ${name}`);
    if (w.shape.join() !== v.shape.join()) throw new Error(`the checkpoint's ${name} has shape [${w.shape}], the model's is [${v.shape}]`);
  }
  for (const [name, v] of model.params.vars) tf.tidy(() => v.assign(tf.tensor(read(name), v.shape)));
}
