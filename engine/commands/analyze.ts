// `switchyard analyze`: what a run's experts learned and what capacity would change (see
// analysis/analyzeRun.ts), as tables or as JSON.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Analysis } from '../analysis/analysisSchema';
import { analyzeRun } from '../analysis/analyzeRun';
import { WHAT_IF_RULES } from '../analysis/capacityWhatIf';
import { describeRouterInput } from '../analysis/routerInput';
import { initBackend } from '../backend';
import { listCheckpoints } from '../train/checkpoint';
import { findRun } from '../train/runStore';
import { backendOption, requiredOption, UsageError } from './args';

export const ANALYZE_USAGE = `analyze --run RUN|PATH [--checkpoint STEP] [--json] [--runs DIR] [--backend ...]`;

export async function analyze(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { run: { type: 'string' }, checkpoint: { type: 'string' }, json: { type: 'boolean', default: false }, runs: { type: 'string', default: 'runs' }, backend: { type: 'string' } },
    strict: true,
  });
  const run = findRun(resolve(values.runs), requiredOption('run', values.run));
  const steps = listCheckpoints(run.checkpoints);
  const step = values.checkpoint === undefined ? undefined : Number(values.checkpoint);
  if (step !== undefined && !steps.includes(step)) throw new UsageError(`--checkpoint ${values.checkpoint}: run ${run.id} keeps checkpoints at steps ${steps.join(', ') || '(none)'}`);
  await initBackend(backendOption(values.backend));
  const result = await analyzeRun(run, step);
  console.log(values.json ? JSON.stringify(result) : formatAnalysis(result));
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function formatAnalysis(a: Analysis): string {
  const text = (id: number) => JSON.stringify(a.tokenTexts[id] ?? `#${id}`);
  const out = [`run ${a.run} (${a.router} router, eval capacity factor ${a.evalCapacityFactor}) at checkpoint step ${a.step}, ${a.validationBatches} validation batches (eval mode)`];
  for (const l of a.layers) {
    const s = l.specialisation;
    out.push('', `## ${l.layer}: ${l.tokens} tokens, ${pct(l.droppedShare)} dropped; NMI(expert; ${s.labels.includes('NOUN') ? 'part-of-speech tag' : 'token class'}) = ${s.nmi.toFixed(3)}`);
    out.push('expert  tokens  dominant          top by count                         top by lift');
    for (const e of s.experts) {
      const dominant = e.dominantLabel ? `${e.dominantLabel} ${pct(Math.max(...e.labelShares))}` : '–';
      const byCount = e.topByCount.map((t) => `${text(t.tokenId)}×${t.count}`).join(' ');
      const byLift = e.topByLift.map((t) => `${text(t.tokenId)} ${t.lift.toFixed(1)}`).join(' ');
      out.push(`${String(e.expert).padStart(6)}  ${String(e.tokens).padStart(6)}  ${dominant.padEnd(16)}  ${byCount.padEnd(35)}  ${byLift}`);
    }
    out.push(`load before → after capacity (first choice → kept): ${l.load.routed.map((r, e) => `E${e} ${r} → ${l.load.kept[e]}`).join(', ')}`);
    out.push(`overflow by position: ${l.dropPosition.map((p) => `${p.from}+ ${pct(p.rate)}`).join(', ')}`);
    for (const rule of WHAT_IF_RULES) out.push(`capacity what-if, ${rule} (dropped): ${l.whatIf.filter((p) => p.rule === rule).map((p) => `×${p.capacityFactor} ${pct(p.droppedShare)}`).join(', ')}`);
    if (l.routerInput) out.push(describeRouterInput(l.routerInput));
  }
  out.push('', `validation cross-entropy at eval capacity factor: ${a.lossAtFactor.map((p) => `×${p.capacityFactor} ${p.crossEntropy.toFixed(3)}`).join(', ')}`);
  if (a.stability.length) {
    out.push('', 'routing change between kept checkpoints (share of validation tokens whose expert changed):');
    for (const s of a.stability) out.push(`  ${s.from} → ${s.to}: ${Object.entries(s.changed).map(([layer, c]) => `${layer} ${pct(c)}`).join(', ')}`);
  } else {
    out.push('', 'routing change: one checkpoint only');
  }
  return out.join('\n');
}
