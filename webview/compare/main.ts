// The Compare view webview: two or more runs side by side from the extension's `init` (the results
// table, each entry over its seeds when an experiment ran several, overlaid curves, one load heatmap per run for the selected layer); sends `ready`, PNGs and
// Export Markdown back. See engine/protocol.ts (compareInboundSchema, compareOutboundSchema).
import '../shared/zodSetup';
import { Chart } from 'chart.js';
import { z } from 'zod';
import { compareInboundSchema, compareOutboundSchema, compareSelectionSchema, type CompareInbound, type CompareSelection } from '../../engine/protocol';
import { el, fillTable } from '../shared/dom';
import { DASHES, seriesColor, type Palette } from '../shared/palette';
import { watchTheme } from '../shared/theme';
import { listen, poster, vscodeApi } from '../shared/vscode';
import { ChartCard } from '../dashboard/chartCard';
import { heatmapOptions, renderHeatmap } from '../dashboard/heatmapChart';
import { chartPng, COMPARE_LINES, createLineChart, recolorLineChart, renderLineChart, type LineKind } from './compareCharts';
import { OptionalTable } from './optionalTable';
import { comparedRuns, layerNames, legendGroups, seededRuns, type CompareInit, type ComparedRun } from './runs';

const TAG = 'compare';
const post = poster(compareOutboundSchema, TAG);

/** What survives a reload: the selection (the extension reads the runs again) and the view's choices. */
const stateSchema = z.object({
  v: z.literal(1),
  selection: compareSelectionSchema,
  layer: z.string().nullable(),
  shownTables: z.array(z.string()),
});
type SavedState = z.infer<typeof stateSchema>;

class ComparePage {
  private palette: Palette;
  private runs: ComparedRun[] = [];
  private selection: CompareSelection | undefined;
  private layer: string | null = null;
  private shownTables = new Set<string>();
  private readonly lines = new Map<LineKind, ChartCard<LineKind>>();
  private heatmaps: ChartCard<string>[] = [];

  private readonly title = el('h1', { id: 'compare-title' }, 'Compare runs');
  private readonly meta = el('p', { id: 'compare-meta', class: 'run-meta' });
  private readonly legend = el('ul', { id: 'legend', class: 'legend', 'aria-label': 'Runs and their colours' });
  private readonly layerSelect = el('select', { id: 'layer-select' });
  private readonly exportButton = el('button', { type: 'button', id: 'export-markdown', class: 'action' }, 'Export Markdown');
  private readonly message = el('p', { id: 'empty-message', class: 'empty', role: 'status' });
  private readonly resultsTable = el('table', { id: 'results-table', class: 'data results' });
  private readonly results = el('section', { id: 'results', class: 'results-section', 'aria-label': 'Results' });
  /** Shown for an experiment with several seeds per entry. */
  private readonly entries = new OptionalTable(
    'entries',
    'Each entry over its seeds',
    'Over seeds',
    'Mean [least, greatest] over each entry’s seeds. The last figure is the entry’s late mean minus the first entry’s, seed by seed: both runs of a seed train on the same batches.',
    'Each grid entry over its seeds',
  );
  /** Shown for two or more entries or runs. */
  private readonly overTraining = new OptionalTable(
    'over-training',
    'Gaps to the first over training',
    'Over training',
    'Validation cross-entropy minus the first’s (seed by seed when the runs have seeds), averaged over each quarter of training: whether a gap opens or closes as the runs train on. The last quarter is the late window.',
    'Gap to the first entry or run in each quarter of training',
  );
  private readonly grid = el('section', { id: 'charts', class: 'grid', 'aria-label': 'Curves' });
  private readonly heatmapGrid = el('div', { id: 'heatmaps', class: 'grid heatmaps' });
  private readonly heatmapSection = el('section', { class: 'heatmap-section', 'aria-label': 'Expert load per run' });

