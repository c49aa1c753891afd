// Checkpoints: checkpoints/step-N/ holds weights.bin and optimizer.bin (float32, little-endian),
// state.json (step, data cursor, anything the trainer needs to continue exactly) and manifest.json,
// written last, which lists every tensor and every file's size and SHA-256. A checkpoint is written
// into a temporary folder and renamed into place, so it is whole or absent; one that does not match
// its manifest is refused before anything is loaded.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AdamSlotState } from './adam';

const FORMAT = 'switchyard-checkpoint/1';

const tensorEntry = z.object({ name: z.string(), shape: z.array(z.number().int().min(0)), offset: z.number().int().min(0) });
const manifestSchema = z.object({
  format: z.literal(FORMAT),
  step: z.number().int().min(0),
  weights: z.array(tensorEntry),
  optimizer: z.array(z.object({ name: z.string(), step: z.number().int().min(0), offset: z.number().int().min(0), size: z.number().int().min(0) })),
  files: z.record(z.string(), z.object({ bytes: z.number().int().min(0), sha256: z.string() })),
});
type Manifest = z.infer<typeof manifestSchema>;

export interface NamedTensor {
  shape: number[];
  values: Float32Array;
}

/** What inference, analysis and export read of a checkpoint. */
export interface CheckpointWeights {
  step: number;
  weights: Map<string, NamedTensor>;
}

export interface Checkpoint extends CheckpointWeights {
  optimizer: AdamSlotState[];
  /** The trainer's own state (data cursor, seeds), as it saved it. */
  state: unknown;
}

export class CheckpointError extends Error {
  constructor(path: string, why: string) {
    super(`checkpoint ${path} is unusable: ${why}`);
    this.name = 'CheckpointError';
  }
}

export function checkpointDir(checkpointsRoot: string, step: number): string {
  return join(checkpointsRoot, `step-${step}`);
}

