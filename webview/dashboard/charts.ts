// The dashboard's charts: chart.js line charts (decimated with LTTB), a matrix heatmap of expert
// load, a matrix grid of mesh devices and a bar chart of communication. Each chart lives in a
// focusable <figure> with a data-table alternative; `render` copies the model's current data in.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
  type ChartOptions,
  type Plugin,
  type ScriptableContext,
  type TooltipItem,
} from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';
import { flatten, mix, parseColor, readableTextColor, toHex, withAlpha, type Rgba } from '../shared/color';
import { el, fillTable } from '../shared/dom';
import { formatBytes, formatInt, formatNumber, formatPercent, formatSeconds, niceTicks } from '../shared/format';
import { seriesColor, seriesDash, type Palette } from '../shared/palette';
import { cellIntensity, heatmapCells, type HeatCell } from './heatmap';
import type { ChartKind, Point, RunHistory } from './history';
import { commBars, meshGrid, type MeshCell } from './mesh';
import { commTable, heatmapTable, meshTable, seriesTable, type DataTable, type NamedSeries } from './tables';

Chart.register(
  LineController,
  LineElement,
  PointElement,
  BarController,
  BarElement,
  LinearScale,
  CategoryScale,
  Tooltip,
  Legend,
  Decimation,
  MatrixController,
  MatrixElement,
);

export interface CardSpec {
  kind: ChartKind;
  title: string;
  /** What the chart shows, one line under the title. */
  note: string;
}

export const CARD_SPECS: readonly CardSpec[] = [
  { kind: 'loss', title: 'Cross-entropy and router losses', note: 'Cross-entropy (training, validation) · load-balancing loss and router z-loss on the right axis' },
  { kind: 'throughput', title: 'Throughput', note: 'Training tokens per second' },
  { kind: 'overflow', title: 'Dropped tokens', note: 'Overflow rate per sparse layer: share of routed tokens past expert capacity' },
  { kind: 'entropy', title: 'Router entropy', note: 'Mean router entropy per sparse layer, normalized by ln E (1 = uniform)' },
  { kind: 'loadcv', title: 'Load imbalance', note: 'Coefficient of variation of tokens per expert, per sparse layer (0 = balanced)' },
  { kind: 'heatmap', title: 'Expert load', note: "Share of the selected layer's tokens routed to each expert, over steps" },
  { kind: 'mesh', title: 'Mesh utilization', note: 'Per device (data rows × model columns) for the selected layer, latest step' },
  { kind: 'comm', title: 'Communication', note: 'Per layer: all-to-all bytes, and compute vs communication time (latest step)' },
];

/** What a card needs from the dashboard to draw. */
export interface RenderContext {
  history: RunHistory | null;
  palette: Palette;
  /** Index of the selected sparse layer in history.layers. */
  layer: number;
}

export class ChartCard {
  readonly figure: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly box: HTMLDivElement;
  readonly summary: HTMLParagraphElement;
  readonly tableWrap: HTMLDivElement;
  readonly table: HTMLTableElement;
  readonly summaryList: HTMLUListElement;
  readonly toggle: HTMLButtonElement;
  readonly extra: HTMLDivElement;
  chart: Chart | null = null;

