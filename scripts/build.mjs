// Bundles the engine (CLI + server) and, later, the extension and webviews with esbuild.
// The wasm backend's binaries are copied beside the bundle so that backend.ts finds them there.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const outdir = 'dist';
mkdirSync(outdir, { recursive: true });

const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  copyFileSync(join(wasmDir, f), join(outdir, f));
}

await build({
  entryPoints: { engine: 'engine/cli.ts' },
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  // Native and optional: loaded at run time only when the user installed it.
  external: ['@tensorflow/tfjs-node'],
  // tfjs backends register themselves on import; their package.json sideEffects lists would let
  // esbuild drop those imports.
  ignoreAnnotations: true,
  logLevel: 'warning',
});