  constructor(private readonly app: HTMLElement) {
    this.palette = watchTheme((p) => this.onTheme(p));
    this.layerSelect.addEventListener('change', () => {
      this.layer = this.layerSelect.value || null;
      this.drawHeatmaps();
      this.save();
    });
    this.exportButton.addEventListener('click', () => post({ type: 'exportMarkdown' }));
    const header = el(
      'header',
      { class: 'toolbar' },
      el('div', { class: 'run-info' }, this.title, this.meta, this.legend),
      el('div', { class: 'layer-picker' }, el('label', { for: 'layer-select' }, 'Sparse layer'), this.layerSelect),
      this.exportButton,
    );
    this.results.append(el('h2', {}, 'Results'), el('div', { class: 'table-scroll' }, this.resultsTable));
    for (const spec of COMPARE_LINES) {
      const card = this.card(spec);
      this.lines.set(spec.kind, card);
      this.grid.append(card.figure);
    }
    this.heatmapSection.append(el('h2', {}, 'Expert load per run'), this.heatmapGrid);
    app.replaceChildren(header, this.message, this.entries.section, this.overTraining.section, this.results, this.grid, this.heatmapSection);
    for (const spec of COMPARE_LINES) createLineChart(this.lines.get(spec.kind)!, spec, this.palette);
    this.setView('loading', 'Reading the runs…');
  }

  /** The selection and choices a previous session of this panel left, if any. */
  restore(raw: unknown): CompareSelection | undefined {
    const s = stateSchema.safeParse(raw);
    if (!s.success) return undefined;
    this.selection = s.data.selection;
    this.layer = s.data.layer;
    this.shownTables = new Set(s.data.shownTables);
    return s.data.selection;
  }

  handle(m: CompareInbound): void {
    if (m.type === 'empty') return this.setView('empty', m.message);
    if (m.type === 'requestPng') return this.sendPng(m.chart, m.requestId);
    this.show(m);
  }

  private show(init: CompareInit): void {
    this.selection = init.selection;
    this.runs = comparedRuns(init);
    this.title.textContent = init.title;
    this.meta.textContent = `${this.runs.length} runs · ${init.table.columns[3]} · ${init.table.columns[4]}`;
    this.showLegend();
    fillTable(this.resultsTable, { caption: 'Results: validation cross-entropy at equal steps and at equal training time, speed and routing', ...init.table });
    this.entries.fill(init.entries);
    this.overTraining.fill(init.overTraining);
    const layers = layerNames(this.runs);
    if (!this.layer || !layers.includes(this.layer)) this.layer = layers[0] ?? null;
    this.layerSelect.replaceChildren(...layers.map((name, i) => el('option', { value: name }, `${i}: ${name}`)));
    this.layerSelect.value = this.layer ?? '';
    this.layerSelect.disabled = layers.length === 0;
    this.makeHeatmaps();
    for (const [kind, card] of this.lines) card.setTableShown(this.shownTables.has(kind));
    this.setView('compare');
    this.drawAll();
    this.save();
  }

  /** A line per run, or per grid entry with each seed's dash named (the charts draw a seed's curve in it). */
  private showLegend(): void {
    const seeded = seededRuns(this.runs);
    this.legend.setAttribute('aria-label', seeded ? 'Grid entries, their colours, and the line of each seed' : 'Runs and their colours');
    this.legend.replaceChildren(
      ...legendGroups(this.runs, DASHES.length).map((g) => {
        const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true', 'data-color': String(g.color) });
        swatch.style.backgroundColor = seriesColor(this.palette, g.color);
        if (!seeded) return el('li', { 'data-run-id': g.runs[0].run.history.runId }, swatch, el('span', { class: 'legend-name' }, g.name));
        const seeds = g.runs.map(({ run, dash }) => `seed ${run.seed} ${DASHES[dash].name}`).join(', ');
        return el('li', { 'data-entry': g.name }, swatch, el('span', { class: 'legend-name' }, g.name), el('span', { class: 'legend-seeds' }, seeds));
      }),
    );
  }

