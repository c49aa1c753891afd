// An HF checkpoint's tensors as the engine's weights: the file's layout checked whole against the
// config first (one error naming every missing, extra or mis-shaped tensor, before any data is
// read), then each tensor read, converted to float32 and transposed into the engine's [in, out].
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SwitchConfig } from '../../model/config';
import type { NamedTensor } from '../../train/checkpoint';
import { hfParams, tiedAliases } from './names';
import { openSafetensors, SAFETENSORS_FILE, SAFETENSORS_INDEX } from './safetensors';
import { CheckpointFormatError, nextTurn, type ProgressFn, type TensorSource } from './tensors';
import { openTorchBin, TORCH_BIN_FILE } from './torchBin';

/** The checkpoint in an HF model folder: safetensors when it has them (as from_pretrained prefers), else pytorch_model.bin. */
export async function openHfCheckpoint(dir: string): Promise<{ file: string; source: TensorSource }> {
  if (existsSync(join(dir, SAFETENSORS_INDEX))) return { file: SAFETENSORS_INDEX, source: openSafetensors(dir) };
  if (existsSync(join(dir, SAFETENSORS_FILE))) return { file: SAFETENSORS_FILE, source: openSafetensors(dir) };
  if (existsSync(join(dir, TORCH_BIN_FILE))) return { file: TORCH_BIN_FILE, source: await openTorchBin(join(dir, TORCH_BIN_FILE)) };
  throw new Error(`${dir} has no ${SAFETENSORS_FILE}, ${SAFETENSORS_INDEX} or ${TORCH_BIN_FILE}`);
}

/** Throws one error naming every tensor that is missing, unexpected or of the wrong shape. */
export function checkLayout(file: string, source: TensorSource, c: SwitchConfig, tieWordEmbeddings: boolean): void {
  const expected = new Map(hfParams(c, tieWordEmbeddings).map((p) => [p.hfName, p.hfShape]));
  const embedding = [c.vocabSize, c.dModel];
  for (const alias of tiedAliases(tieWordEmbeddings)) expected.set(alias, embedding);
  const optional = new Set(tiedAliases(tieWordEmbeddings));
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const t = source.tensors.get(name);
    if (!t) {
      if (!optional.has(name)) problems.push(`missing tensor ${name} [${shape}]`);
    } else if (t.shape.join() !== shape.join()) {
      problems.push(`tensor ${name} has shape [${t.shape}], the config needs [${shape}]`);
    }
  }
  for (const name of source.tensors.keys()) if (!expected.has(name)) problems.push(`unexpected tensor ${name}`);
  if (problems.length) {
    const shown = problems.slice(0, 8).join('; ');
    throw new CheckpointFormatError(file, `does not match config.json: ${shown}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`);
  }
}

/** Every engine weight, read from a checked source. */
export async function readEngineWeights(
  source: TensorSource,
  c: SwitchConfig,
  tieWordEmbeddings: boolean,
  onProgress: ProgressFn = () => {},
  /** Steps after the read, for the progress total (the caller's write). */
  stepsAfter = 0,
): Promise<Map<string, NamedTensor>> {
  const weights = new Map<string, NamedTensor>();
  const params = hfParams(c, tieWordEmbeddings);
  for (const [i, p] of params.entries()) {
    onProgress(i, params.length + stepsAfter, `reading ${p.hfName}`);
    await nextTurn();
    const values = await source.read(p.hfName);
    weights.set(p.engineName, p.transposed ? { shape: [p.hfShape[1], p.hfShape[0]], values: transpose(values, p.hfShape[0], p.hfShape[1]) } : { shape: p.hfShape, values });
  }
  if (tieWordEmbeddings) {
    // Tied: logits = (h * d^-0.5) @ shared^T, so the engine's own lm_head is d^-0.5 * shared^T.
    const shared = weights.get('shared.weight') as NamedTensor;
    const head = transpose(shared.values, c.vocabSize, c.dModel);
    const scale = c.dModel ** -0.5;
    for (let i = 0; i < head.length; i++) head[i] *= scale;
    weights.set('lm_head.weight', { shape: [c.dModel, c.vocabSize], values: head });
  }
  return weights;
}

/** [rows, cols] row-major -> [cols, rows] */
export function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) out[k * rows + r] = values[r * cols + k];
  }
  return out;
}
