// How long an experiment will take, from what this runs folder has measured: each grid run's
// seconds per step is the mean of earlier runs with the same preset, router, experts and batch shape
// (or, failing that, the same preset), so the figure is a measurement here, not a guess.
import { parseRunConfig, type RunConfig } from '../train/runConfig';
import { listRuns, openRun, readMetrics } from '../train/runStore';
import type { StepMetrics } from '../train/metrics';
import type { Budget } from './experimentSchema';
import type { GridRun } from './grid';
import { trainingClock } from './results';

/** Earlier runs read, newest first: enough to find a match, few enough to stay quick. */
const RUNS_READ = 30;

export interface Estimate {
  /** Null when no earlier run of this preset has recorded a step. */
  seconds: number | null;
  /** Where the figure comes from, in a sentence. */
  basis: string;
}

interface Measured {
  config: RunConfig;
  secondsPerStep: number;
}

const shape = (c: RunConfig) => [c.preset, c.model.router, c.model.numExperts, c.training.batchSize, c.training.inputLength].join('/');

export function estimateExperiment(runsDir: string, runs: GridRun[], budget: Budget, parallel = 1): Estimate {
  const lanes = Math.max(1, Math.min(parallel, runs.length));
  const side = lanes > 1 ? `, ${lanes} at a time` : '';
  if ('minutes' in budget) return { seconds: Math.ceil(runs.length / lanes) * budget.minutes * 60, basis: `${runs.length} runs × ${budget.minutes} min${side}` };
  const measured = measuredRuns(runsDir);
  let exact = 0;
  const perRun: number[] = [];
  for (const run of runs) {
    const same = measured.filter((m) => shape(m.config) === shape(run.config));
    const preset = same.length ? same : measured.filter((m) => m.config.preset === run.config.preset);
    if (!preset.length) return { seconds: null, basis: `no earlier ${run.config.preset} run has recorded a step here` };
    if (same.length) exact++;
    perRun.push(budget.steps * (preset.reduce((s, m) => s + m.secondsPerStep, 0) / preset.length));
  }
  // Side by side, a run on one wasm thread steps about as fast as alone on two (npm run bench:experiment).
  const how = lanes > 1 ? `${lanes} at a time, each at the speed` : 'at the speed';
  return {
    seconds: laneSchedule(perRun, lanes),
    basis: `${budget.steps} steps × ${runs.length} runs ${how} of earlier runs here (${exact} of ${runs.length} of the same shape, the rest of the same preset); validation and checkpoints add to it`,
  };
}

/** When the last run ends if each run, in grid order, starts on the first free lane. */
export function laneSchedule(seconds: number[], lanes: number): number {
  const free = new Array<number>(lanes).fill(0);
  for (const s of seconds) {
    const lane = free.indexOf(Math.min(...free));
    free[lane] += s;
  }
  return Math.max(...free);
}

function measuredRuns(runsDir: string): Measured[] {
  return listRuns(runsDir)
    .reverse()
    .slice(0, RUNS_READ)
    .flatMap((id) => {
      try {
        const run = openRun(runsDir, id);
        const steps = readMetrics(run.metricsFile).records.filter((r): r is StepMetrics => r.type === 'step');
        // The first steps include compilation and warm-up: leave them out where there are more.
        const timed = steps.length > 10 ? steps.slice(5) : steps;
        if (!timed.length) return [];
        const seconds = [...trainingClock(timed).values()].at(-1) ?? 0;
        return seconds > 0 ? [{ config: parseRunConfig(run.readJson('config.json')), secondsPerStep: seconds / timed.length }] : [];
      } catch {
        return [];
      }
    });
}
