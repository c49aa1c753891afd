// A chart card: a focusable <figure> with the chart's canvas, a note, a screen-reader summary and a
// data-table alternative that a button shows.
import type { Chart } from 'chart.js';
import { el, fillTable } from '../shared/dom';
import type { Palette } from '../shared/palette';
import type { ChartKind, RunHistory } from './history';
import type { DataTable } from './tables';

export interface CardSpec<K extends string = ChartKind> {
  kind: K;
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
  {
    kind: 'gate',
    title: 'Gate figures (as logged)',
    note: 'Scalar router figures from a trainer that logs no per-expert counts (fairseq: overflow %, gating entropy in nats, unused experts), averaged over its MoE layers',
  },
];

/** What a card needs from the dashboard to draw. */
export interface RenderContext {
  history: RunHistory | null;
  palette: Palette;
  /** Index of the selected sparse layer in history.layers. */
  layer: number;
}

export class ChartCard<K extends string = ChartKind> {
  readonly figure: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly box: HTMLDivElement;
  readonly summary: HTMLParagraphElement;
  readonly tableWrap: HTMLDivElement;
  readonly table: HTMLTableElement;
  readonly summaryList: HTMLUListElement;
  readonly toggle: HTMLButtonElement;
  readonly extra: HTMLDivElement;
  /** Why the chart is empty for good (the run does not log it), in place of the chart. */
  readonly absent: HTMLParagraphElement;
  chart: Chart | null = null;

  constructor(readonly spec: CardSpec<K>) {
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
    this.absent = el('p', { class: 'card-absent', id: `${id}-absent`, hidden: true });
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
        'aria-describedby': `${id}-note ${id}-absent ${id}-summary`,
      },
      el(
        'figcaption',
        { class: 'card-head' },
        el('span', { class: 'card-title', id: `${id}-title` }, spec.title),
        this.toggle,
        el('span', { class: 'card-note', id: `${id}-note` }, spec.note),
      ),
      this.absent,
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

  /** Shows `text` instead of the chart (a figure this run does not log), or the chart again with null. */
  setAbsent(text: string | null): void {
    this.absent.hidden = text === null;
    this.absent.textContent = text ?? '';
    this.box.hidden = text !== null;
    if (text === null) delete this.figure.dataset.absent;
    else this.figure.dataset.absent = 'true';
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
