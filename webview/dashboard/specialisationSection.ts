// The dashboard's "Specialisation" section: what the run's experts learned (engine/analysis, asked
// for with `analyze` and answered by `analysis`), with its own layer picker, the top tokens per
// expert and the router-health alerts in force at the latest step. Kept in the webview state.
import { z } from 'zod';
import { analysisSchema, type Analysis } from '../../engine/analysis/analysisSchema';
import { alertSchema, type Alert } from '../../engine/train/metrics';
import { el, fillTable } from '../shared/dom';
import { formatInt } from '../shared/format';
import type { Palette } from '../shared/palette';
import { ChartCard } from './chartCard';
import type { ValidationRow } from './history';
import { applySpecPalette, createSpecChart, renderSpecCard, SPEC_CARDS, type SpecCard } from './specialisationCharts';
import { topTokensTable } from './tables';
import '@vscode-elements/elements/dist/vscode-button/index.js';

export const specialisationStateSchema = z.object({
  runId: z.string(),
  layer: z.string().nullable(),
  analysis: analysisSchema.nullable(),
  alerts: z.array(alertSchema),
});
export type SpecialisationState = z.infer<typeof specialisationStateSchema>;

type Phase = 'idle' | 'loading' | 'ready' | 'error';

export class SpecialisationSection {
  readonly element: HTMLElement;
  private runId: string | null = null;
  private analysis: Analysis | null = null;
  private layer: string | null = null;
  private alerts: Alert[] = [];
  private readonly cards: SpecCard[] = [];
  private readonly status = el('p', { id: 'spec-status', class: 'spec-status', role: 'status' });
  private readonly analyzeButton = el('vscode-button', { id: 'spec-analyze', secondary: true }, 'Analyze newest checkpoint');
  private readonly layerSelect = el('select', { id: 'spec-layer-select', disabled: true });
  private readonly topTokens = el('table', { id: 'spec-top-tokens', class: 'data' });
  private readonly alertList = el('ul', { id: 'spec-alerts', class: 'alert-list', 'aria-label': 'Alerts in force' });

  constructor(
    private palette: Palette,
    private readonly request: (runId: string) => void,
    private readonly changed: () => void,
    /** The shown run's validation records (NMI and routing change at each validation step). */
    private readonly validation: () => readonly ValidationRow[],
  ) {
    this.analyzeButton.addEventListener('click', () => this.analyze());
    this.layerSelect.addEventListener('change', () => {
      this.layer = this.layerSelect.value || null;
      this.draw();
      this.changed();
    });
    const grid = el('div', { class: 'grid' });
    for (const spec of SPEC_CARDS) {
      const card = new ChartCard(spec);
      this.cards.push(card);
      grid.append(card.figure);
    }
    this.element = el(
      'section',
      { id: 'specialisation', class: 'specialisation', 'aria-labelledby': 'spec-title', 'data-phase': 'idle' },
      el(
        'div',
        { class: 'spec-head' },
        el('h2', { id: 'spec-title' }, 'Specialisation'),
        this.analyzeButton,
        el('div', { class: 'layer-picker' }, el('label', { for: 'spec-layer-select' }, 'Layer'), this.layerSelect),
      ),
      this.status,
      grid,
      el('div', { class: 'card spec-tokens' }, el('div', { class: 'table-wrap' }, this.topTokens)),
      el('div', { class: 'card spec-alerts' }, el('h3', {}, 'Alerts'), this.alertList),
    );
    this.setPhase('idle', 'No analysis yet.');
    this.drawAlerts();
  }

  /** Creates the charts (the section must be in the document). */
  attach(): void {
    for (const card of this.cards) createSpecChart(card, this.palette, () => this.labels());
  }

  /** A run is shown (init): a finished run is analyzed at once, a live one on the button. */
  showRun(runId: string, live: boolean, alerts: Alert[]): void {
    if (runId !== this.runId) {
      this.runId = runId;
      this.analysis = null;
      this.setPhase('idle', live ? 'The run is training: analyze its newest checkpoint with the button, or wait for it to finish.' : 'No analysis yet.');
      this.fillLayers();
    }
    this.draw(); // the run's validation records may be new
    this.alerts = alerts;
    this.drawAlerts();
    if (!live && !this.analysis) this.analyze();
  }

