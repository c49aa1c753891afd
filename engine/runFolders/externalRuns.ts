// Run folders written by someone else (a PyTorch probe, another engine, a copied run), followed live:
// a watcher on each run folder, and a poll beside it because fs.watch misses events on network
// filesystems. Each run gets an id of its own (`ext-<name>-<hash of its path>`), read-only.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { AlertMonitor } from '../analysis/health';
import type { RunRecord } from '../train/runFormat';
import { MetricsTail } from './metricsTail';

export interface ExternalRun {
  id: string;
  path: string;
  tail: MetricsTail;
  /** Router-health alerts from the records' routed counts (the producer's own `alerts` win). */
  alerts: AlertMonitor;
  watcher?: FSWatcher;
  statusMtime: number;
}

/** A folder holding a run: config.json or metrics.jsonl. */
export function isRunFolder(path: string): boolean {
  return existsSync(join(path, 'config.json')) || existsSync(join(path, 'metrics.jsonl'));
}

export function externalRunId(path: string): string {
  const name = basename(path).replace(/[^\w.-]/g, '_').slice(0, 80) || 'run';
  return `ext-${name}-${createHash('sha1').update(path).digest('hex').slice(0, 6)}`;
}

/** The run folders a path names: itself if it is one, else its subfolders that are; and what is wrong with it. */
export function resolveRunFolders(folder: string): { runs: string[]; warning?: string } {
  const path = resolve(folder);
  try {
    if (!statSync(path).isDirectory()) return { runs: [], warning: `${folder} is not a folder` };
    if (isRunFolder(path)) return { runs: [path] };
    const runs = readdirSync(path, { withFileTypes: true })
      .filter((d) => d.isDirectory() && isRunFolder(join(path, d.name)))
      .map((d) => join(path, d.name))
      .sort();
    return runs.length ? { runs } : { runs, warning: `${folder} holds no run (a run folder has config.json or metrics.jsonl)` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { runs: [], warning: code === 'ENOENT' ? `${folder} does not exist` : `${folder} cannot be read: ${(err as Error).message}` };
  }
}

export class ExternalRuns extends EventEmitter<{ record: [string, RunRecord]; status: [string]; warning: [string] }> {
  private folders: string[] = [];
  private readonly runs = new Map<string, ExternalRun>();
  private readonly poll: NodeJS.Timeout;
  private readonly due = new Set<string>();
  private flush: NodeJS.Timeout | undefined;

  constructor(pollMs = 1000) {
    super();
    this.poll = setInterval(() => this.tick(), pollMs);
    this.poll.unref();
  }

  /** Follows exactly these folders (runs or folders of runs); returns the problems found. */
  setFolders(folders: string[]): string[] {
    this.folders = [...new Set(folders)];
    const { wanted, warnings } = this.scan();
    for (const [id, run] of this.runs) if (!wanted.has(run.path)) this.drop(id);
    return warnings;
  }

  get(id: string): ExternalRun | undefined {
    return this.runs.get(id);
  }

  list(): ExternalRun[] {
    return [...this.runs.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  dispose(): void {
    clearInterval(this.poll);
    if (this.flush) clearTimeout(this.flush);
    for (const id of [...this.runs.keys()]) this.drop(id);
  }

  /** Adds runs new in the folders (a folder of runs grows); the old ones are kept. */
  private scan(): { wanted: Set<string>; warnings: string[] } {
    const wanted = new Set<string>();
    const warnings: string[] = [];
    for (const folder of this.folders) {
      const { runs, warning } = resolveRunFolders(folder);
      if (warning) warnings.push(warning);
      for (const path of runs) {
        wanted.add(path);
        const id = externalRunId(path);
        if (!this.runs.has(id)) this.add(id, path);
      }
    }
    return { wanted, warnings };
  }

  private add(id: string, path: string): void {
    const run: ExternalRun = { id, path, tail: new MetricsTail(join(path, 'metrics.jsonl')), alerts: new AlertMonitor(), statusMtime: mtime(join(path, 'status.json')) };
    // What is there already is history (getMetrics reads it; the alert monitor learns from it); only what comes next is an event.
    const history = run.tail.read();
    for (const w of history.warnings) this.emit('warning', w);
    for (const r of history.records) withAlerts(run, r);
    try {
      run.watcher = watch(path, () => this.schedule(id));
      run.watcher.on('error', () => run.watcher?.close()); // the poll goes on
    } catch {
      // no watcher (some network filesystems): the poll alone follows it
    }
    this.runs.set(id, run);
  }

  private drop(id: string): void {
    this.runs.get(id)?.watcher?.close();
    this.runs.delete(id);
  }

  /** Coalesces a burst of watcher events into one read. */
  private schedule(id: string): void {
    this.due.add(id);
    this.flush ??= setTimeout(() => {
      this.flush = undefined;
      for (const d of [...this.due]) this.follow(d);
      this.due.clear();
    }, 20);
  }

  private tick(): void {
    this.scan();
    for (const id of this.runs.keys()) this.follow(id);
  }

  private follow(id: string): void {
    const run = this.runs.get(id);
    if (!run) return;
    try {
      const read = run.tail.read();
      for (const w of read.warnings) this.emit('warning', w);
      if (read.restarted) this.emit('warning', `${run.tail.file} shrank or was replaced: reading it again from its start`);
      if (read.restarted) run.alerts = new AlertMonitor();
      for (const r of read.records) this.emit('record', id, withAlerts(run, r));
      const m = mtime(join(run.path, 'status.json'));
      if (m !== run.statusMtime) {
        run.statusMtime = m;
        this.emit('status', id);
      }
    } catch (err) {
      this.emit('warning', `${run.path}: ${(err as Error).message}`);
    }
  }
}

/** The record with the alerts in force after it, when its producer judged none itself. */
function withAlerts(run: ExternalRun, r: RunRecord): RunRecord {
  if (r.type !== 'step' || r.alerts) return r;
  run.alerts.observe({ step: r.step, zLoss: r.zLoss, layers: r.layers });
  const alerts = run.alerts.current;
  return alerts.length ? { ...r, alerts } : r;
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
