// The Specialisation section's charts, drawn from a run's analysis (engine/analysis): the selected
// layer's experts × tags heatmap, NMI(expert; tag) over training, overflow by position, the capacity
// what-if (switch vs ntlb) and the routing change over training (overTraining.ts: at each validation
// step, or between kept checkpoints for older runs). Each with its data table.
import { Chart, type ChartDataset, type ChartOptions, type ScriptableContext, type TooltipItem } from 'chart.js';
import type { Analysis } from '../../engine/analysis/analysisSchema';
import { describeRouterInput } from '../../engine/analysis/routerInput';
import { flatten, mix, toHex } from '../shared/color';
import { el } from '../shared/dom';
import { formatInt, formatNumber, formatPercent } from '../shared/format';
import { seriesColor, seriesDash, type Palette } from '../shared/palette';
import type { CardSpec, ChartCard } from './chartCard';
import type { ValidationRow } from './history';
import { overTraining } from './overTraining';
import { axisBase, fmtPct, integerTicks, matrixOptions, rgba, tooltip, type Fmt } from './chartStyle';

export type SpecKind = 'tags' | 'nmi' | 'droppos' | 'whatif' | 'stability';
export type SpecCard = ChartCard<SpecKind>;

export const SPEC_CARDS: readonly CardSpec<SpecKind>[] = [
  { kind: 'tags', title: 'Experts × tags', note: "Share of each expert's tokens per tag (token class for a user corpus or the decoder), selected layer" },
  { kind: 'nmi', title: 'Specialisation over training', note: 'NMI(expert; tag) per layer at each validation step (0: the router ignores the tag; 1: the tag decides)' },
  { kind: 'droppos', title: 'Overflow by position', note: 'Share of tokens dropped by position in the sequence, per layer: slots are claimed in token order' },
  { kind: 'whatif', title: 'Capacity what-if', note: "Selected layer's dropped share replayed at other capacity factors: switch (dropped ride the residual) vs ntlb (re-routed)" },
  { kind: 'stability', title: 'Routing stability', note: 'Share of validation tokens whose expert changed since the previous validation step, per layer' },
];

interface XY {
  x: number;
  y: number;
}
interface Series {
  label: string;
  points: XY[];
}
interface TagCell {
  x: number;
  y: number;
  v: number;
  n: number;
  color: string;
}

/** The x axis of each line chart: title and tick format. */
const X_AXES: Record<Exclude<SpecKind, 'tags'>, { title: string; format: Fmt; y: string; yFormat: Fmt }> = {
  nmi: { title: 'Step', format: formatInt, y: 'NMI', yFormat: (y) => formatNumber(y, 3) },
  droppos: { title: 'Position in the sequence (bucket start)', format: formatInt, y: 'Dropped', yFormat: fmtPct },
  whatif: { title: 'Capacity factor', format: (x) => `×${formatNumber(x, 3)}`, y: 'Dropped', yFormat: fmtPct },
  stability: { title: 'Step', format: formatInt, y: 'Tokens that changed expert', yFormat: fmtPct },
};

function lineOptions(p: Palette, kind: Exclude<SpecKind, 'tags'>): ChartOptions<'line'> {
  const a = X_AXES[kind];
  const x = axisBase(p, a.title);
  const y = axisBase(p, a.y);
  return {
    parsing: false,
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    elements: { point: { radius: 2.5, hoverRadius: 4 }, line: { borderWidth: 1.5 } },
    plugins: {
      legend: { position: 'bottom', labels: { color: p.foreground, boxWidth: 12, boxHeight: 2, font: { size: p.fontSize - 1 } } },
      tooltip: {
        ...tooltip(p),
        callbacks: {
          title: (items: TooltipItem<'line'>[]) => (items.length ? `${a.title} ${a.format(items[0].parsed.x ?? 0)}` : ''),
          label: (item: TooltipItem<'line'>) => `${item.dataset.label ?? ''}: ${a.yFormat(item.parsed.y ?? NaN)}`,
        },
      },
    },
    scales: {
      x: { type: 'linear', ...x, ticks: { ...x.ticks, callback: (v: number | string) => a.format(Number(v)) } },
      y: { type: 'linear', beginAtZero: true, ...(kind === 'nmi' ? { max: 1 } : {}), ...y, ticks: { ...y.ticks, maxTicksLimit: 6, callback: (v: number | string) => a.yFormat(Number(v)) } },
    },
  } as ChartOptions<'line'>;
}

