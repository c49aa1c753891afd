// Hand-written wasm modules (engine/wasm/*.wat) work on tensors in place in tfjs-backend-wasm's own
// heap: each is instantiated over the backend's memory (shared in the threaded build), once per heap.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmBackend } from '../kernels';

/** What these modules use of tfjs-backend-wasm's BackendWasm besides the row kernels' part: its memory, and freeing. */
export interface WasmHeapBackend extends WasmBackend {
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  disposeData(dataId: object): boolean;
}

/** A module's two builds, base64 (scripts/wat.mjs): for a plain heap and for a shared one. */
export interface WasmBinary {
  plain: string;
  shared: string;
}

const instances = new Map<WasmBinary, { memory: WebAssembly.Memory; exports: unknown }>();

/** The module's exports, instantiated over the backend's heap. */
export function inHeap<T>(binary: WasmBinary, backend: WasmHeapBackend): T {
  const memory = heapMemory(backend);
  let instance = instances.get(binary);
  if (instance?.memory !== memory) {
    const bytes = Buffer.from(isShared(memory) ? binary.shared : binary.plain, 'base64');
    instance = { memory, exports: new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports };
    instances.set(binary, instance);
  }
  return instance.exports as T;
}

/** The backend's heap. */
export function heapMemory(backend: WasmHeapBackend): WebAssembly.Memory {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!memory) throw new Error('tfjs-backend-wasm exposes no heap memory');
  return memory;
}

/** Whether the heap is shared between threads (tfjs-wasm's threaded build). */
export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** A tensor's byte offset in the heap. Read after every makeOutput, which may grow (and so move) the heap. */
export function heapOffset(backend: WasmBackend, t: TensorInfo): number {
  return backend.typedArrayFromHeap(t).byteOffset;
}
