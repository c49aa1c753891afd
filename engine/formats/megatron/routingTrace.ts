// Megatron-Core's router trace (`--moe-routing-trace-path`, megatron/core/transformer/moe/router_trace.py):
// one JSONL file per rank, router_trace_rank{r}.jsonl, one record per (step, block, layer):
//   {"step","stage":"pre_dispatch","block":"decoder","layer","rank","num_tokens","topk","top_indices":[[...]]}
// (MTP layers add "mtp_idx"). Read into routed counts per step and layer, summed over the ranks' files.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';

const count = z.number().int().min(0);

export const traceRecordSchema = z.object({
  step: count,
  stage: z.string(),
  block: z.string(),
  layer: count,
  rank: count,
  num_tokens: count,
  topk: z.number().int().min(1),
  /** [num_tokens, topk] expert indices */
  top_indices: z.array(z.array(count)),
  mtp_idx: count.optional(),
});
export type TraceRecord = z.infer<typeof traceRecordSchema>;

export interface RoutingTrace {
  /** step -> layer name -> [E] routed counts (E from the largest index seen, or given) */
  steps: Map<number, Map<string, number[]>>;
  topK: Map<string, number>;
  numExperts: number;
  files: string[];
  /** Torn last lines skipped (a trace still being written). */
  warnings: string[];
}

export class TraceFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceFormatError';
  }
}

/** The trace files a path names: a router_trace_rank*.jsonl file, or a folder holding them. */
export function traceFiles(path: string): string[] {
  if (!existsSync(path)) throw new TraceFormatError(`${path} does not exist`);
  if (!statSync(path).isDirectory()) return [path];
  const files = readdirSync(path)
    .filter((f) => /^router_trace_rank\d+\.jsonl$/.test(f))
    .sort()
    .map((f) => join(path, f));
  if (!files.length) throw new TraceFormatError(`${path} holds no router_trace_rank*.jsonl (written by Megatron's --moe-routing-trace-path)`);
  return files;
}

export function layerName(r: TraceRecord): string {
  return r.mtp_idx === undefined ? `${r.block}.layers.${r.layer}` : `mtp.${r.mtp_idx}.layers.${r.layer}`;
}

export function readRoutingTrace(path: string, numExperts?: number): RoutingTrace {
  const files = traceFiles(path);
  const records: TraceRecord[] = [];
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
      const r = traceRecordSchema.safeParse(raw);
      if (!r.success) throw new TraceFormatError(`${where}: not a Megatron router-trace record: ${r.error.issues.map((x) => `${x.path.join('.') || 'record'}: ${x.message}`).join('; ')}`);
      const rec = r.data;
      if (rec.top_indices.length !== rec.num_tokens || rec.top_indices.some((row) => row.length !== rec.topk)) {
        throw new TraceFormatError(`${where}: top_indices is not [num_tokens=${rec.num_tokens}, topk=${rec.topk}]`);
      }
      records.push(rec);
    });
  }
  const seen = Math.max(0, ...records.flatMap((r) => r.top_indices.flat())) + 1;
  if (numExperts !== undefined && seen > numExperts) throw new TraceFormatError(`the trace routes to expert ${seen - 1}, but --experts is ${numExperts}`);
  const e = numExperts ?? seen;
  const steps = new Map<number, Map<string, number[]>>();
  const topK = new Map<string, number>();
  for (const r of records) {
    const layers = steps.get(r.step) ?? steps.set(r.step, new Map()).get(r.step)!;
    const name = layerName(r);
    const routed = layers.get(name) ?? layers.set(name, new Array<number>(e).fill(0)).get(name)!;
    for (const row of r.top_indices) for (const x of row) routed[x]++;
    topK.set(name, r.topk);
  }
  return { steps, topK, numExperts: e, files, warnings };
}
