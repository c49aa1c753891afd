// Follows a growing metrics.jsonl from the last offset read: a torn last line waits for its end,
// a file that shrank (truncated or replaced by a rotation) is read again from its start. Lines are
// read as the run format's records (any producer's: only step and routed counts are sure), with
// what their counts imply filled in (derived.ts).
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { describeIssues } from '../protocol';
import { runRecordSchema, type RunRecord } from '../train/runFormat';
import { withDerived } from './derived';

export interface TailRead {
  records: RunRecord[];
  /** Lines skipped (not JSON, or not a record), with where and why. */
  warnings: string[];
  /** True when the file shrank or was replaced since the last read, so its records start over. */
  restarted: boolean;
}

export class MetricsTail {
  private offset = 0;
  /** Bytes after the last newline: a line still being written. */
  private pending = Buffer.alloc(0);
  private line = 0;
  private ino = -1;

  constructor(readonly file: string) {}

  /** Reads what was appended since the last call. */
  read(): TailRead {
    const out: TailRead = { records: [], warnings: [], restarted: false };
    if (!existsSync(this.file)) return out;
    const fd = openSync(this.file, 'r');
    try {
      const { size, ino } = fstatSync(fd);
      if (size < this.offset || (this.ino !== -1 && ino !== this.ino)) {
        out.restarted = this.offset > 0;
        this.offset = 0;
        this.pending = Buffer.alloc(0);
        this.line = 0;
      }
      this.ino = ino;
      if (size === this.offset) return out;
      const chunk = Buffer.alloc(size - this.offset);
      const got = readSync(fd, chunk, 0, chunk.length, this.offset);
      this.offset += got;
      const data = Buffer.concat([this.pending, chunk.subarray(0, got)]);
      const end = data.lastIndexOf(0x0a);
      this.pending = Buffer.from(end < 0 ? data : data.subarray(end + 1));
      if (end < 0) return out;
      for (const text of data.subarray(0, end).toString('utf8').split('\n')) {
        this.line++;
        if (!text.trim()) continue;
        const why = parseLine(text, out.records);
        if (why) out.warnings.push(`${this.file}:${this.line}: skipped a metrics line: ${why}`);
      }
      return out;
    } finally {
      closeSync(fd);
    }
  }
}

function parseLine(text: string, into: RunRecord[]): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const r = runRecordSchema.safeParse(json);
  if (!r.success) return describeIssues(r.error);
  into.push(withDerived(r.data));
  return undefined;
}
