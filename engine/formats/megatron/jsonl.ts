// Megatron's per-rank JSONL files: finding them and reading their records, each checked against a
// schema. A bad line is an error naming the file and line; a torn last line (a file still being
// written) is skipped with a warning.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { z } from 'zod';

export class TraceFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceFormatError';
  }
}

/** A file itself, or the files of a folder whose names match `pattern`, sorted by rank. */
export function rankFiles(path: string, pattern: RegExp, what: string): string[] {
  if (!existsSync(path)) throw new TraceFormatError(`${path} does not exist`);
  if (!statSync(path).isDirectory()) return [path];
  const rank = (f: string) => Number(/(\d+)\.jsonl$/.exec(f)?.[1] ?? 0);
  const files = readdirSync(path)
    .filter((f) => pattern.test(f))
    .sort((a, b) => rank(a) - rank(b))
    .map((f) => join(path, f));
  if (!files.length) throw new TraceFormatError(`${path} holds no ${what}`);
  return files;
}

export function readJsonlRecords<S extends z.ZodType>(
  files: string[],
  schema: S,
  what: string,
  check: (record: z.infer<S>, where: string) => void = () => {},
): { records: { record: z.infer<S>; file: string }[]; warnings: string[] } {
  const records: { record: z.infer<S>; file: string }[] = [];
  const warnings: string[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${basename(file)}:${i + 1}`;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        if (i === lines.length - 1) return void warnings.push(`${where}: skipped a torn last line`);
        throw new TraceFormatError(`${where}: not JSON`);
      }
      const r = schema.safeParse(raw);
      if (!r.success) throw new TraceFormatError(`${where}: not ${what}: ${r.error.issues.map((x) => `${x.path.join('.') || 'record'}: ${x.message}`).join('; ')}`);
      check(r.data, where);
      records.push({ record: r.data, file });
    });
  }
  return { records, warnings };
}
