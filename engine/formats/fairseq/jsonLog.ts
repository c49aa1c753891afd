// fairseq's `--log-format json` output read as run-format records. fairseq prints one JSON object per
// log interval, after its logger's prefix (`2024-… | INFO | train_inner | {"epoch": 1, …}`), values as
// numbers or number strings; losses in bits (base 2). Its MoE criteria add the gate's metadata,
// averaged over the MoE layers and the interval (fairseq criterions/moe_cross_entropy.py:
// moe_logging_keys): no per-expert counts, so the records carry them as `gateMetrics` and no layers.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { TraceFormatError } from '../megatron/jsonl';
import { runRecordSchema, type RunRecord } from '../../train/runFormat';

/** MoECriterion.moe_logging_keys: the gate figures fairseq logs. */
export const FAIRSEQ_GATE_KEYS = [
  'overflow_expert1',
  'overflow_expert2',
  'entropy_gating',
  'expert1_balance_top',
  'expert1_balance_bottom',
  'unused_expert1_count',
  'expert2_balance_top',
  'expert2_balance_bottom',
  'unused_expert2_count',
  'all_to_all_cpu_time_ms',
  'all_to_all_cuda_time_ms',
] as const;

export interface FairseqLog {
  records: RunRecord[];
  /** Gate keys seen in any record. */
  gateKeys: string[];
  warnings: string[];
}

/** Reads a fairseq log: train_inner lines become step records, valid lines validation records; other lines are not fairseq's JSON stats and are passed over. */
export function readFairseqLog(file: string): FairseqLog {
  const lines = readFileSync(file, 'utf8').split('\n');
  const records: RunRecord[] = [];
  const gateKeys = new Set<string>();
  const warnings: string[] = [];
  lines.forEach((line, i) => {
    const where = `${basename(file)}:${i + 1}`;
    const stats = statsOf(line);
    if (!stats) return;
    let raw: unknown;
    try {
      raw = JSON.parse(stats.json);
    } catch {
      if (i === lines.length - 1) return void warnings.push(`${where}: skipped a torn last line`);
      throw new TraceFormatError(`${where}: not JSON`);
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new TraceFormatError(`${where}: not a JSON object`);
    const o = raw as Record<string, unknown>;
    const tag = stats.tag ?? (Object.keys(o).some((k) => k.startsWith('valid_')) ? 'valid' : Object.keys(o).some((k) => k.startsWith('train_')) ? 'train' : 'train_inner');
    if (tag === 'train_inner') records.push(stepRecord(o, where, gateKeys));
    else if (tag === 'valid') records.push(validationRecord(o, where));
    // `train`: the epoch's summary of the same intervals, not a step of its own.
  });
  return { records, gateKeys: [...gateKeys], warnings };
}

/** The JSON part of a fairseq stats line and its logger tag, or undefined for any other line. */
function statsOf(line: string): { json: string; tag?: string } | undefined {
  const prefixed = /\|\s*(train_inner|train|valid)\s*\|\s*(\{.*)$/.exec(line);
  if (prefixed) return { tag: prefixed[1], json: prefixed[2] };
  return line.startsWith('{"') ? { json: line.trim() } : undefined;
}

function num(o: Record<string, unknown>, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new TraceFormatError(`${where}: ${key} is not a number: ${JSON.stringify(v)}`);
  return n;
}

function step(o: Record<string, unknown>, key: string, where: string): number {
  const n = num(o, key, where);
  if (n === undefined || !Number.isInteger(n) || n < 0) throw new TraceFormatError(`${where}: no ${key} (the update number, a whole number ≥ 0)`);
  return n;
}

/** fairseq logs losses in bits; the run format's are in nats. */
const nats = (bits: number | undefined) => (bits === undefined ? undefined : bits * Math.LN2);

function stepRecord(o: Record<string, unknown>, where: string, gateKeys: Set<string>): RunRecord {
  const gateMetrics: Record<string, number> = {};
  for (const key of FAIRSEQ_GATE_KEYS) {
    const v = num(o, key, where);
    if (v === undefined) continue;
    gateMetrics[key] = v;
    gateKeys.add(key);
  }
  const wpb = num(o, 'wpb', where);
  return runRecordSchema.parse(
    defined({
      type: 'step',
      step: step(o, 'num_updates', where),
      loss: nats(num(o, 'loss', where)),
      crossEntropy: nats(num(o, 'nll_loss', where)),
      auxLoss: num(o, 'moe_gate_loss', where),
      learningRate: num(o, 'lr', where),
      gradNorm: num(o, 'gnorm', where),
      tokensPerSecond: num(o, 'wps', where),
      tokens: wpb === undefined ? undefined : Math.round(wpb),
      layers: [],
      gateMetrics: Object.keys(gateMetrics).length ? gateMetrics : undefined,
    }),
  );
}

function validationRecord(o: Record<string, unknown>, where: string): RunRecord {
  return runRecordSchema.parse(
    defined({ type: 'validation', step: step(o, 'valid_num_updates', where), loss: nats(num(o, 'valid_loss', where)), crossEntropy: nats(num(o, 'valid_nll_loss', where)) }),
  );
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
