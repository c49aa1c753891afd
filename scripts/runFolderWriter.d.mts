import type { StepMetrics } from '../engine/train/metrics';
export function stepRecord(step: number, experts?: number, layers?: number): StepMetrics;
export function writeRun(folder: string, options?: { steps?: number; interval?: number; experts?: number; layers?: number }): Promise<void>;
