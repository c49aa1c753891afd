// Shared by the engine tests: the backend under test (wasm unless SWITCHYARD_BACKEND says otherwise)
// and small helpers to compare tensors.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, type BackendChoice, type BackendName } from '../../engine/backend';
import { BatchIterator, type Batch } from '../../engine/data/batches';
import { PRESETS, type SwitchConfig } from '../../engine/model/config';
import type { Trainer } from '../../engine/train/trainer';

export async function useTestBackend(): Promise<BackendName> {
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

/** Runs `fn` in a fresh temporary folder, removed afterwards. */
export function withTempDir(prefix: string, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-${prefix}-`));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const WORDS = (
  'the a one every some river stone house garden window letter morning evening train station engine ' +
  'expert router token layer model city road teacher student music paper market winter summer light ' +
  'walks reads writes carries opens finds builds watches remembers follows gives takes sends keeps ' +
  'quietly slowly often never always together again early late near under over beside through with ' +
  'old new small large bright dark quiet busy green heavy gentle sudden'
).split(' ');

/** Deterministic English-like text for a small user corpus: `n` sentences from an LCG seeded with `seed`. */
export function sentences(n: number, seed: number): string {
  let s = seed >>> 0;
  const pick = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return WORDS[s % WORDS.length];
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: 6 + (i % 7) }, pick);
    words[0] = words[0][0].toUpperCase() + words[0].slice(1);
    out.push(words.join(' ') + (i % 5 === 4 ? '?' : '.'));
  }
  return out.join(' ');
}

/**
 * The batches a trainer draws, replayed from its dataset, options and seed (as the trainer makes its
 * iterators): its first `n` training batches, or its fixed validation batches.
 */
export function replayBatches(trainer: Trainer, which: 'train' | 'validation', n = trainer.config.training.validationBatches): Batch[] {
  const t = trainer.config.training;
  const { tokenizer } = trainer.dataset;
  const options = { batchSize: t.batchSize, inputLength: t.inputLength };
  const it =
    which === 'train'
      ? new BatchIterator(trainer.dataset.train, tokenizer, { ...options, seed: t.seed })
      : new BatchIterator(trainer.dataset.validation, tokenizer, { ...options, seed: t.seed + 1, shuffle: false, cycle: false });
  const out: Batch[] = [];
  while (out.length < n) {
    const b = it.next();
    if (!b) break;
    out.push(b);
  }
  return out;
}

/**
 * The sentinel fills an inference's decoded `output` holds, read from the text: for each sentinel of
 * the input, what follows its first `<extra_id_N>` up to the next sentinel, trimmed; null when the
 * output has none.
 */
export function fillsInOutput(output: string, sentinels: number[]): { sentinel: number; text: string | null }[] {
  return sentinels.map((sentinel) => {
    const mark = `<extra_id_${sentinel}>`;
    const at = output.indexOf(mark);
    return { sentinel, text: at < 0 ? null : output.slice(at + mark.length).split(/<extra_id_\d+>/)[0].trim() };
  });
}
