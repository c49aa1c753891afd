// pytorch_model.bin as torch.save writes it (PyTorch >= 1.6): a zip archive holding
// `<archive>/data.pkl`, a pickle of the state dict whose tensors point at storages by key, and one
// entry `<archive>/data/<key>` of raw little-endian bytes per storage. The zip is read with yauzl,
// the pickle with the restricted reader in pickle.ts.
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { readStateDict, type TensorRef } from './pickle';
import { CheckpointFormatError, DTYPE_BYTES, numel, toFloat32, type TensorSource } from './tensors';

export const TORCH_BIN_FILE = 'pytorch_model.bin';

export async function openTorchBin(path: string): Promise<TensorSource> {
  const fail = (why: string) => new CheckpointFormatError(TORCH_BIN_FILE, why);
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  } catch (err) {
    throw fail(`not a zip archive as torch.save writes it (${(err as Error).message})`);
  }
  try {
    const entries = new Map<string, yauzl.Entry>();
    for await (const entry of zip.eachEntry()) entries.set(entry.fileName, entry);
    const pickles = [...entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
    if (pickles.length !== 1) throw fail(`expected one <archive>/data.pkl, found ${pickles.length}`);
    const archive = pickles[0].slice(0, -'/data.pkl'.length);
    let refs: Map<string, TensorRef>;
    try {
      refs = readStateDict(await readEntry(zip, entries.get(pickles[0]) as yauzl.Entry));
    } catch (err) {
      throw fail((err as Error).message);
    }
    const storageEntry = (ref: TensorRef) => {
      const entry = entries.get(`${archive}/data/${ref.storage.key}`);
      if (!entry) throw fail(`storage ${ref.storage.key} is missing from the archive`);
      return entry;
    };
    for (const [name, ref] of refs) {
      const { shape, stride, offset, storage } = ref;
      if (shape.length !== stride.length || stride.some((s, i) => shape[i] > 1 && s !== numel(shape.slice(i + 1)))) {
        throw fail(`tensor ${name} is not contiguous (stride [${stride}] for shape [${shape}])`);
      }
      const bytes = storageEntry(ref).uncompressedSize;
      if (storage.numel * DTYPE_BYTES[storage.dtype] !== bytes) throw fail(`storage ${storage.key} holds ${bytes} bytes, not ${storage.numel} ${storage.dtype} values`);
      if (offset + numel(shape) > storage.numel) throw fail(`tensor ${name} [${shape}] at offset ${offset} overruns its storage of ${storage.numel}`);
    }
    return {
      tensors: new Map([...refs].map(([name, r]) => [name, { dtype: r.storage.dtype, shape: r.shape }])),
      read: async (name) => {
        const ref = refs.get(name);
        if (!ref) throw new Error(`no tensor ${name}`);
        const size = DTYPE_BYTES[ref.storage.dtype];
        const bytes = await readEntry(zip, storageEntry(ref));
        return toFloat32(bytes.subarray(ref.offset * size, (ref.offset + numel(ref.shape)) * size), ref.storage.dtype);
      },
      close: () => zip.close(),
    };
  } catch (err) {
    zip.close();
    throw err;
  }
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  const stream: Readable = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
