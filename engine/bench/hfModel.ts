// Load time, memory and latency of an imported HF model (README's switch-base-8 figures):
//   node --import tsx engine/bench/hfModel.ts RUN_PATH [--backend wasm|cpu] [--tokens 128] [--max-new 32]
import * as tf from '@tensorflow/tfjs-core';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../backend';
import { backendOption } from '../commands/args';
import { infer } from '../infer';
import { loadRunModel } from '../train/runModel';
import { RunDir } from '../train/runStore';

const { values, positionals } = parseArgs({
  options: { backend: { type: 'string', default: 'wasm' }, tokens: { type: 'string', default: '128' }, 'max-new': { type: 'string', default: '32' } },
  allowPositionals: true,
});
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

async function main(): Promise<void> {
  const backend = await initBackend(backendOption(values.backend));
  const path = positionals[0];
  let t = performance.now();
  const { model, tokenizer } = loadRunModel(new RunDir(dirname(path), basename(path)));
  const loadMs = performance.now() - t;
  const tensorBytes = tf.memory().numBytes;
  // A selection of exactly `tokens` encoder tokens, </s> included.
  const words = 'The old dog walks into a bar and the cat sat on the mat'.split(' ');
  let prefix = 'The';
  const selection = () => `${prefix} <extra_id_0>.`;
  for (let i = 1; tokenizer.encode(selection()).ids.length + 1 < Number(values.tokens); i++) prefix += ` ${words[i % words.length]}`;
  const text = selection();
  t = performance.now();
  const r = infer(model, tokenizer, text, 1); // the routing of every encoder token, one decoder step
  const routeMs = performance.now() - t;
  t = performance.now();
  const full = infer(model, tokenizer, text, Number(values['max-new']));
  const fillMs = performance.now() - t;
  console.log(
    JSON.stringify({
      backend: backend.name,
      parameters: model.params.count(),
      loadSeconds: +(loadMs / 1000).toFixed(1),
      tensorMemory: gib(tensorBytes),
      encoderTokens: r.tokens.length + 1,
      routeSeconds: +(routeMs / 1000).toFixed(2),
      generatedTokens: tokenizer.encode(full.output).ids.length,
      fillSeconds: +(fillMs / 1000).toFixed(2),
      peakRss: gib(process.resourceUsage().maxRSS * 1024),
    }),
  );
  model.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