function tagOptions(p: Palette, labels: () => readonly string[]): ChartOptions<'matrix'> {
  const x = axisBase(p, 'Tag');
  const y = axisBase(p, 'Expert');
  return matrixOptions(
    p,
    {
      title: (items: TooltipItem<'matrix'>[]) => {
        const r = items[0]?.raw as TagCell | undefined;
        return r ? `Expert ${r.y} · ${labels()[r.x] ?? ''}` : '';
      },
      label: (item: TooltipItem<'matrix'>) => {
        const r = item.raw as TagCell;
        return `${formatPercent(r.v)} of the expert's tokens (${formatInt(r.n)})`;
      },
    },
    {
      x: { ...x, grid: { display: false }, min: -0.5, afterBuildTicks: integerTicks(), ticks: { ...x.ticks, autoSkip: false, callback: (v: number | string) => labels()[Number(v)] ?? '' } },
      y: { ...y, ticks: { ...y.ticks, callback: (v: number | string) => `E${v}` } },
    },
  );
}

/** Creates the card's chart; `labels` gives the tag heatmap's current column names. */
export function createSpecChart(card: SpecCard, p: Palette, labels: () => readonly string[]): void {
  const kind = card.spec.kind;
  card.chart =
    kind === 'tags'
      ? new Chart(card.canvas, { type: 'matrix', data: { datasets: [] }, options: tagOptions(p, labels) })
      : new Chart(card.canvas, { type: 'line', data: { datasets: [] }, options: lineOptions(p, kind) });
}

export function applySpecPalette(card: SpecCard, p: Palette, labels: () => readonly string[]): void {
  const kind = card.spec.kind;
  if (card.chart) card.chart.options = (kind === 'tags' ? tagOptions(p, labels) : lineOptions(p, kind)) as never;
}

/** What a line chart shows, and where its points come from (for its caption); null when it has none. */
function seriesOf(kind: Exclude<SpecKind, 'tags'>, a: Analysis | null, validation: readonly ValidationRow[], layer: number): { series: Series[]; caption: string } | null {
  if (kind === 'nmi' || kind === 'stability') {
    const o = overTraining(kind, validation, a);
    if (!o) return null;
    const at = o.source === 'validation' ? 'at each validation step' : 'at each kept checkpoint (the run\'s validation records lack it)';
    const what = kind === 'nmi' ? 'NMI(expert; tag) per sparse layer' : 'Share of validation tokens whose expert changed since the previous one, per sparse layer,';
    return { series: o.series, caption: `${what} ${at}` };
  }
  if (!a) return null;
  const l = a.layers[layer];
  if (kind === 'droppos') return { series: a.layers.map((x) => ({ label: x.layer, points: x.dropPosition.map((d) => ({ x: d.from, y: d.rate })) })), caption: 'Dropped share by position bucket, per sparse layer' };
  return {
    series: l ? (['switch', 'ntlb'] as const).map((rule) => ({ label: rule, points: l.whatIf.filter((w) => w.rule === rule).map((w) => ({ x: w.capacityFactor, y: w.droppedShare })) })) : [],
    caption: `Dropped share replayed at each capacity factor, per rule, ${l?.layer ?? ''} (the run: ${a.router} at ×${a.evalCapacityFactor})`,
  };
}

/** The what-if's real counterpart: the validation cross-entropy re-measured with other eval capacity factors. */
function lossAtFactorText(a: Analysis): string {
  return a.lossAtFactor.length ? `Validation cross-entropy re-measured (a forward pass each): ${a.lossAtFactor.map((p) => `×${formatNumber(p.capacityFactor, 3)} ${formatNumber(p.crossEntropy, 4)}`).join(' · ')}` : '';
}