  constructor(readonly spec: CardSpec) {
    const id = `chart-${spec.kind}`;
    // The figure carries the name and description; the canvas's content is in the data table.
    this.canvas = el('canvas', { 'aria-hidden': 'true' });
    this.box = el('div', { class: `chart-box chart-box-${spec.kind}` }, this.canvas);
    this.summary = el('p', { class: 'sr-only', id: `${id}-summary` }, 'No data yet.');
    this.table = el('table', { class: 'data' });
    this.summaryList = el('ul', { class: 'table-summary' });
    this.tableWrap = el('div', { class: 'table-wrap sr-only', id: `${id}-table` }, this.summaryList, this.table);
    this.toggle = el('button', { type: 'button', class: 'link-button', 'aria-expanded': 'false', 'aria-controls': `${id}-table` }, 'Show data');
    this.toggle.addEventListener('click', () => this.setTableShown(this.toggle.getAttribute('aria-expanded') !== 'true'));
    this.extra = el('div', { class: 'card-extra' });
    this.figure = el(
      'figure',
      {
        class: `card card-${spec.kind}`,
        id,
        'data-chart': spec.kind,
        'data-points': 0,
        'data-last-step': '',
        tabindex: 0,
        'aria-label': `${spec.title} chart`,
        'aria-describedby': `${id}-note ${id}-summary`,
      },
      el(
        'figcaption',
        { class: 'card-head' },
        el('span', { class: 'card-title', id: `${id}-title` }, spec.title),
        this.toggle,
        el('span', { class: 'card-note', id: `${id}-note` }, spec.note),
      ),
      this.box,
      this.extra,
      this.summary,
      this.tableWrap,
    );
  }

  get tableShown(): boolean {
    return this.toggle.getAttribute('aria-expanded') === 'true';
  }

  setTableShown(shown: boolean): void {
    this.toggle.setAttribute('aria-expanded', String(shown));
    this.toggle.textContent = shown ? 'Hide data' : 'Show data';
    this.tableWrap.classList.toggle('sr-only', !shown);
    this.figure.dispatchEvent(new CustomEvent('tabletoggle', { bubbles: true }));
  }

  /** Records what the chart holds, for tests and for the screen-reader summary. */
  setStats(points: number, lastStep: number | null, series: number): void {
    this.figure.dataset.points = String(points);
    this.figure.dataset.lastStep = lastStep === null ? '' : String(lastStep);
    this.figure.dataset.series = String(series);
  }

  setTable(t: DataTable): void {
    fillTable(this.table, t);
    this.summaryList.replaceChildren(...t.summary.map((s) => el('li', {}, s)));
    this.summary.textContent = t.summary.join('. ') || 'No data yet.';
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = null;
  }
}

// ---- Shared options

const rgba = (c: string): Rgba => parseColor(c) ?? { r: 128, g: 128, b: 128, a: 1 };

function axisBase(p: Palette, title: string) {
  return {
    title: { display: true, text: title, color: p.muted, font: { size: p.fontSize - 1 } },
    ticks: { color: p.foreground, font: { size: p.fontSize - 2 } },
    grid: { color: p.grid },
    border: { color: p.grid },
  };
}

function tooltip(p: Palette) {
  return {
    backgroundColor: p.tooltipBackground,
    titleColor: p.tooltipForeground,
    bodyColor: p.tooltipForeground,
    borderColor: p.tooltipBorder,
    borderWidth: 1,
    titleFont: { family: p.fontFamily, size: p.fontSize - 1 },
    bodyFont: { family: p.fontFamily, size: p.fontSize - 1 },
  };
}

function applyFontDefaults(p: Palette): void {
  Chart.defaults.font.family = p.fontFamily;
  Chart.defaults.font.size = Math.max(10, p.fontSize - 1);
  Chart.defaults.color = p.foreground;
  Chart.defaults.borderColor = p.grid;
}

type Fmt = (y: number) => string;

interface LineAxis {
  title: string;
  format: Fmt;
  min?: number;
  max?: number;
  beginAtZero?: boolean;
}

function lineOptions(p: Palette, y: LineAxis, y1?: LineAxis): ChartOptions<'line'> {
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
  const x = axisBase(p, 'Step');
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
          title: (items: TooltipItem<'line'>[]) => (items.length ? `Step ${formatInt(items[0].parsed.x ?? 0)}` : ''),
          label: (item: TooltipItem<'line'>) => {
            const ds = item.dataset as { label?: string; yAxisID?: string };
            const f = ds.yAxisID === 'y1' && y1 ? y1.format : y.format;
            return `${ds.label ?? ''}: ${f(item.parsed.y ?? NaN)}`;
          },
        },
      },
    },
    scales: {
      x: { type: 'linear', bounds: 'data', ...x, afterBuildTicks: stepTicks, ticks: { ...x.ticks, callback: (v: number | string) => formatInt(Number(v)) } },
      y: yScale(y, 'left', true),
      ...(y1 ? { y1: yScale(y1, 'right', false) } : {}),
    },
  } as ChartOptions<'line'>;
}

