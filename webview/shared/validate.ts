// Checking messages at the webview's edges: what the extension posts in, what the webview posts
// out, and what a previous session left in the webview state. DOM-free.
import type { z } from 'zod';
import { describeIssues } from '../../engine/protocol';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Validates `data` against `schema`; on failure, one line naming every bad field. */
export function check<S extends z.ZodType>(schema: S, data: unknown): Checked<z.infer<S>> {
  const r = schema.safeParse(data);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, reason: describeIssues(r.error) };
}

/** A short description of an unknown value for a warning: its `type` field when it has one. */
export function describeValue(data: unknown): string {
  if (data === null || typeof data !== 'object') return typeof data;
  const type = (data as { type?: unknown }).type;
  return typeof type === 'string' ? `'${type.slice(0, 40)}' message` : 'object without a type';
}
