// `switchyard infer`: routes a text through a trained run and prints each token's expert per sparse
// layer and the model's fill for each sentinel (--json for the whole result as JSON).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../backend';
import { infer as runInference, type Inference } from '../infer';
import { findRun } from '../train/runStore';
import { loadRunModel } from '../train/runModel';
import { backendOption, positiveIntOption, requiredOption } from './args';

export const INFER_USAGE = `infer --run RUN|PATH --text TEXT [--json] [--max-tokens N] [--runs DIR] [--backend ...]`;

export async function infer(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      run: { type: 'string' },
      text: { type: 'string' },
      json: { type: 'boolean', default: false },
      'max-tokens': { type: 'string' },
      runs: { type: 'string', default: 'runs' },
      backend: { type: 'string' },
    },
    strict: true,
  });
  const ref = requiredOption('run', values.run);
  const text = requiredOption('text', values.text);
  const maxTokens = positiveIntOption('max-tokens', values['max-tokens']) ?? 32;
  const backendChoice = backendOption(values.backend);
  const run = findRun(resolve(values.runs), ref);
  await initBackend(backendChoice);
  const { model, tokenizer, step } = loadRunModel(run);
  const result = runInference(model, tokenizer, text, maxTokens);
  model.dispose();
  console.log(values.json ? JSON.stringify({ run: run.id, step, ...result }) : formatResult(run.id, step, result));
}

function formatResult(id: string, step: number, r: Inference): string {
  const lines = [`run ${id} at step ${step}`];
  lines.push(r.fills.length ? 'sentinel fills:' : `output: ${JSON.stringify(r.output)}`);
  for (const f of r.fills) lines.push(`  <extra_id_${f.sentinel}> → ${f.text === null ? '(no fill)' : JSON.stringify(f.text)}`);
  const width = Math.min(24, Math.max(8, ...r.tokens.map((t) => JSON.stringify(t.text).length)));
  lines.push('', ['token'.padEnd(width), ...r.layers.map((l) => l.layer)].join('  '));
  r.tokens.forEach((t, i) => {
    const cells = r.layers.map((l) => {
      const x = l.tokens[i];
      return `expert ${String(x.expert).padStart(2)} p=${x.prob.toFixed(3)}${x.dropped ? ' DROPPED' : ''}`.padEnd(l.layer.length);
    });
    lines.push([JSON.stringify(t.text).padEnd(width), ...cells].join('  '));
  });
  return lines.join('\n');
}