/** Writes a checkpoint atomically and returns its folder. */
export function saveCheckpoint(checkpointsRoot: string, ckpt: Checkpoint): string {
  const finalDir = checkpointDir(checkpointsRoot, ckpt.step);
  const tmp = join(checkpointsRoot, `.tmp-step-${ckpt.step}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });

  const weights: Manifest['weights'] = [];
  let offset = 0;
  for (const [name, t] of ckpt.weights) {
    weights.push({ name, shape: t.shape, offset });
    offset += t.values.length;
  }
  const optimizer: Manifest['optimizer'] = [];
  let optOffset = 0;
  for (const s of ckpt.optimizer) {
    optimizer.push({ name: s.name, step: s.step, offset: optOffset, size: s.m.length });
    optOffset += 2 * s.m.length;
  }
  const files: Record<string, Buffer> = {
    'weights.bin': concatFloats([...ckpt.weights.values()].map((t) => t.values)),
    'optimizer.bin': concatFloats(ckpt.optimizer.flatMap((s) => [s.m, s.v])),
    'state.json': Buffer.from(JSON.stringify(ckpt.state)),
  };
  const manifest: Manifest = { format: FORMAT, step: ckpt.step, weights, optimizer, files: {} };
  for (const [file, data] of Object.entries(files)) {
    writeFileSync(join(tmp, file), data);
    manifest.files[file] = { bytes: data.length, sha256: sha256(data) };
  }
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
  // Replacing a step: move the old one aside first, so that a crash leaves one of the two in place.
  const old = `${finalDir}.old-${process.pid}`;
  if (existsSync(finalDir)) renameSync(finalDir, old);
  renameSync(tmp, finalDir);
  rmSync(old, { recursive: true, force: true });
  return finalDir;
}

/** Reads and verifies a whole checkpoint, to train on; throws CheckpointError and returns nothing half-read. */
export function loadCheckpoint(dir: string): Checkpoint {
  const manifest = readManifest(dir);
  const weights = readWeights(dir, manifest);
  const optValues = toFloats(readVerified(dir, manifest, 'optimizer.bin'));
  const optimizer = manifest.optimizer.map((s) => {
    if (s.offset + 2 * s.size > optValues.length) throw new CheckpointError(dir, `optimizer slot ${s.name} lies past the end of optimizer.bin`);
    return { name: s.name, step: s.step, m: optValues.subarray(s.offset, s.offset + s.size), v: optValues.subarray(s.offset + s.size, s.offset + 2 * s.size) };
  });
  const stateJson = readVerified(dir, manifest, 'state.json').toString('utf8');
  let state: unknown;
  try {
    state = JSON.parse(stateJson);
  } catch {
    throw new CheckpointError(dir, 'state.json is not JSON');
  }
  return { step: manifest.step, weights, optimizer, state };
}

/**
 * A checkpoint's weights alone, verified: what a model for inference needs. Its optimizer state, twice
 * the weights' size, is neither read nor checked (a cold start's first answer waits on this).
 */
export function loadCheckpointWeights(dir: string): CheckpointWeights {
  const manifest = readManifest(dir);
  return { step: manifest.step, weights: readWeights(dir, manifest) };
}

function readManifest(dir: string): Manifest {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new CheckpointError(dir, 'manifest.json is missing (an interrupted write?)');
  try {
    return manifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  } catch (err) {
    throw new CheckpointError(dir, `manifest.json is malformed (${err instanceof Error ? err.message.split('\n')[0] : err})`);
  }
}

/** A file of the checkpoint, checked against its size and checksum in the manifest. */
function readVerified(dir: string, manifest: Manifest, file: string): Buffer {
  const expected = manifest.files[file];
  if (!expected) throw new CheckpointError(dir, `manifest.json does not list ${file}`);
  const path = join(dir, file);
  if (!existsSync(path)) throw new CheckpointError(dir, `${file} is missing`);
  const buf = readFileSync(path);
  if (buf.length !== expected.bytes) throw new CheckpointError(dir, `${file} has ${buf.length} bytes, the manifest says ${expected.bytes}`);
  if (sha256(buf) !== expected.sha256) throw new CheckpointError(dir, `${file} does not match its checksum`);
  return buf;
}

function readWeights(dir: string, manifest: Manifest): Map<string, NamedTensor> {
  const weightValues = toFloats(readVerified(dir, manifest, 'weights.bin'));
  const weights = new Map<string, NamedTensor>();
  for (const w of manifest.weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (w.offset + size > weightValues.length) throw new CheckpointError(dir, `tensor ${w.name} lies past the end of weights.bin`);
    weights.set(w.name, { shape: w.shape, values: weightValues.subarray(w.offset, w.offset + size) });
  }
  return weights;
}

/** Steps of the complete checkpoints under a run's checkpoints folder, oldest first. */
export function listCheckpoints(checkpointsRoot: string): number[] {
  if (!existsSync(checkpointsRoot)) return [];
  return readdirSync(checkpointsRoot)
    .map((name) => /^step-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(join(checkpointsRoot, m[0], 'manifest.json')))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** Deletes all but the newest `keep` complete checkpoints. */
export function pruneCheckpoints(checkpointsRoot: string, keep: number): void {
  const steps = listCheckpoints(checkpointsRoot);
  for (const step of steps.slice(0, Math.max(0, steps.length - keep))) rmSync(checkpointDir(checkpointsRoot, step), { recursive: true, force: true });
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

function concatFloats(parts: Float32Array[]): Buffer {
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

function toFloats(buf: Buffer): Float32Array {
  if (buf.length % 4 !== 0) throw new Error('float32 data must be a whole number of 4-byte values');
  // A large file's Buffer owns its memory from offset 0: a view of it saves a copy (~50 ms on tiny).
  // A small one may sit at any byte offset of a shared pool: copied into an aligned buffer.
  if (buf.byteOffset % 4 === 0) return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}
