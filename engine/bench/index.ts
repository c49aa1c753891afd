// `npm run bench`: the Switch layer on the active backend, as ratios measured in one run (this
// machine is shared and noisy, so absolute times mean little), then the PyTorch peer at the same
// sizes when Debian's torch is installed. Prints a Markdown report; `--json FILE` also saves records.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_CHOICES, backendLabel, initBackend, type BackendChoice } from '../backend';
import { benchEvents } from './events';
import { simdPeakFlops } from './simdPeak';
import { benchTimings } from './timings';
import { matmulFlops, timeLayers, type Impl, type LayerSize, type PhaseTimes } from './switchLayer';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    peer: { type: 'string', default: join(__dirname, '..', '..', '..', 'shared', 'peers', 'torch_switch_bench.py') },
  },
});

const sizes: LayerSize[] = [];
for (const tokens of args.quick ? [512] : [512, 2048]) {
  for (const dModel of [128, 256]) for (const numExperts of [8, 32]) sizes.push({ tokens, dModel, numExperts });
}
const iters = (impl: Impl, s: LayerSize) => (impl === 'switch-onehot' ? (s.tokens > 512 ? 2 : 3) : args.quick ? 3 : 8);

const fmt = (x: number, digits = 2) => x.toFixed(digits);
const key = (s: LayerSize) => `${s.tokens}/${s.dModel}/${s.numExperts}`;

async function main(): Promise<void> {
  const choice = args.backend as BackendChoice;
  if (!BACKEND_CHOICES.includes(choice)) throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(', ')}`);
  const backend = await initBackend(choice);
  console.log(`# Switchyard benchmark\n\nbackend: ${backendLabel(backend)}; node ${process.version}; ${new Date().toISOString()}\n`);

  const ceiling = matmulFlops(2048, 256, 1024);
  console.log(`Dense 2-D matmul ceiling ([2048,256] @ [256,1024]): ${fmt(ceiling / 1e9, 1)} GFLOP/s`);
  console.log(`wasm SIMD arithmetic peak (f32x4 multiply + add in registers, one thread): ${fmt((await simdPeakFlops()) / 1e9, 1)} GFLOP/s\n`);

  const results = new Map<string, Record<Impl, PhaseTimes>>();
  console.log('| T | dModel | E | switch step ms | one-hot step ms | one-hot / switch | switch / dense fwd+bwd | switch / dense Adam | switch FLOP/s / ceiling | dense FLOP/s / ceiling | dropped |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of sizes) {
    const r = timeLayers(s, { switch: iters('switch', s), dense: iters('dense', s), 'switch-onehot': iters('switch-onehot', s) });
    results.set(key(s), r);
    const fraction = (p: PhaseTimes) => `${fmt((100 * p.flops) / (p.fwdBwd / 1e3) / ceiling, 0)}%`;
    console.log(
      `| ${s.tokens} | ${s.dModel} | ${s.numExperts} | ${fmt(r.switch.step, 1)} | ${fmt(r['switch-onehot'].step, 1)} | ${fmt(r['switch-onehot'].step / r.switch.step, 1)}x | ` +
        `${fmt(r.switch.fwdBwd / r.dense.fwdBwd)}x | ${fmt(r.switch.adam / r.dense.adam, 1)}x | ${fraction(r.switch)} | ${fraction(r.dense)} | ${fmt(100 * r.switch.droppedFraction, 1)}% |`,
    );
  }

  const peer = runPeer(sizes);
  if (peer.records) {
    console.log(`\n## Against the PyTorch peer (${peer.meta})\n`);
    console.log('| T | dModel | E | engine switch step ms | torch switch step ms | engine / torch | engine dense ms | torch dense ms | engine / torch (dense) |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const s of sizes) {
      const r = results.get(key(s)) as Record<Impl, PhaseTimes>;
      const ts = peer.records.get(`torch-switch/${key(s)}`);
      const td = peer.records.get(`torch-dense/${key(s)}`);
      if (!ts || !td) continue;
      console.log(
        `| ${s.tokens} | ${s.dModel} | ${s.numExperts} | ${fmt(r.switch.step, 1)} | ${fmt(ts, 1)} | ${fmt(r.switch.step / ts)}x | ${fmt(r.dense.step, 1)} | ${fmt(td, 1)} | ${fmt(r.dense.step / td)}x |`,
      );
    }
  } else {
    console.log(`\nPyTorch peer: not run (${peer.why}).`);
  }

  console.log(`\n## Tokenizer and run history\n\n${benchTimings()}`);

  // The engine's event stream, in engine processes of its own (dist/engine.js serve).
  console.log(`\n## Engine events\n\n${await benchEvents()}`);

  if (args.json) writeFileSync(args.json, JSON.stringify({ backend, ceiling, results: Object.fromEntries(results), peer: peer.records ? Object.fromEntries(peer.records) : null }, null, 2));
}

/** Runs the peer script with Debian's python, one configuration set, after our timings (never at once). */
function runPeer(s: LayerSize[]): { records?: Map<string, number>; meta?: string; why?: string } {
  const python = '/usr/bin/python3';
  if (!existsSync(args.peer)) return { why: `${args.peer} not found` };
  if (!existsSync(python)) return { why: `${python} not found` };
  const tokens = [...new Set(s.map((x) => x.tokens))].map(String);
  const res = spawnSync(python, [args.peer, '--impls', 'torch-dense', 'torch-switch', '--T', ...tokens, '--d', '128', '256', '--E', '8', '32'], {
    encoding: 'utf8',
    timeout: 20 * 60 * 1000,
  });
  if (res.status !== 0) return { why: `exit ${res.status}: ${(res.stderr || String(res.error)).trim().split('\n').pop()}` };
  const records = new Map<string, number>();
  let meta = '';
  for (const line of res.stdout.split('\n')) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as { impl?: string; T?: number; d?: number; E?: number; ms_median?: number; torch?: string; threads?: number };
    if (rec.torch) meta = `torch ${rec.torch}, ${rec.threads} threads`;
    if (rec.impl && rec.ms_median !== undefined) records.set(`${rec.impl}/${rec.T}/${rec.d}/${rec.E}`, rec.ms_median);
  }
  return { records, meta: `${meta}, ${blasLibrary()}` };
}

/**
 * Debian's torch calls whichever BLAS the libblas.so.3 alternative points to: the reference BLAS
 * (installed with python3-torch) runs the peer about 10× slower than OpenBLAS (libopenblas0-pthread).
 */
function blasLibrary(): string {
  const link = '/usr/lib/x86_64-linux-gnu/libblas.so.3';
  if (!existsSync(link)) return 'BLAS unknown';
  const target = realpathSync(link);
  return `BLAS ${target.includes('openblas') ? 'OpenBLAS' : 'not OpenBLAS: the peer is slow, install libopenblas0-pthread'} (${target})`;
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
