// Learning rate: linear warm-up to `peak`, then inverse-square-root decay (T5's schedule).
export function learningRate(step: number, peak: number, warmupSteps: number): number {
  const s = Math.max(step, 1);
  if (warmupSteps <= 0) return peak / Math.sqrt(s);
  return peak * Math.min(s / warmupSteps, Math.sqrt(warmupSteps / s));
}
