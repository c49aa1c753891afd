// Shared by the engine tests: the backend under test (wasm unless SWITCHYARD_BACKEND says otherwise)
// and small helpers to compare tensors.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendChoice } from '../../engine/backend';
import { PRESETS, type SwitchConfig } from '../../engine/model/config';

export async function useTestBackend(): Promise<string> {
  const info = await initBackend((process.env.SWITCHYARD_BACKEND as BackendChoice | undefined) ?? 'wasm');
  return info.name;
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** A small deterministic config for tests, over the tiny preset. */
export function testConfig(over: Partial<SwitchConfig> = {}): SwitchConfig {
  return { ...PRESETS.tiny, vocabSize: 64, dModel: 16, dKv: 4, dFf: 32, numHeads: 2, numExperts: 4, dropoutRate: 0, expertDropoutRate: 0, ...over };
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function randomValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
