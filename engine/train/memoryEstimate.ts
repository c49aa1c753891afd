// Sizes a run from its config alone, before anything is allocated or written: a config that cannot
// fit the backend is refused with one line, instead of failing (or hanging) half-way through
// creating the run. The estimate is a floor, so a refusal is certain; passing it is not a promise.
import { totalmem } from 'node:os';
import { isSparseLayer, type SwitchConfig } from '../model/config';
import type { BackendName } from '../backend';
import type { RunConfig } from './runConfig';
import { spanLengths } from '../data/spanCorruption';

/** wasm32's address space: tfjs-backend-wasm's heap grows up to 4 GiB and no further. */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;

/** Weight, gradient and Adam's two moments, float32 each. */
const BYTES_PER_PARAMETER = 16;

/** The model's parameter count, as SwitchTransformer would allocate it (ParamStore.count()). */
export function parameterCount(c: SwitchConfig): number {
  const d = c.dModel;
  const attention = 4 * d * c.numHeads * c.dKv;
  const relativeBias = c.relativeAttentionNumBuckets * c.numHeads;
  const ff = (sparse: boolean) => (sparse ? c.numExperts * 2 * d * c.dFf + d * c.numExperts : 2 * d * c.dFf);
  const stack = (layers: number, step: number, perLayer: number) => {
    const sparse = sparseLayerCount(c, layers, step);
    return layers * perLayer + sparse * ff(true) + (layers - sparse) * ff(false) + relativeBias;
  };
  return 2 * c.vocabSize * d + 2 * d + stack(c.numLayers, c.encoderSparseStep, attention + 2 * d) + stack(c.numDecoderLayers, c.decoderSparseStep, 2 * attention + 3 * d);
}

/** How many of `layers` are sparse (isSparseLayer), counted without a loop: numLayers may be absurd. */
function sparseLayerCount(c: SwitchConfig, layers: number, step: number): number {
  if (!isSparseLayer(c, 1, step)) return 0;
  return step === 1 ? layers : layers < 2 ? 0 : Math.floor((layers - 2) / step) + 1;
}

export interface TrainingMemory {
  parameters: number;
  /** A floor on the bytes one training step holds: parameter state plus the activations kept for the backward. */
  bytes: number;
}

/** Float32 activations the backward needs at least: each layer's input, FFN hidden and attention scores. */
export function trainingMemory(config: RunConfig): TrainingMemory {
  const c = { ...config.model, vocabSize: Math.max(config.model.vocabSize, config.training.vocabSize) };
  const { batchSize: b, inputLength: te } = config.training;
  const td = spanLengths(te).targetLength;
  const inner = c.numHeads * c.dKv;
  const layer = (t: number, tk: number) => b * t * (4 * c.dModel + 3 * inner + c.dFf) + b * c.numHeads * t * tk;
  const activations = c.numLayers * layer(te, te) + c.numDecoderLayers * (layer(td, td) + b * c.numHeads * td * te) + 2 * b * td * c.vocabSize;
  const parameters = parameterCount(c);
  return { parameters, bytes: BYTES_PER_PARAMETER * parameters + 4 * activations };
}

export function memoryLimit(backend: BackendName): { bytes: number; what: string } {
  return backend === 'wasm' ? { bytes: WASM_HEAP_LIMIT, what: "the wasm backend's heap holds" } : { bytes: totalmem(), what: `this machine has (${backend} backend)` };
}

/** Throws one line saying how big the run would be and what the limit is, when it cannot fit. */
export function checkTrainingFits(config: RunConfig, backend: BackendName): void {
  const need = trainingMemory(config);
  const limit = memoryLimit(backend);
  if (need.bytes > limit.bytes) {
    throw new Error(
      `this config cannot train here: ${formatCount(need.parameters)} parameters and batch ${config.training.batchSize} × ${config.training.inputLength} need at least ${formatBytes(need.bytes)}; ${limit.what} ${formatBytes(limit.bytes)}`,
    );
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return `${n.toFixed(n < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

function formatCount(n: number): string {
  return n < 1e6 ? n.toLocaleString('en') : n < 1e9 ? `${(n / 1e6).toFixed(1)} M` : n < 1e12 ? `${(n / 1e9).toFixed(1)} G` : n.toExponential(1);
}
