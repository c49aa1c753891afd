// Megatron-Core's router trace (`--moe-routing-trace-path`, megatron/core/transformer/moe/router_trace.py):
// one JSONL file per rank, router_trace_rank{r}.jsonl, one record per (step, block, layer):
//   {"step","stage":"pre_dispatch","block":"decoder","layer","rank","num_tokens","topk","top_indices":[[...]]}
// (MTP layers add "mtp_idx"). Read into routed counts per step and layer, summed over the ranks' files.
import { z } from 'zod';
import { rankFiles, readJsonlRecords, TraceFormatError } from './jsonl';

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
  /** Per layer; a tokens-per-expert dump does not say. */
  topK: Map<string, number | undefined>;
  numExperts: number;
  files: string[];
  /** Torn last lines skipped (a trace still being written). */
  warnings: string[];
}

/** The trace files a path names: a router_trace_rank*.jsonl file, or a folder holding them. */
export function traceFiles(path: string): string[] {
  return rankFiles(path, /^router_trace_rank\d+\.jsonl$/, "router_trace_rank*.jsonl (written by Megatron's --moe-routing-trace-path)");
}

export function layerName(r: TraceRecord): string {
  return r.mtp_idx === undefined ? `${r.block}.layers.${r.layer}` : `mtp.${r.mtp_idx}.layers.${r.layer}`;
}

export function readRoutingTrace(path: string, numExperts?: number): RoutingTrace {
  const files = traceFiles(path);
  const { records: read, warnings } = readJsonlRecords(files, traceRecordSchema, 'a Megatron router-trace record', (rec, where) => {
    if (rec.top_indices.length !== rec.num_tokens || rec.top_indices.some((row) => row.length !== rec.topk)) {
      throw new TraceFormatError(`${where}: top_indices is not [num_tokens=${rec.num_tokens}, topk=${rec.topk}]`);
    }
  });
  const records = read.map((r) => r.record);
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
