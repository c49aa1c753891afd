// The data-table alternative of each chart, as plain strings: the last points of long series plus a
// one-line summary of each, for screen readers (and for anyone who wants numbers). DOM-free.
import type { Analysis } from '../../engine/analysis/analysisSchema';
import { formatBytes, formatInt, formatNumber, formatPercent, formatSeconds } from '../shared/format';
import type { Heatmap } from './heatmap';
import { lowerBound, type Point } from './history';
import type { CommBars, MeshGrid } from './mesh';

export interface DataTable {
  caption: string;
  columns: string[];
  rows: string[][];
  /** One line per series: count, range, min, max, last. */
  summary: string[];
}

export interface NamedSeries {
  label: string;
  points: readonly Point[];
  format?: (y: number) => string;
}

export const TABLE_ROWS = 50;
const NONE = '–';

/** "Training loss: 1,234 points (steps 0–1,233); min 2.1, max 9.3, last 2.31 at step 1,233" */
export function summarize(s: NamedSeries): string {
  const f = s.format ?? ((y: number) => formatNumber(y));
  const n = s.points.length;
  if (!n) return `${s.label}: no data`;
  let min = Infinity;
  let max = -Infinity;
  for (const p of s.points) {
    if (p.y < min) min = p.y;
    if (p.y > max) max = p.y;
  }
  const first = s.points[0];
  const last = s.points[n - 1];
  const span = n === 1 ? `step ${formatInt(first.x)}` : `steps ${formatInt(first.x)}–${formatInt(last.x)}`;
  return `${s.label}: ${formatInt(n)} point${n === 1 ? '' : 's'} (${span}); min ${f(min)}, max ${f(max)}, last ${f(last.y)} at step ${formatInt(last.x)}`;
}

/** Rows for the last `lastN` steps found in any of the series; a series without that step shows '–'. */
export function seriesTable(caption: string, series: readonly NamedSeries[], lastN = TABLE_ROWS, xLabel = 'Step', formatX: (x: number) => string = formatInt): DataTable {
  const xs = new Set<number>();
  for (const s of series) for (let i = Math.max(0, s.points.length - lastN); i < s.points.length; i++) xs.add(s.points[i].x);
  const steps = [...xs].sort((a, b) => a - b).slice(-lastN);
  const rows = steps.map((x) => [
    formatX(x),
    ...series.map((s) => {
      const i = lowerBound(s.points, x, (p) => p.x);
      const p = s.points[i];
      return p && p.x === x ? (s.format ?? ((y: number) => formatNumber(y)))(p.y) : NONE;
    }),
  ]);
  return { caption, columns: [xLabel, ...series.map((s) => s.label)], rows, summary: series.map(summarize) };
}

/** The heatmap's last `lastN` step ranges as rows, experts as columns (shares in %). */
export function heatmapTable(h: Heatmap, layerName: string, lastN = TABLE_ROWS): DataTable {
  const caption = `Expert load of ${layerName}: share of the layer's tokens routed to each expert`;
  const columns = ['Steps', ...Array.from({ length: h.experts }, (_, e) => `Expert ${e}`)];
  if (!h.cells.length) return { caption, columns, rows: [], summary: [`${layerName}: no data`] };
  const byColumn = new Map<number, string[]>();
  for (const c of h.cells) {
    let row = byColumn.get(c.x0);
    if (!row) byColumn.set(c.x0, (row = [h.bucket === 1 ? formatInt(c.x0) : `${formatInt(c.x0)}–${formatInt(c.x1 - 1)}`]));
    row[c.y + 1] = formatPercent(c.v);
  }
  const rows = [...byColumn.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r).slice(-lastN);
  const lastCol = h.cells.filter((c) => c.x0 === h.cells[h.cells.length - 1].x0);
  const top = lastCol.reduce((a, b) => (b.v > a.v ? b : a));
  const summary = [
    `${layerName}: ${formatInt(h.experts)} experts, steps ${formatInt(h.firstStep ?? 0)}–${formatInt(h.lastStep ?? 0)} in ${formatInt(h.columns)} column${h.columns === 1 ? '' : 's'} of ${formatInt(h.bucket)} step${h.bucket === 1 ? '' : 's'}; ` +
      `in the last, expert ${top.y} takes the most: ${formatPercent(top.v)} (balanced: ${formatPercent(1 / Math.max(1, h.experts))})`,
  ];
  return { caption, columns, rows, summary };
}