function lineDataset(label: string, data: Point[], color: string, extra: Partial<ChartDataset<'line', Point[]>> = {}): ChartDataset<'line', Point[]> {
  return { label, data, borderColor: color, backgroundColor: color, pointBackgroundColor: color, ...extra };
}

// ---- Line charts

const fmtNum: Fmt = (y) => formatNumber(y, 3);
const fmtPct: Fmt = (y) => formatPercent(y, y !== 0 && Math.abs(y) < 0.01 ? 2 : 1);

interface LineSpec {
  y: LineAxis;
  y1?: LineAxis;
  series(h: RunHistory, p: Palette): { ds: ChartDataset<'line', Point[]>; table: NamedSeries }[];
  tableCaption: string;
}

const LINE_SPECS: Partial<Record<ChartKind, LineSpec>> = {
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

function perLayer(h: RunHistory, p: Palette, series: Point[][], format: Fmt) {
  return h.layers.map((name, i) => {
    const c = seriesColor(p, i);
    return { ds: lineDataset(name, series[i] ?? [], c, { borderDash: seriesDash(i) }), table: { label: name, points: series[i] ?? [], format } };
  });
}

function renderLine(card: ChartCard, spec: LineSpec, ctx: RenderContext): void {
  const h = ctx.history;
  const series = h ? spec.series(h, ctx.palette) : [];
  const chart = card.chart as Chart<'line', Point[]> | null;
  if (!chart) return;
  const datasets = chart.data.datasets;
  // Keep dataset objects (chart.js keys its legend's hidden state on their index); replace data.
  series.forEach((s, i) => {
    if (!datasets[i]) datasets[i] = s.ds;
    else {
      const { data, ...style } = s.ds;
      Object.assign(datasets[i], style);
      datasets[i].data = data;
    }
  });
  datasets.length = series.length;
  chart.update('none');
  const points = series.reduce((m, s) => Math.max(m, s.table.points.length), 0);
  card.setStats(points, h?.lastStep ?? null, series.length);
  card.setTable(seriesTable(spec.tableCaption, series.map((s) => s.table)));
}

/** Round step numbers as ticks on a step axis fitted to the data (chart.js would start at the first step). */
function stepTicks(scale: { ticks: { value: number }[]; min: number; max: number; width: number }) {
  const count = Math.max(2, Math.min(8, Math.floor(scale.width / 70)));
  scale.ticks = niceTicks(scale.min, scale.max, count).map((value) => ({ value }));
}

/** Ticks at 0, 1, ..., n-1 on a scale that spans [-0.5, n-0.5] (matrix rows or columns). */
function integerTicks() {
  return (scale: { ticks: { value: number }[]; max: number }) => {
    const n = Math.max(1, Math.round(scale.max + 0.5));
    const step = Math.max(1, Math.ceil(n / 24));
    const ticks: { value: number }[] = [];
    for (let v = 0; v < n; v += step) ticks.push({ value: v });
    scale.ticks = ticks;
  };
}

// ---- Heatmap

function heatColor(p: Palette, v: number, maxShare: number): string {
  const t = cellIntensity(v, maxShare);
  const bg = flatten(rgba(p.background), { r: 0, g: 0, b: 0, a: 1 });
  return toHex(mix(bg, { ...rgba(p.blue), a: 1 }, 0.06 + 0.94 * t));
}

interface HeatRaw extends HeatCell {
  color: string;
}

/** A matrix chart's options: no animation, legend or decimation; its tooltip texts and its two linear scales. */
function matrixOptions(p: Palette, callbacks: object, scales: { x: object; y: object }): ChartOptions<'matrix'> {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { display: false }, decimation: { enabled: false }, tooltip: { ...tooltip(p), callbacks } },
    scales: {
      x: { type: 'linear', offset: false, ...scales.x },
      y: { type: 'linear', reverse: true, offset: false, grid: { display: false }, afterBuildTicks: integerTicks(), ...scales.y },
    },
  } as ChartOptions<'matrix'>;
}

