// The run store: runs/<id>/ holds config.json (model and training config), hf_config.json (the
// model config under HF's names), tokenizer.json, metrics.jsonl and checkpoints/.
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { metricsRecordSchema, type MetricsRecord, type StepMetrics } from './metrics';

export class RunNotFoundError extends Error {
  constructor(runsDir: string, id: string) {
    super(`no run '${id}' in ${runsDir}`);
    this.name = 'RunNotFoundError';
  }
}

export class RunDir {
  readonly path: string;

  constructor(
    readonly runsDir: string,
    readonly id: string,
  ) {
    this.path = resolve(runsDir, id);
  }

  get checkpoints(): string {
    return join(this.path, 'checkpoints');
  }
  get metricsFile(): string {
    return join(this.path, 'metrics.jsonl');
  }

  exists(): boolean {
    return existsSync(join(this.path, 'config.json'));
  }

  /** Writes a JSON file whole or not at all (temporary file, then rename). */
  writeJson(name: string, value: unknown): void {
    writeAtomic(join(this.path, name), JSON.stringify(value, null, 2) + '\n');
  }

  writeText(name: string, text: string): void {
    writeAtomic(join(this.path, name), text);
  }

  readJson(name: string): unknown {
    return JSON.parse(readFileSync(join(this.path, name), 'utf8'));
  }

  readText(name: string): string {
    return readFileSync(join(this.path, name), 'utf8');
  }
}

/** A sortable, unique id: `20261204-174312-<label>-3fa2`. */
export function newId(label: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${stamp}-${label}-${randomBytes(2).toString('hex')}`;
}

/** A new, empty run folder with a sortable, unique id. */
export function createRun(runsDir: string, label: string): RunDir {
  const run = new RunDir(runsDir, newId(label));
  mkdirSync(run.checkpoints, { recursive: true });
  return run;
}

export function openRun(runsDir: string, id: string): RunDir {
  // An id names a folder directly inside runsDir, never a path elsewhere.
  if (!/^[\w.-]+$/.test(id) || id === '.' || id === '..') throw new RunNotFoundError(runsDir, id);
  const run = new RunDir(runsDir, id);
  if (!run.exists()) throw new RunNotFoundError(runsDir, id);
  return run;
}

/**
 * A run named on the command line: an id inside `runsDir`, or a run folder's path (as tab completion
 * gives it, trailing slash and all), which need not be inside `runsDir`.
 */
export function findRun(runsDir: string, ref: string): RunDir {
  if (!/[\\/]/.test(ref)) return openRun(runsDir, ref);
  const path = resolve(ref);
  const run = new RunDir(dirname(path), basename(path));
  if (!run.exists()) throw new Error(`${ref} is not a run folder (it has no config.json)`);
  return run;
}

export function listRuns(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((id) => new RunDir(runsDir, id).exists())
    .sort();
}

/** Appends records to metrics.jsonl, each line flushed to disk before the next step begins. */
export class MetricsWriter {
  private readonly fd: number;

  constructor(file: string) {
    this.fd = openSync(file, 'a');
  }

  append(record: MetricsRecord): void {
    appendFileSync(this.fd, JSON.stringify(record) + '\n');
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface MetricsRead<R = MetricsRecord> {
  records: R[];
  /** Lines that were skipped (a torn last line after a crash, or a corrupt one), with why. */
  warnings: string[];
}

/**
 * Reads metrics.jsonl, skipping (and reporting) any line that is torn or does not validate against
 * `schema`: the engine's own records by default, or runFormat's runRecordSchema for any producer's.
 */
export function readMetrics<S extends z.ZodType = typeof metricsRecordSchema>(file: string, schema?: S): MetricsRead<z.infer<S>> {
  const records: z.infer<S>[] = [];
  const warnings: string[] = [];
  if (!existsSync(file)) return { records, warnings };
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const record = parseLine(line, schema ?? metricsRecordSchema);
    if (record) return records.push(record as z.infer<S>);
    const torn = i === lines.length - 1 ? ' (torn last line, probably a crash while writing)' : '';
    warnings.push(`${file}:${i + 1}: skipped an unreadable metrics line${torn}`);
  });
  return { records, warnings };
}

function parseLine<S extends z.ZodType>(line: string, schema: S): z.infer<S> | undefined {
  try {
    return schema.parse(JSON.parse(line));
  } catch {
    return undefined;
  }
}

/**
 * The last step record of metrics.jsonl, read from the file's tail (a window that grows until it
 * holds one), so that listing runs costs the same for a run of 10 steps as for one of a million.
 */
export function lastStepRecord(file: string): StepMetrics | undefined;
export function lastStepRecord<S extends z.ZodType<{ type: string }>>(file: string, schema: S): Extract<z.infer<S>, { type: 'step' }> | undefined;
export function lastStepRecord(file: string, schema: z.ZodType<{ type: string }> = metricsRecordSchema): { type: string } | undefined {
  if (!existsSync(file)) return undefined;
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    for (let window = 64 * 1024; ; window *= 4) {
      const start = Math.max(0, size - window);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      const lines = buf.toString('utf8').split('\n');
      if (start > 0) lines.shift(); // cut somewhere inside a line
      for (let i = lines.length - 1; i >= 0; i--) {
        const record = lines[i].trim() ? parseLine(lines[i], schema) : undefined;
        if (record?.type === 'step') return record;
      }
      if (start === 0) return undefined;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Before a resume from the checkpoint at `step`: keeps the records up to that step and drops the
 * rest (the steps about to be run again) along with any torn line, so the file reads as one run.
 */
export function truncateMetricsAfter(file: string, step: number): MetricsRead {
  const read = readMetrics(file);
  const kept = read.records.filter((r) => r.step <= step);
  writeAtomic(file, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  return { records: kept, warnings: read.warnings };
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
