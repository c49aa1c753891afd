// BatchMatMul for batched float32 inputs on tfjs-backend-wasm: the SIMD loop of batchMatMul.wat, run
// in place in the backend's heap, instead of tfjs-wasm 4.22's scalar loop (about ten times slower
// than its 2-D XNNPACK path at equal FLOPs). Attention's per-head products are all batched.
// A transposed A costs nothing (bmm reads A one value at a time, by strides); a transposed B is
// transposed first, by the same module (tfjs-wasm's Transpose of a 4-D tensor is slower than the product).
// Broadcast batch dimensions and 2-D products go to the original kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs, WasmBackend } from '../kernels';
import { BATCH_MAT_MUL_WASM } from './batchMatMulBinary';

/** What this kernel uses of tfjs-backend-wasm's BackendWasm besides the row kernels' part: its memory, and freeing. */
interface WasmHeapBackend extends WasmBackend {
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  disposeData(dataId: object): boolean;
}

/** Byte offsets into the heap, then sizes (see batchMatMul.wat). */
interface Kernels {
  bmm(a: number, b: number, c: number, batch: number, m: number, k: number, n: number, transposeA: number): void;
  transpose(src: number, dst: number, batch: number, rows: number, cols: number): void;
}

let instance: { memory: WebAssembly.Memory; kernels: Kernels } | null = null;

/** The kernel instantiated over the backend's heap (shared in the threaded build), once per heap. */
function kernelsFor(backend: WasmHeapBackend): Kernels {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!memory) throw new Error('BatchMatMul: tfjs-backend-wasm exposes no heap memory');
  if (instance?.memory !== memory) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = Buffer.from(shared ? BATCH_MAT_MUL_WASM.shared : BATCH_MAT_MUL_WASM.plain, 'base64');
    const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as Kernels;
    instance = { memory, kernels };
  }
  return instance.kernels;
}

export function batchMatMul(args: KernelArgs, original: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const rank = a.shape.length;
  const batchShape = a.shape.slice(0, -2);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || rank < 3 || b.shape.length !== rank || batchShape.some((d, i) => d !== b.shape[i])) {
    return original(args);
  }
  const backend = args.backend as unknown as WasmHeapBackend;
  const [m, k] = transposeA ? [a.shape[rank - 1], a.shape[rank - 2]] : a.shape.slice(-2);
  const n = transposeB ? b.shape[rank - 2] : b.shape[rank - 1];
  const batch = batchShape.reduce((x, d) => x * d, 1);
  const out = backend.makeOutput([...batchShape, m, n], 'float32');
  const rowMajorB = transposeB ? backend.makeOutput([...batchShape, k, n], 'float32') : b; // [..., K, N]
  if (batch * m * n > 0) {
    // Offsets are read after makeOutput, which may grow the heap (they stay valid; views would not).
    const at = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t).byteOffset;
    const kernels = kernelsFor(backend);
    if (transposeB) kernels.transpose(at(b), at(rowMajorB), batch, n, k);
    kernels.bmm(at(a), at(rowMajorB), at(out), batch, m, k, n, transposeA ? 1 : 0);
  }
  if (rowMajorB !== b) backend.disposeData(rowMajorB.dataId);
  return out;
}