  onStep(alerts: Alert[] | undefined): void {
    const next = alerts ?? [];
    if (JSON.stringify(next) === JSON.stringify(this.alerts)) return;
    this.alerts = next;
    this.drawAlerts();
    this.changed();
  }

  /** A validation record arrived: the curves over training grow. */
  onValidation(): void {
    this.draw();
  }

  /** The run stopped or completed: its last checkpoint is the one to explain. */
  onFinished(): void {
    this.analyze();
  }

  onAnalysis(runId: string, a: Analysis): void {
    if (runId !== this.runId) return;
    this.analysis = a;
    this.setPhase('ready', `Checkpoint step ${formatInt(a.step)} · ${a.validationBatches} validation batches in eval mode · ${a.router} router at eval capacity factor ×${a.evalCapacityFactor}`);
    this.fillLayers();
    this.draw();
    this.changed();
  }

  onError(runId: string, message: string): void {
    if (runId === this.runId) this.setPhase('error', `Could not analyze the run: ${message}`);
  }

  setPalette(p: Palette): void {
    this.palette = p;
    for (const card of this.cards) applySpecPalette(card, p, () => this.labels());
    this.draw();
  }

  state(): SpecialisationState | null {
    return this.runId ? { runId: this.runId, layer: this.layer, analysis: this.analysis, alerts: this.alerts } : null;
  }

  /** Restores a previous session's section if it was on `runId`. */
  restore(raw: unknown, runId: string): void {
    const r = specialisationStateSchema.safeParse(raw);
    if (!r.success || r.data.runId !== runId) return;
    this.runId = runId;
    this.layer = r.data.layer;
    this.alerts = r.data.alerts;
    this.drawAlerts();
    if (r.data.analysis) this.onAnalysis(runId, r.data.analysis);
  }

  private analyze(): void {
    if (!this.runId || this.element.dataset.phase === 'loading') return;
    this.setPhase('loading', 'Analyzing the newest checkpoint…');
    this.request(this.runId);
  }

  private setPhase(phase: Phase, text: string): void {
    this.element.dataset.phase = phase;
    this.element.dataset.analysisStep = phase === 'ready' && this.analysis ? String(this.analysis.step) : '';
    this.status.textContent = text;
    this.analyzeButton.disabled = phase === 'loading' || !this.runId;
  }

  private get layerIndex(): number {
    const i = this.analysis?.layers.findIndex((l) => l.layer === this.layer) ?? -1;
    return Math.max(0, i);
  }

  private labels(): readonly string[] {
    return this.analysis?.layers[this.layerIndex]?.specialisation.labels ?? [];
  }

  private fillLayers(): void {
    const layers = this.analysis?.layers.map((l) => l.layer) ?? [];
    if (!this.layer || !layers.includes(this.layer)) this.layer = layers[0] ?? null;
    this.layerSelect.replaceChildren(...layers.map((name, i) => el('option', { value: name }, `${i}: ${name}`)));
    this.layerSelect.value = this.layer ?? '';
    this.layerSelect.disabled = layers.length === 0;
  }

  private draw(): void {
    const a = this.analysis;
    const validation = this.validation();
    for (const card of this.cards) card.figure.hidden = !renderSpecCard(card, a, validation, this.layerIndex, this.palette);
    this.topTokens.hidden = !a;
    if (a) fillTable(this.topTokens, topTokensTable(a, this.layerIndex));
  }

  private drawAlerts(): void {
    this.alertList.replaceChildren(
      ...(this.alerts.length
        ? this.alerts.map((x) => el('li', { class: 'alert', 'data-kind': x.kind }, `⚠ ${x.message} (since step ${formatInt(x.step)})`))
        : [el('li', { class: 'no-alert' }, 'No alert in force at the latest step.')]),
    );
  }
}
