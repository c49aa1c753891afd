// A user's own training text: a file, a folder (all files below it, except
// dot-files and node_modules), or a glob such as "notes/**/*.md". Each file is
// one document. Binary files are skipped with a warning; every error names the
// path or pattern the user gave, since that is what they can fix.

import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';

export const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;

export interface UserCorpusOptions {
  /** Total size limit over the text files (default 50 MiB). */
  maxBytes?: number;
  /** Base for relative paths and globs (default process.cwd()). */
  cwd?: string;
  /** Share of invalid UTF-8 above which a file counts as binary (default 1%). */
  maxInvalidUtf8?: number;
}

export interface CorpusFile {
  /** Path relative to the folder (or cwd, for globs), with "/" separators: a stable id for splitting. */
  id: string;
  path: string;
  text: string;
}

export interface UserCorpus {
  files: CorpusFile[];
  /** One line per skipped or repaired file, naming it. */
  warnings: string[];
}

const GLOB_CHARS = /[*?[\]{}]/;
// Git's heuristic: a NUL byte in the first 8 KiB means binary.
const SNIFF_BYTES = 8192;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function hasNulPrefix(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead).includes(0);
  } finally {
    await handle.close();
  }
}

/** Files the spec names, sorted, and the directory their ids are relative to. */
async function resolveFiles(spec: string, cwd: string): Promise<{ files: string[]; base: string }> {
  const full = path.resolve(cwd, spec);
  const info = await stat(full).catch(() => undefined);
  if (info?.isFile()) return { files: [full], base: path.dirname(full) };
  if (info?.isDirectory()) {
    const files = await glob('**/*', { cwd: full, absolute: true, ignore: ['**/node_modules/**'] });
    if (files.length === 0) throw new Error(`no files in folder ${full}`);
    return { files: files.sort(), base: full };
  }
  if (!GLOB_CHARS.test(spec)) throw new Error(`path not found: ${full}`);
  const files = await glob(spec, { cwd, absolute: true });
  if (files.length === 0) throw new Error(`no files match ${spec} (in ${cwd})`);
  return { files: files.sort(), base: cwd };
}

/** Share of characters that are U+FFFD after a lenient decode but were not in a strict one. */
function invalidUtf8Share(bytes: Buffer): { text: string; share: number } {
  const text = new TextDecoder('utf-8').decode(bytes);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { text, share: 0 };
  } catch {
    const replaced = text.split('\uFFFD').length - 1;
    return { text, share: replaced / Math.max(text.length, 1) };
  }
}

export async function loadUserCorpus(spec: string, opts: UserCorpusOptions = {}): Promise<UserCorpus> {
  const cwd = opts.cwd ?? process.cwd();
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxInvalid = opts.maxInvalidUtf8 ?? 0.01;
  const { files: candidates, base } = await resolveFiles(spec, cwd);
  const warnings: string[] = [];
  let binary = 0;
  const skipBinary = (file: string, why: string) => {
    binary++;
    warnings.push(`skipped binary file ${file} (${why})`);
  };

  const textFiles: string[] = [];
  let totalBytes = 0;
  for (const file of candidates) {
    if (await hasNulPrefix(file)) {
      skipBinary(file, 'contains NUL bytes');
      continue;
    }
    textFiles.push(file);
    totalBytes += (await stat(file)).size;
    if (totalBytes > maxBytes) {
      throw new Error(`${spec} holds more than ${mib(maxBytes)} of text (the corpus size limit); choose fewer files`);
    }
  }

  const files: CorpusFile[] = [];
  for (const file of textFiles) {
    const bytes = await readFile(file);
    const { text, share } = invalidUtf8Share(bytes);
    if (bytes.includes(0) || share > maxInvalid) {
      skipBinary(file, bytes.includes(0) ? 'contains NUL bytes' : `${(share * 100).toFixed(1)}% invalid UTF-8`);
      continue;
    }
    if (share > 0) warnings.push(`replaced invalid UTF-8 in ${file} with U+FFFD`);
    if (text.trim().length === 0) {
      warnings.push(`skipped empty file ${file}`);
      continue;
    }
    files.push({ id: path.relative(base, file).split(path.sep).join('/'), path: file, text });
  }

  if (files.length === 0) {
    const what = candidates.length === 1 ? candidates[0] : spec;
    throw new Error(
      binary === candidates.length
        ? `no text in ${what}: ${binary === 1 ? 'it is a binary file' : `all ${binary} files are binary`}`
        : `no text in ${what}: ${candidates.length === 1 ? 'the file is empty' : 'all files are empty or binary'}`,
    );
  }
  return { files, warnings };
}