function heatmapOptions(p: Palette): ChartOptions<'matrix'> {
  const x = axisBase(p, 'Step');
  const y = axisBase(p, 'Expert');
  return matrixOptions(
    p,
    {
      title: (items: TooltipItem<'matrix'>[]) => {
        const r = items[0]?.raw as HeatRaw | undefined;
        if (!r) return '';
        return r.x1 - r.x0 > 1 ? `Steps ${formatInt(r.x0)}–${formatInt(r.x1 - 1)} (${r.n} records)` : `Step ${formatInt(r.x0)}`;
      },
      label: (item: TooltipItem<'matrix'>) => {
        const r = item.raw as HeatRaw;
        return `Expert ${r.y}: ${formatPercent(r.v)} of the tokens`;
      },
    },
    {
      x: { ...x, afterBuildTicks: stepTicks, ticks: { ...x.ticks, callback: (v: number | string) => formatInt(Number(v)) } },
      y: { ...y, grid: { display: false }, ticks: { ...y.ticks, autoSkip: true, callback: (v: number | string) => `E${v}` } },
    },
  );
}

function renderHeatmap(card: ChartCard, ctx: RenderContext): void {
  const chart = card.chart as Chart<'matrix', HeatRaw[]> | null;
  if (!chart) return;
  const h = ctx.history;
  const layerName = h?.layers[ctx.layer] ?? '';
  const map = heatmapCells(h?.rows ?? [], ctx.layer);
  const data: HeatRaw[] = map.cells.map((c) => ({ ...c, color: heatColor(ctx.palette, c.v, map.maxShare) }));
  const ds = chart.data.datasets[0] ?? (chart.data.datasets[0] = { label: 'Expert load', data: [] } as ChartDataset<'matrix', HeatRaw[]>);
  ds.data = data;
  Object.assign(ds, {
    label: `Expert load of ${layerName}`,
    backgroundColor: (c: ScriptableContext<'matrix'>) => (c.raw as HeatRaw | undefined)?.color ?? 'transparent',
    borderWidth: 0,
    width: (c: ScriptableContext<'matrix'>) => {
      const r = c.raw as HeatRaw | undefined;
      const xs = c.chart.scales.x;
      if (!r || !xs) return 0;
      // Narrow columns overlap by half a pixel (no hairline gaps); wide ones keep a 1 px gutter.
      return Math.max(1, Math.abs(xs.getPixelForValue(r.x1) - xs.getPixelForValue(r.x0)) + (map.columns > 60 ? 0.5 : -1));
    },
    height: (c: ScriptableContext<'matrix'>) => {
      const area = c.chart.chartArea;
      return area ? Math.max(1, area.height / Math.max(1, map.experts) - (map.experts > 32 ? 0 : 1)) : 0;
    },
  });
  const scales = chart.options.scales as Record<string, { min?: number; max?: number }>;
  const first = map.cells[0];
  const last = map.cells[map.cells.length - 1];
  scales.x.min = first ? first.x0 : 0;
  scales.x.max = last ? last.x1 : 1;
  scales.y.min = -0.5;
  scales.y.max = Math.max(1, map.experts) - 0.5;
  // Taller for many experts, within bounds.
  card.box.style.height = `${Math.min(420, Math.max(180, map.experts * 16 + 70))}px`;
  chart.update('none');
  card.setStats(map.cells.length, map.lastStep, map.experts);
  card.setTable(heatmapTable(map, layerName));
  // The color scale.
  const lo = heatColor(ctx.palette, 0, map.maxShare || 1);
  const hi = heatColor(ctx.palette, map.maxShare || 1, map.maxShare || 1);
  const bar = el('span', { class: 'scale-bar', 'aria-hidden': 'true' });
  bar.style.backgroundImage = `linear-gradient(to right, ${lo}, ${hi})`;
  card.extra.replaceChildren(
    el('span', { class: 'scale-label' }, '0%'),
    bar,
    el('span', { class: 'scale-label' }, map.cells.length ? formatPercent(map.maxShare) : '–'),
    el('span', { class: 'scale-note' }, map.experts ? `of ${layerName}'s tokens · balanced = ${formatPercent(1 / map.experts)}` : ''),
  );
}

