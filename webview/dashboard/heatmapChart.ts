// The expert-load heatmap: the selected layer's share of tokens per expert over steps (a matrix
// chart), with its color scale and data table.
import type { Chart, ChartDataset, ChartOptions, ScriptableContext, TooltipItem } from 'chart.js';
import { flatten, mix, toHex } from '../shared/color';
import { el } from '../shared/dom';
import { formatInt, formatPercent } from '../shared/format';
import type { Palette } from '../shared/palette';
import type { ChartCard, RenderContext } from './chartCard';
import { axisBase, matrixOptions, rgba, stepTicks } from './chartStyle';
import { cellIntensity, heatmapCells, type HeatCell } from './heatmap';
import { heatmapTable } from './tables';

function heatColor(p: Palette, v: number, maxShare: number): string {
  const t = cellIntensity(v, maxShare);
  const bg = flatten(rgba(p.background), { r: 0, g: 0, b: 0, a: 1 });
  return toHex(mix(bg, { ...rgba(p.blue), a: 1 }, 0.06 + 0.94 * t));
}

interface HeatRaw extends HeatCell {
  color: string;
}

export function heatmapOptions(p: Palette): ChartOptions<'matrix'> {
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

export function renderHeatmap(card: ChartCard<string>, ctx: RenderContext): void {
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
