// An HF model folder (config.json, tokenizer.json, safetensors or pytorch_model.bin) becomes an
// inference-only run: the engine's config, HF's config and tokenizer as they were, and the weights
// in the engine's names and shapes (weights.safetensors), so that everything that runs inference on
// a run works on it.
// Everything is read and checked before the run folder is made; a failure after removes it.
import { readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseRunConfig, TRAINING_PRESETS } from '../../train/runConfig';
import { IMPORTED_WEIGHTS } from '../../train/runModel';
import { createRun, type RunDir } from '../../train/runStore';
import { fromHfConfig } from './config';
import { writeSafetensors } from './safetensors';
import { hfParams } from './names';
import { CheckpointFormatError, nextTurn, type ProgressFn } from './tensors';
import { HfTokenizer } from './tokenizer';
import { checkLayout, openHfCheckpoint, readEngineWeights } from './weights';

export interface ImportedRun {
  run: RunDir;
  /** The checkpoint file that was read. */
  file: string;
  parameters: number;
}

export async function importHfModel(dir: string, runsDir: string, name?: string, onProgress: ProgressFn = () => {}): Promise<ImportedRun> {
  const source = resolve(dir);
  const readJson = (file: string): unknown => {
    try {
      return JSON.parse(readFileSync(join(source, file), 'utf8'));
    } catch (err) {
      throw new CheckpointFormatError(join(source, file), `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const hfConfig = readJson('config.json');
  const { model, tieWordEmbeddings } = fromHfConfig(hfConfig);
  const tokenizerJson = readJson('tokenizer.json');
  const tokenizer = HfTokenizer.fromJSON(tokenizerJson);
  if (tokenizer.vocabSize > model.vocabSize) {
    throw new CheckpointFormatError('tokenizer.json', `has ${tokenizer.vocabSize} tokens, more than the model's vocab_size ${model.vocabSize}`);
  }
  const { file, source: tensors } = await openHfCheckpoint(source);
  try {
    checkLayout(file, tensors, model, tieWordEmbeddings);
    const weights = await readEngineWeights(tensors, model, tieWordEmbeddings, onProgress, 1);
    const steps = hfParams(model, tieWordEmbeddings).length;
    const config = parseRunConfig({
      preset: 'base',
      model,
      training: TRAINING_PRESETS.base,
      corpus: { kind: 'brown' },
      imported: { format: 'huggingface', source, file, at: new Date().toISOString() },
    });
    const run = createRun(runsDir, (name ?? basename(source)).replace(/[^\w.-]+/g, '-'));
    try {
      onProgress(steps, steps + 1, `writing ${IMPORTED_WEIGHTS}`);
      await nextTurn();
      writeSafetensors(join(run.path, IMPORTED_WEIGHTS), weights);
      run.writeJson('tokenizer.json', tokenizerJson);
      run.writeJson('hf_config.json', hfConfig);
      const at = new Date().toISOString();
      run.writeJson('status.json', { id: run.id, state: 'completed', step: 0, steps: 0, message: `imported from ${source}`, backend: 'none', updatedAt: at });
      run.writeJson('config.json', config); // last: a folder without it is not a run
    } catch (err) {
      rmSync(run.path, { recursive: true, force: true });
      throw err;
    }
    let parameters = 0;
    for (const w of weights.values()) parameters += w.values.length;
    return { run, file, parameters };
  } finally {
    tensors.close();
  }
}
