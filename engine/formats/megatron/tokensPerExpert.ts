// Megatron's `--save-tokens-per-expert-interval` dump (megatron/training/activation_logging.py):
// {save}/tokens_per_expert/rank{r}.jsonl, one line per (iteration, layer):
//   {"iter": 100, "block": "decoder", "layer": 3, "tpe": [[128, 64], [96, 80]]}   ([microbatch][local expert])
// (MTP layers add "mtp_idx"). The counts are what each rank's local experts' grouped linear received,
// after dispatch. With expert parallelism of size EP, rank r holds experts (r mod EP)·L … (r mod EP)·L + L − 1
// (L local experts); the ranks that hold the same experts (data-parallel replicas) are summed.
import { z } from 'zod';
import { rankFiles, readJsonlRecords, TraceFormatError } from './jsonl';
import type { RoutingTrace } from './routingTrace';

const count = z.number().int().min(0);
export const tpeRecordSchema = z.object({
  iter: count,
  block: z.string(),
  layer: count,
  mtp_idx: count.optional(),
  /** [microbatch][local expert] tokens */
  tpe: z.array(z.array(count)).min(1),
});

export function tpeFiles(path: string): string[] {
  return rankFiles(path, /^rank\d+\.jsonl$/, "tokens_per_expert rank*.jsonl (written by Megatron's --save-tokens-per-expert-interval)");
}

export function readTokensPerExpert(path: string, expertParallel = 1): RoutingTrace {
  const files = tpeFiles(path);
  const { records, warnings } = readJsonlRecords(files, tpeRecordSchema, 'a Megatron tokens-per-expert record', (r, where) => {
    if (r.tpe.some((mb) => mb.length !== r.tpe[0].length)) throw new TraceFormatError(`${where}: tpe microbatches have different expert counts`);
  });
  const local = records[0]?.record.tpe[0].length ?? 0;
  const e = local * expertParallel;
  const steps = new Map<number, Map<string, number[]>>();
  const topK = new Map<string, number | undefined>();
  for (const { record: r, file } of records) {
    if (r.tpe[0].length !== local) throw new TraceFormatError(`${file}: ${r.tpe[0].length} local experts at iteration ${r.iter}, layer ${r.layer}; other records have ${local}`);
    const rank = Number(/(\d+)\.jsonl$/.exec(file)?.[1] ?? 0);
    const layers = steps.get(r.iter) ?? steps.set(r.iter, new Map()).get(r.iter)!;
    const name = r.mtp_idx === undefined ? `${r.block}.layers.${r.layer}` : `mtp.${r.mtp_idx}.layers.${r.layer}`;
    const routed = layers.get(name) ?? layers.set(name, new Array<number>(e).fill(0)).get(name)!;
    const first = (rank % expertParallel) * local;
    for (const mb of r.tpe) mb.forEach((x, i) => (routed[first + i] += x));
    topK.set(name, undefined);
  }
  return { steps, topK, numExperts: e, files, warnings };
}
