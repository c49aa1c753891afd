// What the dashboard's charts share: theme-aware axes and tooltips, number formats, tick rules and
// the options of a matrix chart.
import { Chart, type ChartOptions } from 'chart.js';
import { parseColor, type Rgba } from '../shared/color';
import { formatNumber, formatPercent, niceTicks } from '../shared/format';
import type { Palette } from '../shared/palette';

export const rgba = (c: string): Rgba => parseColor(c) ?? { r: 128, g: 128, b: 128, a: 1 };

export function axisBase(p: Palette, title: string) {
  return {
    title: { display: true, text: title, color: p.muted, font: { size: p.fontSize - 1 } },
    ticks: { color: p.foreground, font: { size: p.fontSize - 2 } },
    grid: { color: p.grid },
    border: { color: p.grid },
  };
}

export function tooltip(p: Palette) {
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

export function applyFontDefaults(p: Palette): void {
  Chart.defaults.font.family = p.fontFamily;
  Chart.defaults.font.size = Math.max(10, p.fontSize - 1);
  Chart.defaults.color = p.foreground;
  Chart.defaults.borderColor = p.grid;
}

export type Fmt = (y: number) => string;

export const fmtNum: Fmt = (y) => formatNumber(y, 3);
export const fmtPct: Fmt = (y) => formatPercent(y, y !== 0 && Math.abs(y) < 0.01 ? 2 : 1);

/** Round step numbers as ticks on a step axis fitted to the data (chart.js would start at the first step). */
export function stepTicks(scale: { ticks: { value: number }[]; min: number; max: number; width: number }) {
  const count = Math.max(2, Math.min(8, Math.floor(scale.width / 70)));
  scale.ticks = niceTicks(scale.min, scale.max, count).map((value) => ({ value }));
}

/** Ticks at 0, 1, ..., n-1 on a scale that spans [-0.5, n-0.5] (matrix rows or columns). */
export function integerTicks() {
  return (scale: { ticks: { value: number }[]; max: number }) => {
    const n = Math.max(1, Math.round(scale.max + 0.5));
    const step = Math.max(1, Math.ceil(n / 24));
    const ticks: { value: number }[] = [];
    for (let v = 0; v < n; v += step) ticks.push({ value: v });
    scale.ticks = ticks;
  };
}

/** A matrix chart's options: no animation, legend or decimation; its tooltip texts and its two linear scales. */
export function matrixOptions(p: Palette, callbacks: object, scales: { x: object; y: object }): ChartOptions<'matrix'> {
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
