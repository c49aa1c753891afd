// The Compare view's overlaid curves: one colour per run, or per grid entry with a dash per seed (the
// legend says which), drawn with the dashboard's line-chart options and data tables; and a chart's
// picture as a PNG.
import { Chart, type ChartDataset } from 'chart.js';
import { formatNumber } from '../shared/format';
import { DASHES, seriesColor, type Palette } from '../shared/palette';
import type { CardSpec, ChartCard } from '../dashboard/chartCard';
import { applyFontDefaults, fmtNum, fmtPct, type Fmt } from '../dashboard/chartStyle';
import type { Point } from '../dashboard/history';
import { lineDataset, lineOptions, setDatasets, type XAxis } from '../dashboard/lineCharts';
import { seriesTable, type NamedSeries } from '../dashboard/tables';
import { byTime, layerMean, runStyles, type ComparedRun } from './runs';
import '../dashboard/charts'; // registers chart.js's controllers and the matrix chart

export type LineKind = 'loss-step' | 'loss-time' | 'overflow' | 'entropy' | 'loadcv';

interface Series {
  label: string;
  points: Point[];
  format: Fmt;
  /** A validation series: dashed, with its points. */
  validation?: boolean;
}

interface CompareLine extends CardSpec<LineKind> {
  y: { title: string; format: Fmt; min?: number; max?: number; beginAtZero?: boolean };
  x?: XAxis;
  series(run: ComparedRun): Series[];
}

const TIME_AXIS: XAxis = { title: 'Training seconds', format: (s) => formatNumber(s, s < 10 ? 2 : 3) };

const crossEntropy = (run: ComparedRun, place: (p: Point[]) => Point[]): Series[] => [
  { label: run.name, points: place(run.history.trainCrossEntropy), format: fmtNum },
  { label: `${run.name} · validation`, points: place(run.history.valCrossEntropy), format: fmtNum, validation: true },
];

export const COMPARE_LINES: readonly CompareLine[] = [
  {
    kind: 'loss-step',
    title: 'Cross-entropy by step',
    note: 'Training cross-entropy (the line) and validation (thin dashes with dots) of each run, at equal steps',
    y: { title: 'Cross-entropy (nats)', format: fmtNum },
    series: (run) => crossEntropy(run, (p) => p),
  },
  {
    kind: 'loss-time',
    title: 'Cross-entropy by training time',
    note: 'The same against training seconds (the sum of step times, as in the table), at equal time',
    y: { title: 'Cross-entropy (nats)', format: fmtNum },
    x: TIME_AXIS,
    series: (run) => crossEntropy(run, (p) => byTime(p, run.clock)),
  },
  {
    kind: 'overflow',
    title: 'Dropped tokens',
    note: 'Overflow rate, mean over each run’s sparse layers (a dense run has none)',
    y: { title: 'Dropped tokens', format: fmtPct, beginAtZero: true },
    series: (run) => [{ label: run.name, points: layerMean(run.history, 'overflowRate'), format: fmtPct }],
  },
  {
    kind: 'entropy',
    title: 'Router entropy',
    note: 'Router entropy normalized by ln E (1 = uniform), mean over sparse layers',
    y: { title: 'Entropy / ln E', format: (y) => formatNumber(y, 2), min: 0, max: 1 },
    series: (run) => [{ label: run.name, points: layerMean(run.history, 'normalizedEntropy'), format: (y) => formatNumber(y, 3) }],
  },
  {
    kind: 'loadcv',
    title: 'Load imbalance',
    note: 'Coefficient of variation of tokens per expert (0 = balanced), mean over sparse layers',
    y: { title: 'Load CV', format: (y) => formatNumber(y, 2), beginAtZero: true },
    series: (run) => [{ label: run.name, points: layerMean(run.history, 'loadCv'), format: (y) => formatNumber(y, 3) }],
  },
];

export function createLineChart(card: ChartCard<LineKind>, spec: CompareLine, p: Palette): void {
  applyFontDefaults(p);
  card.chart = new Chart(card.canvas, { type: 'line', data: { datasets: [] }, options: lineOptions(p, spec.y, undefined, spec.x) });
}

export function recolorLineChart(card: ChartCard<LineKind>, spec: CompareLine, p: Palette): void {
  applyFontDefaults(p);
  if (card.chart) card.chart.options = lineOptions(p, spec.y, undefined, spec.x) as never;
}

/** Every run's series in its colour and dash; the data table has a column per series. */
export function renderLineChart(card: ChartCard<LineKind>, spec: CompareLine, runs: readonly ComparedRun[], p: Palette): void {
  const chart = card.chart as Chart<'line', Point[]> | null;
  if (!chart) return;
  const styles = runStyles(runs, DASHES.length);
  const series = runs.flatMap((run, i) => spec.series(run).map((s) => ({ s, color: seriesColor(p, styles[i].color), dash: DASHES[styles[i].dash].pattern })));
  const datasets: ChartDataset<'line', Point[]>[] = series.map(({ s, color, dash }) =>
    lineDataset(s.label, s.points, color, s.validation ? { borderDash: [5, 3], pointRadius: s.points.length > 200 ? 0 : 2.5, borderWidth: 1.5 } : { borderDash: dash }),
  );
  setDatasets(chart, datasets);
  const table: NamedSeries[] = series.map(({ s }) => ({ label: s.label, points: s.points, format: s.format }));
  const lastX = series.reduce((m, { s }) => Math.max(m, s.points.at(-1)?.x ?? -Infinity), -Infinity);
  card.setStats(
    series.reduce((m, { s }) => Math.max(m, s.points.length), 0),
    Number.isFinite(lastX) ? lastX : null,
    series.filter(({ s }) => s.points.length > 0).length,
  );
  const x = spec.x;
  if (!x) return card.setTable(seriesTable(`${spec.title}, by step`, table));
  // seriesTable's summary speaks of steps: by time, each series is summed up in seconds instead.
  const byX = seriesTable(`${spec.title}, by ${x.title.toLowerCase()}`, table, undefined, x.title, x.format);
  card.setTable({ ...byX, summary: table.map((s) => summarizeByTime(s, x.format)) });
}

/** "switch: 11 points (0.00–1.25 s); min 7.61, max 8.36, last 7.61 at 1.25 s" */
function summarizeByTime(s: NamedSeries, formatX: Fmt): string {
  const p = s.points;
  if (!p.length) return `${s.label}: no data`;
  const f = s.format ?? fmtNum;
  const ys = p.map((q) => q.y);
  const last = p[p.length - 1];
  return `${s.label}: ${p.length} points (${formatX(p[0].x)}–${formatX(last.x)} s); min ${f(Math.min(...ys))}, max ${f(Math.max(...ys))}, last ${f(last.y)} at ${formatX(last.x)} s`;
}

/** The chart's canvas on the theme's background, as a PNG data URL. */
export function chartPng(card: ChartCard<string>, p: Palette): string {
  const src = card.canvas;
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height;
  const ctx = out.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context');
  ctx.fillStyle = p.background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, 0);
  return out.toDataURL('image/png');
}
