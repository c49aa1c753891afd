// Sizes a run from its config alone, before anything is allocated or written: a config that cannot
// fit the backend is refused with one line, instead of failing (or hanging) half-way through
// creating the run. The estimate is a floor, so a refusal is certain; passing it is not a promise.
// It is calibrated on measured steps (tf.profile's peak bytes, `npm run bench:train` prints the wasm
// heap): the tape holds about 12-14 copies of the activations counted below (every op's output, the
// clones custom gradients save, the backward's transients), so a floor of 11 copies is kept.
import { totalmem } from 'node:os';
import { isSparseLayer, type SwitchConfig } from '../model/config';
import type { BackendName } from '../backend';
import { microBatchSizeOf, type RunConfig } from './runConfig';
import { spanLengths } from '../data/spanCorruption';

/** wasm32's address space: tfjs-backend-wasm's heap grows up to 4 GiB and no further. */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;

/** Weight and gradient in the heap, float32 each (Adam's moments live on the host: train/adam.ts). */
const HEAP_BYTES_PER_PARAMETER = 8;
/** Accumulating micro-batches' gradients holds one more gradient per weight. */
const ACCUMULATOR_BYTES_PER_PARAMETER = 4;
/** Adam's two moments, host memory. */
const HOST_BYTES_PER_PARAMETER = 8;
/** Measured copies of the counted activations that one step's tape holds at its peak: 12.0-13.6 (tiny 16×128, 32×256; small 8×128, 8×256). */
const ACTIVATION_COPIES = 11;
/** The highest measured peak over this floor (13.6 / 11): a suggested micro-batch keeps this margin. */
const MEASURED_OVER_FLOOR = 1.25;

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
  /** A floor on the backend's bytes one training step holds: weights, gradients, and the tape of one micro-batch. */
  bytes: number;
  /** Adam's moments, kept in host memory beside the backend's. */
  hostBytes: number;
}

/** Float32 activations of one forward pass (each layer's input, FFN hidden, attention scores, logits), times the copies a step's tape holds. */
export function trainingMemory(config: RunConfig, microBatchSize = microBatchSizeOf(config.training)): TrainingMemory {
  const c = { ...config.model, vocabSize: Math.max(config.model.vocabSize, config.training.vocabSize) };
  const { batchSize, inputLength: te } = config.training;
  const b = Math.min(microBatchSize ?? batchSize, batchSize);
  const td = spanLengths(te).targetLength;
  const inner = c.numHeads * c.dKv;
  const layer = (t: number, tk: number) => b * t * (4 * c.dModel + 3 * inner + c.dFf) + b * c.numHeads * t * tk;
  const activations = c.numLayers * layer(te, te) + c.numDecoderLayers * (layer(td, td) + b * c.numHeads * td * te) + 2 * b * td * c.vocabSize;
  const parameters = parameterCount(c);
  const perParameter = HEAP_BYTES_PER_PARAMETER + (b < batchSize ? ACCUMULATOR_BYTES_PER_PARAMETER : 0);
  return { parameters, bytes: perParameter * parameters + ACTIVATION_COPIES * 4 * activations, hostBytes: HOST_BYTES_PER_PARAMETER * parameters };
}

export function memoryLimit(backend: BackendName): { bytes: number; what: string } {
  return backend === 'wasm' ? { bytes: WASM_HEAP_LIMIT, what: "the wasm backend's heap holds" } : { bytes: totalmem(), what: `this machine has (${backend} backend)` };
}

/** The largest micro-batch (sequences per pass) whose step fits `limit`, or 0 if not even one sequence does. */
export function largestMicroBatch(config: RunConfig, limitBytes: number): number {
  let lo = 0;
  let hi = config.training.batchSize;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (trainingMemory(config, mid).bytes <= limitBytes) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Throws one line saying how big the run would be and what the limit is, when it cannot fit; when
 * smaller micro-batches would fit, the line says which training.microBatchSize to set.
 */
export function checkTrainingFits(config: RunConfig, backend: BackendName): void {
  const memory = trainingMemory(config);
  const limit = memoryLimit(backend);
  // On wasm the moments sit outside the heap; elsewhere everything shares the machine's memory.
  const outside = backend === 'wasm' ? 0 : memory.hostBytes;
  const t = config.training;
  const need = memory.bytes + outside;
  if (need > limit.bytes) {
    const micro = microBatchSizeOf(t) ?? t.batchSize;
    const fits = largestMicroBatch(config, (limit.bytes - outside) / MEASURED_OVER_FLOOR);
    const hint = fits > 0 && fits < micro ? `; set training.microBatchSize to ${fits} or less to accumulate the batch in smaller passes` : '';
    throw new Error(
      `this config cannot train here: ${formatCount(memory.parameters)} parameters and ${micro < t.batchSize ? `micro-batch ${micro} of batch ${t.batchSize}` : `batch ${t.batchSize}`} × ${t.inputLength} need at least ${formatBytes(need)}; ${limit.what} ${formatBytes(limit.bytes)}${hint}`,
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