// ---- Mesh grid

interface MeshRaw extends MeshCell {
  color: string;
  text: string;
}

function meshColor(p: Palette, utilization: number): Rgba {
  const bg = flatten(rgba(p.background), { r: 0, g: 0, b: 0, a: 1 });
  return mix(bg, { ...rgba(p.green), a: 1 }, 0.1 + 0.9 * Math.min(1, Math.max(0, utilization)));
}

/** Writes each device's utilization in its cell when the cell is large enough. */
const meshLabels: Plugin<'matrix'> = {
  id: 'meshLabels',
  afterDatasetsDraw(chart) {
    const meta = chart.getDatasetMeta(0);
    const { ctx } = chart;
    ctx.save();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.font = `${Math.max(9, (Chart.defaults.font.size ?? 12) - 1)}px ${Chart.defaults.font.family}`;
    meta.data.forEach((elem, i) => {
      const raw = chart.data.datasets[0].data[i] as unknown as MeshRaw | undefined;
      const e = elem as unknown as { x: number; y: number; width: number; height: number };
      if (!raw || e.width < 34 || e.height < 16) return;
      const c = e as unknown as { getCenterPoint(): { x: number; y: number } };
      const { x, y } = c.getCenterPoint();
      ctx.fillStyle = raw.text;
      const label = e.width > 90 && e.height > 34 ? [`d${raw.y}·m${raw.x}`, formatPercent(raw.v, 0)] : [formatPercent(raw.v, 0)];
      label.forEach((line, k) => ctx.fillText(line, x, y + (k - (label.length - 1) / 2) * 14));
    });
    ctx.restore();
  },
};

function meshOptions(p: Palette): ChartOptions<'matrix'> {
  const x = axisBase(p, 'Model column');
  const y = axisBase(p, 'Data row');
  return matrixOptions(
    p,
    {
      title: (items: TooltipItem<'matrix'>[]) => {
        const r = items[0]?.raw as MeshRaw | undefined;
        return r ? `Device data ${r.y}, model ${r.x}` : '';
      },
      label: (item: TooltipItem<'matrix'>) => {
        const d = (item.raw as MeshRaw).device;
        return [
          `Utilization ${formatPercent(d.utilization)} (${formatInt(d.tokens)} / ${formatInt(d.slots)} slots)`,
          `Experts ${d.experts.join(', ') || '–'}`,
          `Dropped ${formatInt(d.dropped)} · idle ${formatPercent(d.idleFraction)}`,
          `Compute ${formatSeconds(d.computeTime)} · comm ${formatSeconds(d.commTime)}`,
        ];
      },
    },
    {
      x: { ...x, grid: { display: false }, afterBuildTicks: integerTicks(), ticks: { ...x.ticks, callback: (v: number | string) => `m${v}` } },
      y: { ...y, grid: { display: false }, ticks: { ...y.ticks, callback: (v: number | string) => `d${v}` } },
    },
  );
}