  private card<K extends string>(spec: { kind: K; title: string; note: string }): ChartCard<K> {
    const card = new ChartCard<K>(spec);
    const png = el('button', { type: 'button', class: 'link-button png-button', 'aria-label': `Export ${spec.title} as PNG` }, 'PNG');
    png.addEventListener('click', () => this.sendPng(spec.kind));
    card.toggle.after(png);
    card.figure.addEventListener('tabletoggle', () => {
      if (card.tableShown) this.shownTables.add(spec.kind);
      else this.shownTables.delete(spec.kind);
      this.save();
    });
    return card;
  }

  private makeHeatmaps(): void {
    for (const c of this.heatmaps) c.destroy();
    this.heatmaps = this.runs.map((run, i) => {
      const card = this.card({ kind: `heatmap-${i}`, title: `Expert load of ${run.name}`, note: `Share of the selected layer's tokens per expert over steps (${run.history.runId})` });
      card.figure.dataset.runId = run.history.runId;
      return card;
    });
    this.heatmapGrid.replaceChildren(...this.heatmaps.map((c) => c.figure));
    for (const card of this.heatmaps) {
      card.setTableShown(this.shownTables.has(card.spec.kind));
      card.chart = new Chart(card.canvas, { type: 'matrix', data: { datasets: [] }, options: heatmapOptions(this.palette) });
    }
  }

  private drawAll(): void {
    for (const spec of COMPARE_LINES) renderLineChart(this.lines.get(spec.kind)!, spec, this.runs, this.palette);
    this.drawHeatmaps();
  }

  private drawHeatmaps(): void {
    this.heatmaps.forEach((card, i) => {
      const history = this.runs[i].history;
      const layer = this.layer ? history.layers.indexOf(this.layer) : -1;
      renderHeatmap(card, { history, palette: this.palette, layer });
      card.figure.dataset.layer = layer >= 0 ? (this.layer ?? '') : '';
      if (layer < 0) card.extra.replaceChildren(el('span', { class: 'scale-note' }, history.layers.length ? `No layer ${this.layer} in this run` : 'A dense run: no sparse layer'));
    });
  }

  private onTheme(p: Palette): void {
    this.palette = p;
    for (const spec of COMPARE_LINES) recolorLineChart(this.lines.get(spec.kind)!, spec, p);
    for (const card of this.heatmaps) if (card.chart) card.chart.options = heatmapOptions(p) as never;
    this.legend.querySelectorAll<HTMLElement>('.swatch').forEach((s) => (s.style.backgroundColor = seriesColor(p, Number(s.dataset.color))));
    if (this.runs.length) this.drawAll();
  }

  /** Sends chart `chart` as a PNG: the answer to `requestPng`, or (no id) the user's export. */
  private sendPng(chart: string, requestId?: number): void {
    const card = this.lines.get(chart as LineKind) ?? this.heatmaps.find((c) => c.spec.kind === chart);
    if (!card || this.app.dataset.view !== 'compare') {
      if (requestId !== undefined) post({ type: 'pngError', chart, requestId, message: `no chart ${chart} in this Compare view` });
      return;
    }
    post({ type: 'png', chart, dataUrl: chartPng(card, this.palette), ...(requestId !== undefined ? { requestId } : {}) });
  }

  private setView(view: 'loading' | 'compare' | 'empty', message = ''): void {
    this.app.dataset.view = view;
    this.app.dataset.runs = String(view === 'compare' ? this.runs.length : 0);
    this.message.textContent = message;
    this.message.hidden = view === 'compare';
    for (const part of [this.results, this.grid, this.heatmapSection, this.exportButton]) part.hidden = view !== 'compare';
    this.entries.show(view === 'compare');
    this.overTraining.show(view === 'compare');
  }

  private save(): void {
    if (!this.selection) return;
    const state: SavedState = { v: 1, selection: this.selection, layer: this.layer, shownTables: [...this.shownTables] };
    vscodeApi().setState(state);
  }
}

function start(): void {
  const app = document.getElementById('app') ?? document.body.appendChild(el('main', { id: 'app' }));
  const page = new ComparePage(app);
  listen(compareInboundSchema, TAG, (m) => page.handle(m));
  const selection = page.restore(vscodeApi().getState());
  post(selection ? { type: 'ready', selection } : { type: 'ready' });
}

start();
