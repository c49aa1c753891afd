// Random routing cases for the rules' slow references: few distinct probability values, so ties are
// common, and some padding.
import { randomValues } from './setup';

export function randomProbs(seed: number): { probs: Float32Array; mask: Float32Array; n: number; e: number } {
  const n = 1 + (seed % 13);
  const e = 2 + (seed % 5);
  const r = randomValues(n * e + n, seed + 1);
  // Probabilities on a grid of tenths: rows need not sum to 1 for the rules, ties are what matter.
  const probs = Float32Array.from({ length: n * e }, (_, i) => Math.round((r[i] + 1) * 5) / 10);
  const mask = Float32Array.from({ length: n }, (_, t) => (r[n * e + t] < -0.6 ? 0 : 1));
  return { probs, mask, n, e };
}
