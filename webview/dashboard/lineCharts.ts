// The line charts: losses, throughput, and per-layer overflow, entropy and load imbalance (chart.js,
// decimated with LTTB, with a data table of the same series).
import type { Chart, ChartDataset, ChartOptions, TooltipItem } from 'chart.js';
import { formatInt, formatNumber } from '../shared/format';
import { seriesColor, seriesDash, type Palette } from '../shared/palette';
import type { ChartCard, RenderContext } from './chartCard';
import { axisBase, fmtNum, fmtPct, stepTicks, tooltip, type Fmt } from './chartStyle';
import type { ChartKind, Point, RunHistory } from './history';
import { seriesTable, type NamedSeries } from './tables';

interface LineAxis {
  title: string;
  format: Fmt;
  min?: number;
  max?: number;
  beginAtZero?: boolean;
}

/** The x axis of a line chart: steps unless told (the Compare view's training time). */
export interface XAxis {
  title: string;
  format: Fmt;
}
const STEP_AXIS: XAxis = { title: 'Step', format: formatInt };

export function lineOptions(p: Palette, y: LineAxis, y1?: LineAxis, xAxis: XAxis = STEP_AXIS): ChartOptions<'line'> {
  const yScale = (a: LineAxis, position: 'left' | 'right', grid: boolean) => {
    const base = axisBase(p, a.title);
    return {
      type: 'linear' as const,
      position,
      min: a.min,
      max: a.max,
      beginAtZero: a.beginAtZero ?? false,
      ...base,
      grid: { ...base.grid, drawOnChartArea: grid },
      ticks: { ...base.ticks, maxTicksLimit: 6, callback: (v: number | string) => a.format(Number(v)) },
    };
  };
  const x = axisBase(p, xAxis.title);
  return {
    parsing: false,
    normalized: true,
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    indexAxis: 'x',
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    elements: { point: { radius: 0, hitRadius: 6, hoverRadius: 3 }, line: { borderWidth: 1.5 } },
    plugins: {
      decimation: { enabled: true, algorithm: 'lttb' },
      legend: { position: 'bottom', labels: { color: p.foreground, boxWidth: 12, boxHeight: 2, font: { size: p.fontSize - 1 } } },
      tooltip: {
        ...tooltip(p),
        callbacks: {
          title: (items: TooltipItem<'line'>[]) => (items.length ? `${xAxis.title} ${xAxis.format(items[0].parsed.x ?? 0)}` : ''),
          label: (item: TooltipItem<'line'>) => {
            const ds = item.dataset as { label?: string; yAxisID?: string };
            const f = ds.yAxisID === 'y1' && y1 ? y1.format : y.format;
            return `${ds.label ?? ''}: ${f(item.parsed.y ?? NaN)}`;
          },
        },
      },
    },
    scales: {
      x: { type: 'linear', bounds: 'data', ...x, afterBuildTicks: stepTicks, ticks: { ...x.ticks, callback: (v: number | string) => xAxis.format(Number(v)) } },
      y: yScale(y, 'left', true),
      ...(y1 ? { y1: yScale(y1, 'right', false) } : {}),
    },
  } as ChartOptions<'line'>;
}

export function lineDataset(label: string, data: Point[], color: string, extra: Partial<ChartDataset<'line', Point[]>> = {}): ChartDataset<'line', Point[]> {
  return { label, data, borderColor: color, backgroundColor: color, pointBackgroundColor: color, ...extra };
}


export interface LineSpec {
  y: LineAxis;
  y1?: LineAxis;
  series(h: RunHistory, p: Palette): { ds: ChartDataset<'line', Point[]>; table: NamedSeries }[];
  tableCaption: string;
}

