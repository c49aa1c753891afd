// The dashboard's charts: chart.js line charts (lineCharts.ts), a matrix heatmap of expert load
// (heatmapChart.ts), a matrix grid of mesh devices and a bar chart of communication (meshCharts.ts).
// Each chart lives in a card (chartCard.ts); this module creates, recolors and renders them by kind.
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
  type ChartOptions,
} from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';
import type { Palette } from '../shared/palette';
import type { ChartCard, RenderContext } from './chartCard';
import { applyFontDefaults, fmtNum, type Fmt } from './chartStyle';
import { heatmapOptions, renderHeatmap } from './heatmapChart';
import type { ChartKind, Point } from './history';
import { LINE_SPECS, lineOptions, renderLine } from './lineCharts';
import { commOptions, meshLabels, meshOptions, renderComm, renderMesh } from './meshCharts';

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
  const h = ctx.history;
  if ((card.spec.kind === 'mesh' || card.spec.kind === 'comm') && h?.run.external) {
    card.setAbsent(h.mesh ? null : 'Not available for this run: the engine simulates a mesh only for a model whose sizes and capacities it knows (its own runs).');
  }
}

/** A one-line text alternative of a series, for the KPI strip. */
export function lastValue(points: readonly Point[], format: Fmt = fmtNum): string {
  return points.length ? format(points[points.length - 1].y) : '–';
}

