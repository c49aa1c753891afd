// Timings that unit tests used to assert (a timed unit test on a shared machine is a flaky test, not
// a benchmark): training the tokenizer on the Brown corpus, and appending steps to the dashboard's
// run history (under its cap, and past it where older rows are thinned).
import { loadBrown } from '../data/brown';
import { trainTokenizer } from '../data/bpeTrainer';
import type { StepEventData } from '../protocol';
import { DEFAULT_CAP, RunHistory } from '../../webview/dashboard/history';

function seconds<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const out = f();
  return [out, (performance.now() - t0) / 1000];
}

/** A step record without layers: what every append costs, whatever the model. */
const stepRecord = (n: number): StepEventData => ({
  type: 'step',
  step: n,
  time: n * 1000,
  tokens: 64,
  tokensPerSecond: 1000,
  learningRate: 1e-3,
  loss: 10 - n * 1e-4,
  crossEntropy: 9 - n * 1e-4,
  auxLoss: 1,
  zLoss: 0.1,
  gradNorm: 1,
  layers: [],
});

function appendSteps(n: number): number {
  const h = new RunHistory({ id: 'bench', preset: 'tiny', router: 'switch', numExperts: 4, layers: [], active: true });
  const records = Array.from({ length: n }, (_, i) => stepRecord(i + 1));
  return seconds(() => records.forEach((r) => h.addStep(r)))[1];
}

export function benchTimings(): string {
  const texts = loadBrown().map((d) => d.text);
  const [tokenizer, tokenizerS] = seconds(() => trainTokenizer(texts, { vocabSize: 8192 }));
  const rows = [
    `| train the tokenizer: ${tokenizer.vocabSize} tokens on the Brown corpus (${texts.length} documents) | ${tokenizerS.toFixed(1)} s |`,
    ...[10_000, 4 * DEFAULT_CAP].map((n) => `| append ${n.toLocaleString('en')} steps to a run history (cap ${DEFAULT_CAP.toLocaleString('en')}) | ${(1000 * appendSteps(n)).toFixed(0)} ms |`),
  ];
  return ['| what | time |', '|---|---|', ...rows].join('\n');
}