export function meshTable(grid: MeshGrid, step: number): DataTable {
  const l = grid.layer;
  const cells = [...grid.cells].sort((a, b) => a.y - b.y || a.x - b.x);
  const rows = cells.map((c) => [
    `data ${c.y}, model ${c.x}`,
    c.device.experts.join(', ') || NONE,
    formatPercent(c.v),
    `${formatInt(c.device.tokens)} / ${formatInt(c.device.slots)}`,
    formatInt(c.device.dropped),
    formatPercent(c.device.idleFraction),
    formatSeconds(c.device.computeTime),
    formatSeconds(c.device.commTime),
  ]);
  const utils = cells.map((c) => c.v);
  const mean = utils.length ? utils.reduce((s, x) => s + x, 0) / utils.length : 0;
  const min = utils.length ? Math.min(...utils) : 0;
  const max = utils.length ? Math.max(...utils) : 0;
  return {
    caption: `Device utilization of ${l.layer} at step ${formatInt(step)} (${grid.rows} data × ${grid.cols} model)`,
    columns: ['Device', 'Experts', 'Utilization', 'Tokens / slots', 'Dropped', 'Idle', 'Compute', 'Communication'],
    rows,
    summary: [`${l.layer} at step ${formatInt(step)}: ${cells.length} devices, utilization mean ${formatPercent(mean)}, min ${formatPercent(min)}, max ${formatPercent(max)}`],
  };
}

export function commTable(bars: CommBars, step: number): DataTable {
  const rows = bars.labels.map((label, i) => [
    label,
    formatBytes(bars.allToAllBytes[i]),
    formatSeconds(bars.computeTime[i]),
    formatSeconds(bars.commTime[i]),
  ]);
  const comm = bars.commTime.reduce((s, x) => s + x, 0);
  const total = comm + bars.computeTime.reduce((s, x) => s + x, 0);
  return {
    caption: `All-to-all bytes and compute vs communication time per layer at step ${formatInt(step)}`,
    columns: ['Layer', 'All-to-all bytes', 'Compute time', 'Communication time'],
    rows,
    summary: [`Step ${formatInt(step)}: ${bars.labels.length} layers; communication is ${formatPercent(total > 0 ? comm / total : 0)} of the expert layers' time`],
  };
}

/** One row per expert of the layer: its tokens, dominant tag, top tokens by count and by lift. */
export function topTokensTable(a: Analysis, layer: number): Omit<DataTable, 'summary'> {
  const l = a.layers[layer];
  const text = (id: number) => JSON.stringify(a.tokenTexts[id] ?? `#${id}`);
  return {
    caption: `Top tokens per expert, ${l?.layer ?? ''} (lift: share in the expert / share overall)`,
    columns: ['Expert', 'Tokens', 'Dominant', 'Top by count', 'Top by lift'],
    rows: (l?.specialisation.experts ?? []).map((e) => [
      `E${e.expert}`,
      formatInt(e.tokens),
      e.dominantLabel ? `${e.dominantLabel} ${formatPercent(Math.max(...e.labelShares))}` : '–',
      e.topByCount.map((t) => `${text(t.tokenId)} ×${t.count}`).join(' '),
      e.topByLift.map((t) => `${text(t.tokenId)} ${t.lift.toFixed(1)}`).join(' '),
    ]),
  };
}