function renderMesh(card: ChartCard, ctx: RenderContext): void {
  const chart = card.chart as Chart<'matrix', MeshRaw[]> | null;
  if (!chart) return;
  const h = ctx.history;
  const mesh = h?.mesh ?? null;
  const grid = mesh ? meshGrid(mesh.data, h?.layers[ctx.layer] ?? null, ctx.layer) : null;
  const data: MeshRaw[] = (grid?.cells ?? []).map((c) => {
    const color = meshColor(ctx.palette, c.v);
    return { ...c, color: toHex(color), text: readableTextColor(color) };
  });
  const ds = chart.data.datasets[0] ?? (chart.data.datasets[0] = { label: 'Utilization', data: [] } as ChartDataset<'matrix', MeshRaw[]>);
  ds.data = data;
  const rows = grid?.rows ?? 1;
  const cols = grid?.cols ?? 1;
  Object.assign(ds, {
    label: 'Utilization',
    backgroundColor: (c: ScriptableContext<'matrix'>) => (c.raw as MeshRaw | undefined)?.color ?? 'transparent',
    borderColor: ctx.palette.border,
    borderWidth: ctx.palette.kind.startsWith('high-contrast') ? 1 : 0,
    width: (c: ScriptableContext<'matrix'>) => (c.chart.chartArea ? Math.max(1, c.chart.chartArea.width / cols - 2) : 0),
    height: (c: ScriptableContext<'matrix'>) => (c.chart.chartArea ? Math.max(1, c.chart.chartArea.height / rows - 2) : 0),
  });
  const scales = chart.options.scales as Record<string, { min?: number; max?: number }>;
  scales.x.min = -0.5;
  scales.x.max = cols - 0.5;
  scales.y.min = -0.5;
  scales.y.max = rows - 0.5;
  card.box.style.height = `${Math.min(440, Math.max(170, rows * 30 + 70))}px`;
  chart.update('none');
  card.setStats(data.length, mesh?.step ?? null, grid ? 1 : 0);
  if (grid && mesh) {
    card.setTable(meshTable(grid, mesh.step));
    card.extra.replaceChildren(
      el('span', { class: 'scale-note' }, `Step ${formatInt(mesh.step)} · ${grid.layer.layer} · mesh ${mesh.data.shape.data}×${mesh.data.shape.model} · whole-step utilization ${formatPercent(mesh.data.meshUtilization)}`),
    );
  } else {
    card.setTable({ caption: 'Device utilization', columns: ['Device'], rows: [], summary: ['No mesh data yet (the run streams it with each step when the engine simulates a mesh).'] });
    card.extra.replaceChildren(el('span', { class: 'scale-note' }, 'No mesh data yet.'));
  }
}

// ---- Communication bars

function commOptions(p: Palette): ChartOptions<'bar'> {
  const x = axisBase(p, 'Sparse layer');
  const y = axisBase(p, 'All-to-all bytes');
  const y1 = axisBase(p, 'Time per step');
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: {
      decimation: { enabled: false },
      legend: { position: 'bottom', labels: { color: p.foreground, boxWidth: 12, font: { size: p.fontSize - 1 } } },
      tooltip: {
        ...tooltip(p),
        callbacks: {
          label: (item: TooltipItem<'bar'>) => {
            const ds = item.dataset as { label?: string; yAxisID?: string };
            const v = item.parsed.y ?? NaN;
            return `${ds.label ?? ''}: ${ds.yAxisID === 'y1' ? formatSeconds(v) : formatBytes(v)}`;
          },
        },
      },
    },
    scales: {
      x: { type: 'category', stacked: true, ...x, grid: { display: false } },
      y: { type: 'linear', position: 'left', stacked: true, beginAtZero: true, ...y, ticks: { ...y.ticks, maxTicksLimit: 6, callback: (v: number | string) => formatBytes(Number(v)) } },
      y1: {
        type: 'linear',
        position: 'right',
        stacked: true,
        beginAtZero: true,
        ...y1,
        grid: { ...y1.grid, drawOnChartArea: false },
        ticks: { ...y1.ticks, maxTicksLimit: 6, callback: (v: number | string) => formatSeconds(Number(v)) },
      },
    },
  } as ChartOptions<'bar'>;
}

