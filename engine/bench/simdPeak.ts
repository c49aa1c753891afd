// The most a wasm SIMD kernel can compute on one thread here: eight independent f32x4 multiply-adds
// per loop iteration, all in registers (wasm SIMD has no fused multiply-add), no memory traffic. A
// matmul in wasm stays below this; OpenBLAS's AVX2 FMA kernels, which the PyTorch peer calls, are not.
import initWabt from 'wabt';

const LANES = 8;

function peakModuleText(): string {
  const accumulators = Array.from({ length: LANES }, (_, i) => `(local $a${i} v128)`).join(' ');
  const init = Array.from({ length: LANES }, (_, i) => `(local.set $a${i} (f32x4.splat (f32.const ${i + 1})))`).join('\n');
  const body = Array.from({ length: LANES }, (_, i) => `(local.set $a${i} (f32x4.add (local.get $a${i}) (f32x4.mul (local.get $a${i}) (local.get $b))))`).join('\n');
  // The sum of the accumulators is returned so the loop is not dead code.
  let sum = '(local.get $a0)';
  for (let i = 1; i < LANES; i++) sum = `(f32x4.add ${sum} (local.get $a${i}))`;
  return `(module (func (export "run") (param $n i32) (result f32) (local $b v128) ${accumulators}
    (local.set $b (f32x4.splat (f32.const 0.999999)))
    ${init}
    (block $done (loop $next (br_if $done (i32.eqz (local.get $n)))
      ${body}
      (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $next)))
    (f32x4.extract_lane 0 ${sum})))`;
}

/** FLOP/s of the loop on this thread: best of five runs of 2·10⁹ FLOPs (a multiply and an add count two). */
export async function simdPeakFlops(): Promise<number> {
  const wabt = await initWabt();
  const module = wabt.parseWat('simdPeak.wat', peakModuleText(), { simd: true });
  const bytes = new Uint8Array(module.toBinary({}).buffer);
  module.destroy();
  const { run } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as { run(n: number): number };
  const flopsPerIteration = LANES * 4 * 2;
  const iterations = Math.round(2e9 / flopsPerIteration);
  run(iterations / 10); // compiled by V8's optimising tier before timing
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    run(iterations);
    best = Math.min(best, performance.now() - start);
  }
  return (iterations * flopsPerIteration) / (best / 1000);
}