export const LINE_SPECS: Partial<Record<ChartKind, LineSpec>> = {
  loss: {
    y: { title: 'Cross-entropy (nats)', format: fmtNum },
    y1: { title: 'Load-balancing / z-loss', format: fmtNum, beginAtZero: true },
    tableCaption: 'Cross-entropy and router losses by step',
    series: (h, p) => [
      { ds: lineDataset('Training cross-entropy', h.trainCrossEntropy, p.blue), table: { label: 'Training cross-entropy', points: h.trainCrossEntropy, format: fmtNum } },
      {
        ds: lineDataset('Validation cross-entropy', h.valCrossEntropy, p.orange, { pointRadius: h.valCrossEntropy.length > 200 ? 0 : 2.5, borderWidth: 2 }),
        table: { label: 'Validation cross-entropy', points: h.valCrossEntropy, format: fmtNum },
      },
      {
        ds: lineDataset('Load-balancing loss', h.auxLoss, p.purple, { yAxisID: 'y1', borderDash: [5, 3], borderWidth: 1.25 }),
        table: { label: 'Load-balancing loss', points: h.auxLoss, format: fmtNum },
      },
      {
        ds: lineDataset('Router z-loss', h.zLoss, p.yellow, { yAxisID: 'y1', borderDash: [2, 3], borderWidth: 1.25 }),
        table: { label: 'Router z-loss', points: h.zLoss, format: fmtNum },
      },
    ],
  },
  overflow: {
    y: { title: 'Dropped tokens', format: fmtPct, beginAtZero: true },
    tableCaption: 'Overflow (dropped-token) rate per sparse layer by step',
    series: (h, p) => perLayer(h, p, h.overflow, fmtPct),
  },
  entropy: {
    y: { title: 'Entropy / ln E', format: (y) => formatNumber(y, 2), min: 0, max: 1 },
    tableCaption: 'Normalized router entropy per sparse layer by step',
    series: (h, p) => perLayer(h, p, h.entropy, (y) => formatNumber(y, 3)),
  },
  loadcv: {
    y: { title: 'Load CV', format: (y) => formatNumber(y, 2), beginAtZero: true },
    tableCaption: 'Load coefficient of variation per sparse layer by step',
    series: (h, p) => perLayer(h, p, h.loadCv, (y) => formatNumber(y, 3)),
  },
  throughput: {
    y: { title: 'Tokens / s', format: (y) => formatNumber(y, 3), beginAtZero: true },
    tableCaption: 'Training throughput (tokens per second) by step',
    series: (h, p) => [{ ds: lineDataset('Tokens / s', h.throughput, p.green), table: { label: 'Tokens / s', points: h.throughput, format: (y) => formatInt(y) } }],
  },
};

/** Gives the chart these datasets and redraws it once. */
export function setDatasets(chart: Chart<'line', Point[]>, next: ChartDataset<'line', Point[]>[]): void {
  const datasets = chart.data.datasets;
  // Keep dataset objects (chart.js keys its legend's hidden state on their index); replace data.
  next.forEach((ds, i) => {
    if (!datasets[i]) datasets[i] = ds;
    else {
      const { data, ...style } = ds;
      Object.assign(datasets[i], style);
      datasets[i].data = data;
    }
  });
  datasets.length = next.length;
  chart.update('none');
}

function perLayer(h: RunHistory, p: Palette, series: Point[][], format: Fmt) {
  return h.layers.map((name, i) => {
    const c = seriesColor(p, i);
    return { ds: lineDataset(name, series[i] ?? [], c, { borderDash: seriesDash(i) }), table: { label: name, points: series[i] ?? [], format } };
  });
}

export function renderLine(card: ChartCard, spec: LineSpec, ctx: RenderContext): void {
  const h = ctx.history;
  const series = h ? spec.series(h, ctx.palette) : [];
  const chart = card.chart as Chart<'line', Point[]> | null;
  if (!chart) return;
  setDatasets(chart, series.map((s) => s.ds));
  const points = series.reduce((m, s) => Math.max(m, s.table.points.length), 0);
  card.setStats(points, h?.lastStep ?? null, series.length);
  card.setTable(seriesTable(spec.tableCaption, series.map((s) => s.table)));
}