function renderComm(card: ChartCard, ctx: RenderContext): void {
  const chart = card.chart as Chart<'bar', number[], string> | null;
  if (!chart) return;
  const mesh = ctx.history?.mesh ?? null;
  const bars = mesh ? commBars(mesh.data) : { labels: [], allToAllBytes: [], computeTime: [], commTime: [] };
  const p = ctx.palette;
  const specs: ChartDataset<'bar', number[]>[] = [
    { label: 'All-to-all bytes', data: bars.allToAllBytes, yAxisID: 'y', stack: 'bytes', backgroundColor: withAlpha(p.blue, 0.85), borderColor: p.blue, borderWidth: 1 },
    { label: 'Compute time', data: bars.computeTime, yAxisID: 'y1', stack: 'time', backgroundColor: withAlpha(p.green, 0.85), borderColor: p.green, borderWidth: 1 },
    { label: 'Communication time', data: bars.commTime, yAxisID: 'y1', stack: 'time', backgroundColor: withAlpha(p.orange, 0.85), borderColor: p.orange, borderWidth: 1 },
  ];
  chart.data.labels = bars.labels;
  specs.forEach((s, i) => {
    if (!chart.data.datasets[i]) chart.data.datasets[i] = s;
    else Object.assign(chart.data.datasets[i], s);
  });
  chart.update('none');
  card.setStats(bars.labels.length, mesh?.step ?? null, specs.length);
  if (mesh) card.setTable(commTable(bars, mesh.step));
  else card.setTable({ caption: 'Communication per layer', columns: ['Layer'], rows: [], summary: ['No mesh data yet.'] });
}

// ---- Creation and theme

function optionsFor(kind: ChartKind, p: Palette): ChartOptions {
  const line = LINE_SPECS[kind];
  if (line) return lineOptions(p, line.y, line.y1) as ChartOptions;
  if (kind === 'heatmap') return heatmapOptions(p) as ChartOptions;
  if (kind === 'mesh') return meshOptions(p) as ChartOptions;
  return commOptions(p) as ChartOptions;
}

/** Creates the card's chart (once its canvas is in the document). */
export function createChart(card: ChartCard, p: Palette): void {
  applyFontDefaults(p);
  const kind = card.spec.kind;
  const options = optionsFor(kind, p);
  if (LINE_SPECS[kind]) card.chart = new Chart(card.canvas, { type: 'line', data: { datasets: [] }, options: options as ChartOptions<'line'> });
  else if (kind === 'heatmap') card.chart = new Chart(card.canvas, { type: 'matrix', data: { datasets: [] }, options: options as ChartOptions<'matrix'> });
  else if (kind === 'mesh')
    card.chart = new Chart(card.canvas, { type: 'matrix', data: { datasets: [] }, options: options as ChartOptions<'matrix'>, plugins: [meshLabels] });
  else card.chart = new Chart(card.canvas, { type: 'bar', data: { labels: [], datasets: [] }, options: options as ChartOptions<'bar'> });
}

/** New theme colors: new options; the next render recolors the data. */
export function applyPalette(card: ChartCard, p: Palette): void {
  applyFontDefaults(p);
  if (card.chart) card.chart.options = optionsFor(card.spec.kind, p) as never;
}

/** Copies the model's data for this card into its chart (one chart.update) and its table. */
export function renderCard(card: ChartCard, ctx: RenderContext): void {
  const line = LINE_SPECS[card.spec.kind];
  if (line) renderLine(card, line, ctx);
  else if (card.spec.kind === 'heatmap') renderHeatmap(card, ctx);
  else if (card.spec.kind === 'mesh') renderMesh(card, ctx);
  else renderComm(card, ctx);
}

/** A one-line text alternative of a series, for the KPI strip. */
export function lastValue(points: readonly Point[], format: Fmt = fmtNum): string {
  return points.length ? format(points[points.length - 1].y) : '–';
}

