// Gradient accumulation: a step's batch split into micro-batches of whole sequences, each one's
// forward and backward run alone, their gradients summed. The tape of one micro-batch is what the
// wasm heap must hold, so a batch too big for it (small at 16 × 256) still trains. Routing and
// capacity are per micro-batch, as they are per device in the paper (each core routes its own
// tokens): expertCapacity = capacityFactor × micro-batch tokens / E.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/batches';
import type { LayerRouting } from '../model/stats';

/** Rows [start, end) of a batch (all arrays are row-major [batchSize, length]). */
export function sliceBatch(b: Batch, start: number, end: number): Batch {
  const enc = (a: Int32Array | Float32Array) => a.subarray(start * b.encoderLength, end * b.encoderLength);
  const dec = (a: Int32Array | Float32Array) => a.subarray(start * b.decoderLength, end * b.decoderLength);
  return {
    batchSize: end - start,
    encoderLength: b.encoderLength,
    decoderLength: b.decoderLength,
    numExamples: Math.max(0, Math.min(b.numExamples, end) - start),
    encoderIds: enc(b.encoderIds) as Int32Array,
    encoderMask: enc(b.encoderMask) as Float32Array,
    encoderTags: enc(b.encoderTags) as Int32Array,
    decoderInputIds: dec(b.decoderInputIds) as Int32Array,
    decoderTargetIds: dec(b.decoderTargetIds) as Int32Array,
    decoderMask: dec(b.decoderMask) as Float32Array,
  };
}

/** The batch as micro-batches of at most `size` sequences; the batch itself when it fits in one. */
export function splitBatch(b: Batch, size: number | undefined): Batch[] {
  if (!size || size >= b.batchSize) return [b];
  const parts: Batch[] = [];
  for (let start = 0; start < b.batchSize; start += size) parts.push(sliceBatch(b, start, Math.min(start + size, b.batchSize)));
  return parts;
}

/**
 * Each micro-batch's weight in the step's loss: its share of the batch's target tokens, so that the
 * weighted sum of per-micro-batch mean cross-entropies is the batch's mean cross-entropy.
 */
export function microBatchWeights(parts: Batch[]): number[] {
  const targets = parts.map((p) => p.decoderMask.reduce((s, m) => s + m, 0));
  const total = targets.reduce((s, t) => s + t, 0);
  return total > 0 ? targets.map((t) => t / total) : parts.map(() => 1 / parts.length);
}

/** Adds `grads` into `into` (disposing what it replaces and the added tensors); returns `into`. */
export function accumulateGradients(into: Map<string, tf.Tensor>, grads: Map<string, tf.Tensor>): Map<string, tf.Tensor> {
  for (const [name, g] of grads) {
    const prev = into.get(name);
    if (!prev) {
      into.set(name, g);
      continue;
    }
    into.set(name, tf.add(prev, g));
    tf.dispose([prev, g]);
  }
  return into;
}

/**
 * One layer's routing over the whole batch from its micro-batches' routings: counts add up, means
 * are weighted by real tokens, per-token arrays are concatenated in batch order. `capacity` is the
 * slots each expert had in the whole step (each micro-batch's added), so that kept ≤ capacity holds
 * for the step's counts as the mesh model and the run format expect.
 */
export function mergeRouting(parts: LayerRouting[][]): LayerRouting[] {
  if (parts.length === 1) return parts[0];
  return parts[0].map((first, l) => {
    const layer = parts.map((p) => p[l]);
    const numTokens = layer.reduce((s, r) => s + r.numTokens, 0);
    const mean = (f: (r: LayerRouting) => number) => (numTokens ? layer.reduce((s, r) => s + f(r) * r.numTokens, 0) / numTokens : 0);
    const sumArrays = (f: (r: LayerRouting) => number[] | undefined) => {
      const arrays = layer.map(f);
      if (!arrays[0]) return undefined;
      return arrays[0].map((_, i) => arrays.reduce((s, a) => s + (a?.[i] ?? 0), 0));
    };
    const keptAtChoice = sumArrays((r) => r.keptAtChoice);
    const expertsPerToken = sumArrays((r) => r.expertsPerToken);
    return {
      layer: first.layer,
      numExperts: first.numExperts,
      capacity: layer.reduce((s, r) => s + r.capacity, 0),
      numTokens,
      routed: sumArrays((r) => r.routed) as number[],
      kept: sumArrays((r) => r.kept) as number[],
      dropped: layer.reduce((s, r) => s + r.dropped, 0),
      meanProb: first.meanProb.map((_, i) => mean((r) => r.meanProb[i])),
      routerEntropy: mean((r) => r.routerEntropy),
      ...(keptAtChoice ? { keptAtChoice } : {}),
      ...(expertsPerToken ? { expertsPerToken } : {}),
      tokens: {
        expert: concat(Int32Array, layer.map((r) => r.tokens.expert)),
        prob: concat(Float32Array, layer.map((r) => r.tokens.prob)),
        dropped: concat(Uint8Array, layer.map((r) => r.tokens.dropped)),
        entropy: concat(Float32Array, layer.map((r) => r.tokens.entropy)),
      },
    };
  });
}

type TypedArrayOf<T> = { new (n: number): T; prototype: T };
/** The arrays end to end, in one new array of their kind. */
export function concat<T extends Int32Array | Float32Array | Uint8Array>(Kind: TypedArrayOf<T>, xs: T[]): T {
  const out = new Kind(xs.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const x of xs) {
    out.set(x as never, at);
    at += x.length;
  }
  return out;
}
