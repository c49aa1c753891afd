// What the checkpoint readers share: a tensor's dtype and shape from a file's index, its values read
// on demand as float32 (so that checking a checkpoint's layout reads no data), and one error type.

/** The dtypes a Switch checkpoint holds (safetensors' names); anything else is refused. */
export const DTYPES = ['F32', 'F16', 'BF16'] as const;
export type Dtype = (typeof DTYPES)[number];
export const DTYPE_BYTES: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
}

/** The tensors of a checkpoint: their index, and their values read one at a time. */
export interface TensorSource {
  readonly tensors: Map<string, TensorInfo>;
  /** Row-major float32 values of one tensor. */
  read(name: string): Promise<Float32Array>;
  close(): void;
}

/**
 * Progress of a long import or export: `done` of `total` steps (tensors, then the write). The reader
 * awaits the event loop between tensors, so that a server's sockets carry the reports as they come.
 */
export type ProgressFn = (done: number, total: number, message: string) => void;

export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class CheckpointFormatError extends Error {
  constructor(file: string, why: string) {
    super(`${file}: ${why}`);
    this.name = 'CheckpointFormatError';
  }
}

export const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Little-endian bytes of `dtype` -> float32 values. */
export function toFloat32(bytes: Uint8Array, dtype: Dtype): Float32Array {
  const n = bytes.length / DTYPE_BYTES[dtype];
  // Copy into an aligned buffer first: a tensor's bytes may start at any offset in a file.
  const aligned = new Uint8Array(bytes.length);
  aligned.set(bytes);
  if (dtype === 'F32') return new Float32Array(aligned.buffer);
  const half = new Uint16Array(aligned.buffer);
  const out = new Float32Array(n);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = half[i] << 16; // bfloat16 is float32's top 16 bits
  } else {
    for (let i = 0; i < n; i++) out[i] = f16ToF32(half[i]);
  }
  return out;
}

/** IEEE 754 binary16 -> number (subnormals, infinities and NaN included). */
function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
