// Faster wasm kernels for the row moves that expert dispatch makes. tfjs-backend-wasm 4.22's Slice
// (and so SplitV) copies its whole input out of the wasm heap for every slice, and its GatherV2 is an
// element-by-element loop; these read the heap in place and move whole rows with TypedArray.set.
// Cases they do not cover go to the original kernels. A clone shares its input's values. Batched
// matmuls and transposes of the last two axes: wasm/batchMatMul.ts and wasm/transpose.ts.
import * as tf from '@tensorflow/tfjs-core';
import { batchMatMul } from './wasm/batchMatMul';
import { transpose } from './wasm/transpose';

/** What these kernels use of tfjs-backend-wasm's BackendWasm. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
  readSync(dataId: unknown): tf.TypedArray;
  incRef(dataId: unknown): void;
}

export type KernelArgs = Parameters<tf.KernelFunc>[0];

const numeric = (t: tf.TensorInfo) => t.dtype === 'float32' || t.dtype === 'int32';

/** Rows [begin, begin + size) of a row-major tensor whose other dimensions are taken whole. */
function sliceRows(b: WasmBackend, x: tf.TensorInfo, begin: number, size: number): tf.TensorInfo {
  const rowSize = x.shape.slice(1).reduce((a, c) => a * c, 1);
  const out = b.makeOutput([size, ...x.shape.slice(1)], x.dtype);
  // Views are taken after makeOutput, which may grow (and so move) the heap.
  const src = b.typedArrayFromHeap(x);
  b.typedArrayFromHeap(out).set(src.subarray(begin * rowSize, (begin + size) * rowSize));
  return out;
}

function wholeRows(x: tf.TensorInfo, begin: number[], size: number[]): boolean {
  return x.shape.every((dim, i) => i === 0 || (begin[i] === 0 && (size[i] === -1 || size[i] === dim)));
}

let registered = false;

export function registerFastWasmKernels(): void {
  if (registered) return;
  registered = true;
  const override = (name: string, fast: (args: KernelArgs, original: tf.KernelFunc) => tf.TensorInfo | tf.TensorInfo[]) => {
    const config = tf.getKernel(name, 'wasm');
    if (!config) return;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...config, kernelFunc: (args) => fast(args, config.kernelFunc) });
  };

  override(tf.Slice, (args, original) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    if (!numeric(x) || x.shape.length === 0 || !wholeRows(x, b, s)) return original(args);
    return sliceRows(args.backend as WasmBackend, x, b[0], s[0]);
  });

  override(tf.SplitV, (args, original) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
    if (!numeric(x) || tf.util.parseAxisParam(axis, x.shape)[0] !== 0) return original(args);
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, 0);
    let begin = 0;
    return sizes.map((s) => {
      const part = sliceRows(args.backend as WasmBackend, x, begin, s);
      begin += s;
      return part;
    });
  });

  override(tf.GatherV2, (args, original) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
    if (!numeric(x) || x.shape.length < 1 || (batchDims ?? 0) !== 0 || tf.util.parseAxisParam(axis, x.shape)[0] !== 0) {
      return original(args);
    }
    const b = args.backend as WasmBackend;
    const idx = b.readSync(indices.dataId); // small: one index per row
    const rows = x.shape[0];
    for (const i of idx) if (i < 0 || i >= rows) throw new Error(`GatherV2: the index value ${i} is not in [0, ${rows - 1}]`);
    const rowSize = x.shape.slice(1).reduce((a, c) => a * c, 1);
    const out = b.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    const src = b.typedArrayFromHeap(x);
    const dst = b.typedArrayFromHeap(out);
    for (let r = 0; r < idx.length; r++) dst.set(src.subarray(idx[r] * rowSize, (idx[r] + 1) * rowSize), r * rowSize);
    return out;
  });

  // tfjs clones each input that an op keeps for its gradient, and tfjs-wasm's Identity copies the
  // values (~4% of a training step on tiny). No kernel here or in tfjs-wasm writes a tensor in place
  // (Adam's step makes a new one), so a clone shares its input's values, as Reshape's output does.
  override(tf.Identity, (args, original) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  override(tf.BatchMatMul, batchMatMul);
  override(tf.Transpose, transpose);
}
