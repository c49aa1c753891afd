// A run as an HF model folder that SwitchTransformersForConditionalGeneration.from_pretrained loads:
// config.json (HF's names; Switchyard's own fields kept as switchyard_*), model.safetensors (HF's
// names, torch's [out, in] shapes, an untied lm_head), the run's tokenizer.json and a README stub.
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHfConfig } from '../../model/config';
import { expertCapacity } from '../../model/routingPlan';
import { checkpointDir, listCheckpoints, loadCheckpointWeights } from '../../train/checkpoint';
import { parseRunConfig } from '../../train/runConfig';
import { IMPORTED_WEIGHTS } from '../../train/runModel';
import type { RunDir } from '../../train/runStore';
import { hfParams } from './names';
import { openSafetensorsFile, SAFETENSORS_FILE, writeSafetensors } from './safetensors';
import { nextTurn, type ProgressFn } from './tensors';
import { transpose } from './weights';

export async function exportHfModel(run: RunDir, out: string, onProgress: ProgressFn = () => {}): Promise<{ step: number; parameters: number }> {
  if (existsSync(out) && readdirSync(out).length) throw new Error(`${out} is not empty`);
  const config = parseRunConfig(run.readJson('config.json'));
  const { step, weightOf, close } = runWeights(run, config.imported !== undefined);
  const c = config.model;
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  let parameters = 0;
  try {
    const params = hfParams(c, false);
    for (const [i, p] of params.entries()) {
      onProgress(i, params.length + 1, `converting ${p.engineName}`);
      await nextTurn();
      const values = weightOf(p.engineName);
      if (!values) throw new Error(`run ${run.id}'s weights have no ${p.engineName}`);
      tensors.set(p.hfName, { shape: p.hfShape, values: p.transposed ? transpose(values, p.hfShape[1], p.hfShape[0]) : values });
      parameters += values.length;
    }
  } finally {
    close();
  }
  onProgress(tensors.size, tensors.size + 1, `writing ${SAFETENSORS_FILE}`);
  await nextTurn();
  mkdirSync(out, { recursive: true });
  writeSafetensors(join(out, SAFETENSORS_FILE), tensors);
  // HF's capacity is a fixed number of slots per sequence: the run's eval capacity at its input length.
  const capacity = c.expertCapacity ?? expertCapacity(config.training.inputLength, c.numExperts, c.evalCapacityFactor);
  const hfConfig = { ...toHfConfig(c), expert_capacity: capacity, tie_word_embeddings: false };
  writeFileSync(join(out, 'config.json'), JSON.stringify(hfConfig, null, 2) + '\n');
  copyFileSync(join(run.path, 'tokenizer.json'), join(out, 'tokenizer.json'));
  writeFileSync(join(out, 'README.md'), readme(run.id, step, capacity));
  return { step, parameters };
}

/** A trained run's newest checkpoint, or an imported run's weights.safetensors. */
function runWeights(run: RunDir, imported: boolean): { step: number; weightOf: (name: string) => Float32Array | undefined; close: () => void } {
  if (imported) {
    const file = openSafetensorsFile(join(run.path, IMPORTED_WEIGHTS));
    return { step: 0, weightOf: (name) => (file.tensors.has(name) ? file.readSync(name) : undefined), close: () => file.close() };
  }
  const steps = listCheckpoints(run.checkpoints);
  if (!steps.length) throw new Error(`run ${run.id} has no checkpoint to export`);
  const { weights } = loadCheckpointWeights(checkpointDir(run.checkpoints, steps[steps.length - 1]));
  return { step: steps[steps.length - 1], weightOf: (name) => weights.get(name)?.values, close: () => {} };
}

function readme(id: string, step: number, capacity: number): string {
  return `---
library_name: transformers
tags: [switch_transformers, mixture-of-experts]
---
# ${id}

A Switch Transformer trained with Switchyard (run \`${id}\`, step ${step}).

\`\`\`python
from transformers import SwitchTransformersForConditionalGeneration, PreTrainedTokenizerFast
model = SwitchTransformersForConditionalGeneration.from_pretrained("path/to/this/folder")
tokenizer = PreTrainedTokenizerFast(tokenizer_file="path/to/this/folder/tokenizer.json", eos_token="</s>", pad_token="<pad>", unk_token="<unk>")
\`\`\`

HF's routers keep a fixed \`expert_capacity\` of ${capacity} tokens per expert and sequence (Switchyard's
run used a capacity factor: this is its eval capacity at the training input length).
`;
}
