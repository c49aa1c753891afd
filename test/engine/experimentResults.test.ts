import assert from 'node:assert/strict';
import { test } from 'node:test';
import { experimentResults, interpolate, overTrainingTable, resultsMarkdown, trainingClock, type RecordedRun } from '../../engine/experiments/results';
import type { LayerMetrics, MetricsRecord, StepMetrics } from '../../engine/train/metrics';

function layer(overflowRate: number): LayerMetrics {
  return { layer: 'encoder.block.1', numExperts: 4, capacity: 8, assignments: 40, routed: [10, 10, 10, 10], kept: [8, 8, 8, 8], shares: [0.25, 0.25, 0.25, 0.25], dropped: 8, overflowRate, routerEntropy: 1.2, normalizedEntropy: 0.9, loadCv: 0.2, maxShare: 0.25, unusedExperts: 0, meanProb: [0.25, 0.25, 0.25, 0.25] };
}
function step(n: number, tokensPerSecond: number, layers: LayerMetrics[]): StepMetrics {
  return { type: 'step', step: n, time: 0, tokens: 100, tokensPerSecond, learningRate: 1e-3, loss: 5, crossEntropy: 5, auxLoss: 1, zLoss: 0, gradNorm: 1, layers };
}
const val = (n: number, crossEntropy: number): MetricsRecord => ({ type: 'validation', step: n, time: 0, loss: crossEntropy, crossEntropy });

// switch: 1 s a step (100 tokens at 100 tokens/s); dense: 2.5 s a step. Validations at steps 0, 2, 4.
const runs: RecordedRun[] = [
  {
    name: 'switch',
    runId: 'a',
    state: 'completed',
    records: [val(0, 6), step(1, 100, [layer(0.1), layer(0.3)]), step(2, 100, [layer(0.1), layer(0.3)]), val(2, 5), step(3, 100, [layer(0.1), layer(0.3)]), step(4, 100, [layer(0.1), layer(0.7)]), val(4, 4)],
  },
  { name: 'dense', runId: 'b', state: 'completed', records: [val(0, 6), step(1, 40, []), step(2, 40, []), val(2, 5.5), step(3, 40, []), step(4, 40, []), val(4, 5)] },
  { name: 'unstable', runId: 'c', state: 'diverged', records: [val(0, 6), step(1, 100, [layer(0.5)])] },
  { name: 'later', runId: null, state: 'pending', records: [] },
];

test('interpolation between points, exact at points, none outside', () => {
  const points: [number, number][] = [[0, 6], [5, 5.5], [10, 5]];
  assert.ok(Math.abs((interpolate(points, 4) as number) - 5.6) < 1e-12); // 6 + (5.5 - 6) × 4/5
  assert.equal(interpolate(points, 5), 5.5);
  assert.equal(interpolate(points, 7.5), 5.25);
  assert.equal(interpolate(points, 10), 5);
  assert.equal(interpolate(points, 10.5), null);
  assert.equal(interpolate(points, -1), null);
  assert.equal(interpolate([], 0), null);
});

test('the training clock sums step times only', () => {
  const steps = runs[1].records.filter((r): r is StepMetrics => r.type === 'step');
  assert.deepEqual([...trainingClock(steps)], [[0, 0], [1, 2.5], [2, 5], [3, 7.5], [4, 10]]);
});

