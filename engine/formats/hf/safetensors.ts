// A checked safetensors reader: 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and [begin, end) byte offsets in the data that follows, then the raw
// little-endian data. A sharded checkpoint lists which file holds each tensor in
// model.safetensors.index.json. Every header is checked whole before any tensor is read.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckpointFormatError, DTYPE_BYTES, DTYPES, numel, toFloat32, type Dtype, type TensorInfo, type TensorSource } from './tensors';

export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX = 'model.safetensors.index.json';
// The format's own limit on the header, which also bounds what a corrupt length can make us read.
const MAX_HEADER_BYTES = 100_000_000;

interface Entry extends TensorInfo {
  /** Absolute byte offsets in the file. */
  begin: number;
  end: number;
}

/** One safetensors file, its header checked whole; tensors are read one at a time. */
export interface SafetensorsFile {
  readonly tensors: Map<string, TensorInfo>;
  readSync(name: string): Float32Array;
  close(): void;
}

export function openSafetensorsFile(path: string): SafetensorsFile {
  const fd = openSync(path, 'r');
  let entries: Map<string, Entry>;
  try {
    entries = readHeader(basename(path), fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return {
    tensors: entries,
    readSync: (name) => {
      const e = entries.get(name);
      if (!e) throw new Error(`no tensor ${name} in ${path}`);
      const bytes = Buffer.alloc(e.end - e.begin);
      readSync(fd, bytes, 0, bytes.length, e.begin);
      return toFloat32(bytes, e.dtype);
    },
    close: () => closeSync(fd),
  };
}

/** The safetensors checkpoint in `dir`: model.safetensors, or the shards its index names. */
export function openSafetensors(dir: string): TensorSource {
  const indexPath = join(dir, SAFETENSORS_INDEX);
  const files: SafetensorsFile[] = [];
  const fileOf = new Map<string, SafetensorsFile>();
  const tensors = new Map<string, TensorInfo>();
  try {
    for (const name of existsSync(indexPath) ? shardFiles(indexPath) : [SAFETENSORS_FILE]) {
      const file = openSafetensorsFile(join(dir, name));
      files.push(file);
      for (const [tensor, info] of file.tensors) {
        if (tensors.has(tensor)) throw new CheckpointFormatError(name, `tensor ${tensor} is also in another shard`);
        tensors.set(tensor, info);
        fileOf.set(tensor, file);
      }
    }
  } catch (err) {
    files.forEach((f) => f.close());
    throw err;
  }
  return {
    tensors,
    read: async (name) => {
      const file = fileOf.get(name);
      if (!file) throw new Error(`no tensor ${name}`);
      return file.readSync(name);
    },
    close: () => files.forEach((f) => f.close()),
  };
}

/** The shard files an index names (each once), checked to be plain names in the same folder. */
function shardFiles(indexPath: string): string[] {
  const file = basename(indexPath);
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (err) {
    throw new CheckpointFormatError(file, `not valid JSON (${(err as Error).message})`);
  }
  const map = (index as { weight_map?: unknown })?.weight_map;
  if (typeof map !== 'object' || map === null) throw new CheckpointFormatError(file, 'has no weight_map');
  const shards = new Set(Object.values(map));
  for (const s of shards) {
    if (typeof s !== 'string' || !/^[\w.-]+\.safetensors$/.test(s)) throw new CheckpointFormatError(file, `names a bad shard file ${JSON.stringify(s)}`);
  }
  return [...shards] as string[];
}

function readHeader(file: string, fd: number): Map<string, Entry> {
  const size = fstatSync(fd).size;
  const fail = (why: string) => new CheckpointFormatError(file, why);
  if (size < 8) throw fail(`${size} bytes: too short for a safetensors header`);
  const lengthBytes = Buffer.alloc(8);
  readSync(fd, lengthBytes, 0, 8, 0);
  const headerLength = Number(lengthBytes.readBigUInt64LE(0));
  if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) throw fail(`header length ${headerLength} is not plausible (not a safetensors file?)`);
  if (8 + headerLength > size) throw fail(`truncated: the header needs ${headerLength} bytes, the file has ${size - 8} after its length`);
  const headerBytes = Buffer.alloc(headerLength);
  readSync(fd, headerBytes, 0, headerLength, 8);
  let header: unknown;
  try {
    header = JSON.parse(headerBytes.toString('utf8'));
  } catch (err) {
    throw fail(`bad header: not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw fail('bad header: not a JSON object');

  const dataStart = 8 + headerLength;
  const dataSize = size - dataStart;
  const entries = new Map<string, Entry>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (raw ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!DTYPES.includes(dtype as Dtype)) throw fail(`tensor ${name} has dtype ${JSON.stringify(dtype)}; supported: ${DTYPES.join(', ')}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw fail(`tensor ${name} has a bad shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw fail(`tensor ${name} has bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const want = numel(shape) * DTYPE_BYTES[dtype as Dtype];
    if (end - begin !== want) throw fail(`tensor ${name} spans ${end - begin} bytes; ${dtype} [${shape}] needs ${want}`);
    if (end > dataSize) throw fail(`truncated: tensor ${name} ends at data byte ${end}, the file has ${dataSize}`);
    entries.set(name, { dtype: dtype as Dtype, shape, begin: dataStart + begin, end: dataStart + end });
  }
  const spans = [...entries].sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][1].begin < spans[i - 1][1].end) throw fail(`tensors ${spans[i - 1][0]} and ${spans[i][0]} overlap`);
  }
  return entries;
}

/** Writes float32 tensors as one safetensors file (the header padded with spaces to 8 bytes, as HF does). */
export function writeSafetensors(path: string, tensors: Map<string, { shape: number[]; values: Float32Array }>): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.values.byteLength] };
    offset += t.values.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, length);
    writeSync(fd, json);
    for (const t of tensors.values()) writeSync(fd, new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength));
  } finally {
    closeSync(fd);
  }
}
