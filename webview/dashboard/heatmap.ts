// The expert-load heatmap of one sparse layer: x = step, y = expert, value = share of the layer's
// tokens routed to that expert. Steps are grouped into at most `maxColumns` equal step ranges (the
// mean share over the records in each), so 10,000 steps still draw as a few hundred cells per expert.
import type { StepRow } from './history';

export interface HeatCell {
  /** Centre of the step range [x0, x1). */
  x: number;
  x0: number;
  x1: number;
  /** Expert index. */
  y: number;
  /** Mean share of the layer's tokens routed to expert y over the records in the range, 0..1. */
  v: number;
  /** Step records averaged. */
  n: number;
  /** Last step record in the range. */
  lastStep: number;
}

export interface Heatmap {
  cells: HeatCell[];
  experts: number;
  /** Step-range columns that hold data. */
  columns: number;
  /** Steps per column. */
  bucket: number;
  /** Largest cell value (at least 1/experts, so that a balanced layer does not look saturated). */
  maxShare: number;
  firstStep: number | null;
  lastStep: number | null;
}

export const DEFAULT_HEATMAP_COLUMNS = 120;

export function heatmapCells(rows: readonly StepRow[], layer: number, maxColumns = DEFAULT_HEATMAP_COLUMNS): Heatmap {
  const withLayer = rows.filter((r) => r.layers[layer]);
  const empty: Heatmap = { cells: [], experts: 0, columns: 0, bucket: 1, maxShare: 0, firstStep: null, lastStep: null };
  if (!withLayer.length || layer < 0) return empty;
  const first = withLayer[0].step;
  const last = withLayer[withLayer.length - 1].step;
  const cols = Math.max(1, Math.floor(maxColumns));
  const bucket = Math.max(1, Math.ceil((last - first + 1) / cols));
  const experts = withLayer.reduce((m, r) => Math.max(m, r.layers[layer]!.shares.length), 0);

  const cells: HeatCell[] = [];
  let columns = 0;
  let maxShare = 0;
  let i = 0;
  while (i < withLayer.length) {
    const b = Math.floor((withLayer[i].step - first) / bucket);
    const sums = new Array<number>(experts).fill(0);
    let n = 0;
    let lastInBucket = withLayer[i].step;
    for (; i < withLayer.length && Math.floor((withLayer[i].step - first) / bucket) === b; i++) {
      const shares = withLayer[i].layers[layer]!.shares;
      for (let e = 0; e < shares.length; e++) sums[e] += shares[e];
      n++;
      lastInBucket = withLayer[i].step;
    }
    const x0 = first + b * bucket;
    const x1 = x0 + bucket;
    for (let e = 0; e < experts; e++) {
      const v = sums[e] / n;
      maxShare = Math.max(maxShare, v);
      cells.push({ x: (x0 + x1) / 2, x0, x1, y: e, v, n, lastStep: lastInBucket });
    }
    columns++;
  }
  return { cells, experts, columns, bucket, maxShare: Math.max(maxShare, experts ? 1 / experts : 0), firstStep: first, lastStep: last };
}

/** 0..1 intensity of a cell for its color: its share relative to the map's largest. */
export function cellIntensity(v: number, maxShare: number): number {
  if (!(maxShare > 0) || !Number.isFinite(v)) return 0;
  return Math.min(1, Math.max(0, v / maxShare));
}