test('results from recorded metrics: equal steps, equal time, speed and routing health', () => {
  const r = experimentResults(runs);
  assert.equal(r.commonStep, 4); // the diverged and the pending run do not hold it back
  assert.equal(r.commonSeconds, 4); // switch's last validation is at 4 s, dense's at 10 s
  const [sw, dense, unstable, later] = r.runs;
  assert.equal(sw.crossEntropyAtStep, 4);
  assert.equal(sw.crossEntropyAtTime, 4);
  assert.equal(dense.crossEntropyAtStep, 5);
  assert.ok(Math.abs((dense.crossEntropyAtTime as number) - 5.6) < 1e-12); // between 0 s (6) and 5 s (5.5)
  assert.equal(sw.stepsPerSecond, 1);
  assert.equal(sw.tokensPerSecond, 100);
  assert.equal(dense.stepsPerSecond, 0.4);
  assert.equal(dense.tokensPerSecond, 40);
  assert.ok(Math.abs((sw.overflowMean as number) - 0.25) < 1e-12); // (3 × (0.1 + 0.3) + 0.1 + 0.7) / 8
  assert.equal(sw.overflowMax, 0.7);
  assert.ok(Math.abs((sw.loadCvMean as number) - 0.2) < 1e-12);
  assert.ok(Math.abs((sw.routerEntropy as number) - 0.9) < 1e-12);
  assert.equal(dense.overflowMean, null);
  assert.equal(unstable.diverged, true);
  assert.equal(unstable.crossEntropyAtStep, null);
  assert.equal(unstable.steps, 1);
  assert.deepEqual([later.steps, later.crossEntropyAtStep, later.stepsPerSecond], [0, null, null]);

  const md = resultsMarkdown('Experiment t', r);
  assert.match(md, /^# Experiment t$/m);
  assert.match(md, /\| run \| state \| steps \| val CE @ step 4 \| val CE @ 4\.0 s \| val CE mean @ step 4 \|/);
  assert.ok(md.includes('| switch | completed | 4 | 4.000 | 4.000 | 4.000 | 1.00 | 100 | 25.0% | 70.0% | 0.200 | 0.900 | no |'), md);
  assert.ok(md.includes('| dense | completed | 4 | 5.000 | 5.600 | 5.000 | 0.40 | 40 | — | — | — | — | no |'), md);
  assert.ok(md.includes('| unstable | diverged | 1 | — | — | — | 1.00 | 100 | 50.0% | 50.0% | 0.200 | 0.900 | yes |'), md);
  assert.ok(md.includes('| later | pending | 0 | — | — | — | — | — | — | — | — | — | no |'), md);
});

test("a producer's run without throughput or overflow beside an engine run: its row says null where it logged nothing, the others' figures stand", () => {
  const probe: RecordedRun = {
    name: 'probe',
    runId: 'ext',
    state: 'completed',
    records: [
      { type: 'step', step: 2, loss: 4, layers: [{ layer: 'gate', numExperts: 2, routed: [3, 1], loadCv: 0.5 }] },
      { type: 'validation', step: 2, crossEntropy: 4.5 },
    ],
  };
  const r = experimentResults([runs[0], probe]);
  const [engine, ext] = r.runs;
  assert.equal(r.commonStep, 2);
  assert.equal(r.commonSeconds, 4, "the engine run's time alone: the probe's is unknown, not zero");
  assert.equal(engine.crossEntropyAtTime, 4);
  assert.deepEqual(
    [ext.crossEntropyAtStep, ext.crossEntropyAtTime, ext.tokensPerSecond, ext.overflowMean, ext.overflowMax, ext.loadCvMean, ext.routerEntropy],
    [4.5, null, null, null, null, 0.5, null],
  );
});

test('the late mean: validation cross-entropy averaged over the common validations in the last quarter of training', () => {
  const validated = (name: string, ce: Record<number, number>): RecordedRun => ({
    name,
    runId: name,
    state: 'completed',
    records: Object.entries(ce).flatMap(([n, x]) => [step(Number(n), 100, []), val(Number(n), x)]),
  });
  // a validates at 60 too; 60 is not common, and 0.75 × 100 = 75 leaves 80 and 100 in the window.
  const a = validated('a', { 0: 7, 60: 4.6, 80: 4.2, 100: 4.4 });
  const b = validated('b', { 0: 7, 80: 4.5, 100: 4.1 });
  const r = experimentResults([a, b]);
  assert.equal(r.commonStep, 100);
  assert.deepEqual(r.lateSteps, [80, 100]);
  assert.ok(Math.abs((r.runs[0].crossEntropyLate as number) - 4.3) < 1e-12); // (4.2 + 4.4) / 2
  assert.ok(Math.abs((r.runs[1].crossEntropyLate as number) - 4.3) < 1e-12); // (4.5 + 4.1) / 2
  // At step 100 alone b looks 0.3 better; over the window the two are level.
  assert.ok(Math.abs((r.runs[0].crossEntropyAtStep as number) - (r.runs[1].crossEntropyAtStep as number) - 0.3) < 1e-12);
  const md = resultsMarkdown('t', r);
  assert.match(md, /\| val CE mean @ steps 80–100 \(2\) \|/);
  assert.match(md, /validations at steps 80–100 \(2\)/);
  assert.deepEqual(experimentResults([]).lateSteps, [], 'no runs: an empty window');
});

test('over seeds: each entry as mean [least, greatest], and its late mean minus the first entry’s seed by seed', () => {
  const seeded = (entry: string, seed: number, ce: Record<number, number>, state: RecordedRun['state'] = 'completed'): RecordedRun => ({
    name: `${entry}-seed${seed}`,
    entry,
    seed,
    runId: `${entry}${seed}`,
    state,
    records: Object.entries(ce).flatMap(([n, x]) => [step(Number(n), 100, []), val(Number(n), x)]),
  });
  // Seed-major, as an experiment runs them. Late window: 0.75 × 100 = 75, so steps 80 and 100.
  const r = experimentResults([
    seeded('dense', 0, { 0: 7, 80: 5.2, 100: 5.0 }),
    seeded('e8', 0, { 0: 7, 80: 5.0, 100: 4.9 }),
    seeded('dense', 1, { 0: 7, 80: 4.6, 100: 4.6 }),
    seeded('e8', 1, { 0: 7, 80: 4.9, 100: 4.7 }),
    seeded('e8', 2, { 0: 7 }, 'diverged'),
  ]);
  assert.equal(r.commonStep, 100);
  const [dense, e8] = r.entries ?? [];
  assert.deepEqual(dense.seeds, [0, 1]);
  assert.deepEqual(e8.seeds, [0, 1], 'the diverged seed has no figure');
  const near = (a: number | undefined, b: number) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);
  near(dense.crossEntropyAtStep?.mean, 4.8); // (5.0 + 4.6) / 2
  near(dense.crossEntropyLate?.mean, 4.85); // ((5.2 + 5.0) / 2 + (4.6 + 4.6) / 2) / 2 = (5.1 + 4.6) / 2
  near(e8.crossEntropyLate?.mean, 4.875); // (4.95 + 4.8) / 2
  assert.equal(dense.lateVsFirst, null);
  // Seed 0: 4.95 − 5.1 = −0.15; seed 1: 4.8 − 4.6 = +0.2.
  near(e8.lateVsFirst?.min, -0.15);
  near(e8.lateVsFirst?.max, 0.2);
  near(e8.lateVsFirst?.mean, 0.025);
  assert.equal(e8.diverged, 1);

  const md = resultsMarkdown('t', r);
  assert.match(md, /^## Over seeds$/m);
  assert.ok(md.includes('| entry | seeds | val CE @ step 100 | val CE @ 3.0 s | val CE mean @ steps 80–100 (2) | late − dense, same seed | diverged |'), md);
  assert.ok(md.includes('| dense | 0, 1 | 4.800 [4.600, 5.000] | 4.800 [4.600, 5.000] | 4.850 [4.600, 5.100] | — | 0 |'), md);
  assert.ok(md.includes('| e8 | 0, 1 | 4.800 [4.700, 4.900] | 4.800 [4.700, 4.900] | 4.875 [4.800, 4.950] | +0.025 [−0.150, +0.200] | 1 |'), md);
  assert.equal(experimentResults(runs).entries, null, 'runs without seeds: no table over seeds');
  assert.doesNotMatch(resultsMarkdown('t', experimentResults(runs)), /Over seeds/);
});

test('over training: the gap to the first entry, seed by seed, in each quarter of training; the last quarter is the late window', () => {
  const seeded = (entry: string, seed: number, ce: Record<number, number>): RecordedRun => ({
    name: `${entry}-seed${seed}`,
    entry,
    seed,
    runId: `${entry}${seed}`,
    state: 'completed',
    records: Object.entries(ce).flatMap(([n, x]) => [step(Number(n), 100, []), val(Number(n), x)]),
  });
  // Quarters of 100: step 20 in the first, 40 the second, 60 the third, 80 and 100 the last (step 0 left out).
  const r = experimentResults([
    seeded('dense', 0, { 0: 7, 20: 6.0, 40: 5.6, 60: 5.3, 80: 5.1, 100: 5.0 }),
    seeded('e8', 0, { 0: 7.1, 20: 6.2, 40: 5.7, 60: 5.3, 80: 5.0, 100: 4.8 }),
    seeded('dense', 1, { 0: 7, 20: 5.8, 40: 5.5, 60: 5.2, 80: 5.0, 100: 4.9 }),
    seeded('e8', 1, { 0: 7.2, 20: 6.1, 40: 5.6, 60: 5.1, 80: 4.9, 100: 4.9 }),
  ]);
  assert.deepEqual(r.overTraining?.windows, [[20], [40], [60], [80, 100]]);
  assert.equal(r.overTraining?.baseline, 'dense');
  const [e8] = r.overTraining?.rows ?? [];
  // Seed 0: +0.2, +0.1, 0, (−0.1 − 0.2) / 2 = −0.15; seed 1: +0.3, +0.1, −0.1, (−0.1 + 0) / 2 = −0.05.
  const near = (a: number | undefined, b: number) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);
  near(e8.gaps[0]?.mean, 0.25);
  near(e8.gaps[2]?.min, -0.1);
  near(e8.gaps[3]?.mean, -0.1);
  near(e8.gaps[3]?.mean, r.entries?.[1].lateVsFirst?.mean ?? NaN);
  assert.deepEqual(overTrainingTable(r), {
    columns: ['entry − dense', 'step 20', 'step 40', 'step 60', 'steps 80–100 (2)'],
    rows: [['e8', '+0.250 [+0.200, +0.300]', '+0.100 [+0.100, +0.100]', '−0.050 [−0.100, +0.000]', '−0.100 [−0.150, −0.050]']],
  });
  assert.match(resultsMarkdown('t', r), /^## Over training\n\nValidation cross-entropy minus dense's, seed by seed,/m);

  // Runs without seeds: each run against the first; a diverged or pending run has no gap.
  assert.deepEqual(overTrainingTable(experimentResults(runs)), {
    columns: ['run − switch', 'step 2', 'step 4'],
    rows: [['dense', '+0.500', '+1.000'], ['unstable', '—', '—'], ['later', '—', '—']],
  });
  assert.equal(experimentResults([runs[0]]).overTraining, null, 'one run: nothing to compare');
});
