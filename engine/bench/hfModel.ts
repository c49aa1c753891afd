// Load time, memory and latency of an imported HF model (README's switch-base-8 figures):
//   node --import tsx engine/bench/hfModel.ts RUN_PATH [--backend wasm|cpu] [--tokens 128] [--max-new 32]
// In one process: the encoder-only load and a routing-only request (what routing needs), then the
// decoder's lazy load (what fills need) and a fill of --max-new greedy tokens (0: none); peak RSS after each.
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
  const peakRss = () => gib(process.resourceUsage().maxRSS * 1024);
  let t = performance.now();
  // An imported run loads its encoder (and the shared embedding) only; the decoder on first use.
  const { model, tokenizer } = loadRunModel(new RunDir(dirname(path), basename(path)));
  const encoderLoadMs = performance.now() - t;
  const encoderTensors = gib(tf.memory().numBytes);
  // A selection of exactly `tokens` encoder tokens, </s> included.
  const words = 'The old dog walks into a bar and the cat sat on the mat'.split(' ');
  let prefix = 'The';
  const selection = () => `${prefix} <extra_id_0>.`;
  for (let i = 1; tokenizer.encode(selection()).ids.length + 1 < Number(values.tokens); i++) prefix += ` ${words[i % words.length]}`;
  const text = selection();
  t = performance.now();
  const r = infer(model, tokenizer, text, 0); // the routing of every encoder token, no decoding
  const routeMs = performance.now() - t;
  const encoderPeakRss = peakRss();
  t = performance.now();
  model.loadDecoder();
  const decoderLoadMs = performance.now() - t;
  const fullTensors = gib(tf.memory().numBytes);
  const fullPeakRss = peakRss();
  const maxNew = Number(values['max-new']);
  t = performance.now();
  const full = maxNew ? infer(model, tokenizer, text, maxNew) : null;
  const fillMs = performance.now() - t;
  console.log(
    JSON.stringify({
      backend: backend.name,
      parameters: model.params.count(),
      encoderLoadSeconds: seconds(encoderLoadMs),
      encoderTensorMemory: encoderTensors,
      encoderTokens: r.tokens.length + 1,
      routeSeconds: seconds(routeMs),
      encoderPeakRss,
      decoderLoadSeconds: seconds(decoderLoadMs),
      fullTensorMemory: fullTensors,
      fullPeakRssBeforeFill: fullPeakRss,
      ...(full ? { generatedTokens: tokenizer.encode(full.output).ids.length, fillSeconds: seconds(fillMs), peakRss: peakRss() } : {}),
    }),
  );
  model.dispose();
}

const seconds = (ms: number) => +(ms / 1000).toFixed(2);

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
