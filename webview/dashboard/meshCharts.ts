// The simulated mesh: per-device utilization of the selected layer (a matrix chart with labels in
// its cells) and per-layer communication (stacked bars), each with its data table.
import { Chart, type ChartDataset, type ChartOptions, type Plugin, type ScriptableContext, type TooltipItem } from 'chart.js';
import { flatten, mix, readableTextColor, toHex, withAlpha, type Rgba } from '../shared/color';
import { el } from '../shared/dom';
import { formatBytes, formatInt, formatPercent, formatSeconds } from '../shared/format';
import type { Palette } from '../shared/palette';
import type { ChartCard, RenderContext } from './chartCard';
import { axisBase, integerTicks, matrixOptions, rgba, tooltip } from './chartStyle';
import { commBars, meshGrid, type MeshCell } from './mesh';
import { commTable, meshTable } from './tables';

interface MeshRaw extends MeshCell {
  color: string;
  text: string;
}

function meshColor(p: Palette, utilization: number): Rgba {
  const bg = flatten(rgba(p.background), { r: 0, g: 0, b: 0, a: 1 });
  return mix(bg, { ...rgba(p.green), a: 1 }, 0.1 + 0.9 * Math.min(1, Math.max(0, utilization)));
}

/** Writes each device's utilization in its cell when the cell is large enough. */
export const meshLabels: Plugin<'matrix'> = {
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

export function meshOptions(p: Palette): ChartOptions<'matrix'> {
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

export function renderMesh(card: ChartCard, ctx: RenderContext): void {
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

export function commOptions(p: Palette): ChartOptions<'bar'> {
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

export function renderComm(card: ChartCard, ctx: RenderContext): void {
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