/** Draws a line card; false when it has nothing to show. */
function renderLineCard(card: SpecCard, kind: Exclude<SpecKind, 'tags'>, a: Analysis | null, validation: readonly ValidationRow[], layer: number, p: Palette): boolean {
  const chart = card.chart as Chart<'line', XY[]> | null;
  const shown = seriesOf(kind, a, validation, layer);
  if (!chart || !shown) return false;
  const { series, caption } = shown;
  chart.data.datasets = series.map((s, i): ChartDataset<'line', XY[]> => {
    const c = seriesColor(p, i);
    return { label: s.label, data: s.points, borderColor: c, backgroundColor: c, pointBackgroundColor: c, borderDash: seriesDash(i) };
  });
  chart.update('none');
  const ax = X_AXES[kind];
  const xs = [...new Set(series.flatMap((s) => s.points.map((q) => q.x)))].sort((x, y) => x - y);
  const rows = xs.map((x) => [ax.format(x), ...series.map((s) => {
    const q = s.points.find((pt) => pt.x === x);
    return q ? ax.yFormat(q.y) : '–';
  })]);
  const points = series.reduce((m, s) => Math.max(m, s.points.length), 0);
  card.setStats(points, a?.step ?? xs.at(-1) ?? null, series.length);
  const remeasured = kind === 'whatif' && a ? lossAtFactorText(a) : '';
  card.setTable({ caption, columns: [ax.title, ...series.map((s) => s.label)], rows, summary: [...series.map((s) => `${s.label}: ${s.points.length} points`), ...(remeasured ? [remeasured] : [])] });
  if (kind === 'whatif') card.extra.replaceChildren(el('span', { class: 'scale-note', id: 'whatif-loss' }, remeasured));
  return true;
}

function renderTags(card: SpecCard, a: Analysis, layer: number, p: Palette): void {
  const chart = card.chart as Chart<'matrix', TagCell[]> | null;
  const l = a.layers[layer];
  if (!chart || !l) return;
  const s = l.specialisation;
  const max = Math.max(1e-9, ...s.experts.flatMap((e) => e.labelShares));
  const bg = flatten(rgba(p.background), { r: 0, g: 0, b: 0, a: 1 });
  const color = (v: number) => toHex(mix(bg, { ...rgba(p.blue), a: 1 }, 0.06 + 0.94 * (v / max)));
  const cells = s.experts.flatMap((e) => e.labelShares.map((v, j) => ({ x: j, y: e.expert, v, n: s.counts[e.expert]?.[j] ?? 0, color: color(v) })));
  chart.data.datasets = [
    {
      label: `Experts × tags of ${l.layer}`,
      data: cells,
      backgroundColor: (c: ScriptableContext<'matrix'>) => (c.raw as TagCell | undefined)?.color ?? 'transparent',
      borderWidth: 0,
      width: (c: ScriptableContext<'matrix'>) => (c.chart.chartArea ? c.chart.chartArea.width / Math.max(1, s.labels.length) - 1 : 0),
      height: (c: ScriptableContext<'matrix'>) => (c.chart.chartArea ? c.chart.chartArea.height / Math.max(1, s.experts.length) - 1 : 0),
    } as ChartDataset<'matrix', TagCell[]>,
  ];
  const scales = chart.options.scales as Record<string, { min?: number; max?: number }>;
  scales.x.max = s.labels.length - 0.5;
  scales.y.min = -0.5;
  scales.y.max = s.experts.length - 0.5;
  card.box.style.height = `${Math.min(420, Math.max(180, s.experts.length * 22 + 80))}px`;
  chart.update('none');
  card.setStats(cells.length, a.step, s.experts.length);
  card.setTable({
    caption: `Share of each expert's tokens per tag, ${l.layer} (NMI ${formatNumber(s.nmi, 3)})`,
    columns: ['Expert', 'Tokens', ...s.labels],
    rows: s.experts.map((e) => [`E${e.expert}`, formatInt(e.tokens), ...e.labelShares.map((v) => formatPercent(v))]),
    summary: s.experts.map((e) => `E${e.expert}: ${e.dominantLabel ? `mostly ${e.dominantLabel} (${formatPercent(Math.max(...e.labelShares))})` : 'no tokens'}`),
  });
  // Why the router routes as it does: an input mostly common to all tokens cannot set them apart.
  card.extra.replaceChildren(el('span', { class: 'scale-note', id: 'router-input' }, l.routerInput ? describeRouterInput(l.routerInput) : ''));
}

/** Draws the card from the analysis (if any) and the validation records; false when it has nothing to show. */
export function renderSpecCard(card: SpecCard, a: Analysis | null, validation: readonly ValidationRow[], layer: number, p: Palette): boolean {
  const kind = card.spec.kind;
  if (kind !== 'tags') return renderLineCard(card, kind, a, validation, layer, p);
  if (!a) return false;
  renderTags(card, a, layer, p);
  return true;
}
