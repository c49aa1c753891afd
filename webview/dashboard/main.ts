// The training dashboard webview: draws a run from the extension's `init`, then live `step`,
// `validation` and `state` messages; sends `ready` and run commands back. See engine/protocol.ts.
import '../shared/zodSetup';
import { dashboardInboundSchema, dashboardOutboundSchema, type DashboardInbound } from '../../engine/protocol';
import { el } from '../shared/dom';
import { formatInt, formatPercent } from '../shared/format';
import type { Palette } from '../shared/palette';
import { watchTheme } from '../shared/theme';
import { listen, poster, vscodeApi } from '../shared/vscode';
import { CARD_SPECS, ChartCard } from './chartCard';
import { applyPalette, createChart, lastValue, renderCard } from './charts';
import { controlState, isLiveState, type Command } from './controls';
import { CHART_KINDS, RunHistory, type ChartKind } from './history';
import { persistDashboard, restoreDashboard, type UiState } from './persist';
import { FrameScheduler } from './scheduler';
import { SpecialisationSection } from './specialisationSection';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';

const TAG = 'dashboard';
const post = poster(dashboardOutboundSchema, TAG);
/** Longest a command waits for the run's new state before the buttons come back. */
const COMMAND_TIMEOUT_MS = 5_000;
const PERSIST_DELAY_MS = 2_000;

const STATE_LABEL: Record<string, string> = { running: 'Running', paused: 'Paused', stopped: 'Stopped', completed: 'Completed' };

type View = 'loading' | 'run' | 'empty';

class Dashboard {
  private history: RunHistory | null = null;
  private palette: Palette;
  private layerName: string | null = null;
  private active = false;
  private pendingCommand: ReturnType<typeof setTimeout> | null = null;
  private persistTimer: ReturnType<typeof setTimeout> | null = null;
  private headerQueued = false;
  private readonly cards = new Map<ChartKind, ChartCard>();
  private readonly scheduler: FrameScheduler<ChartKind>;
  private readonly spec: SpecialisationSection;

  private readonly app: HTMLElement;
  private readonly title = el('h1', { id: 'run-title' }, 'Switchyard');
  private readonly meta = el('p', { id: 'run-meta', class: 'run-meta' });
  private readonly stateChip = el('span', { id: 'run-state', class: 'state-chip', 'data-state': 'none' }, 'No run');
  private readonly buttons: Record<Command, VscodeButton>;
  private readonly layerSelect = el('select', { id: 'layer-select' });
  private readonly banner = el('p', { id: 'run-message', class: 'banner', role: 'alert', hidden: true });
  private readonly emptyMessage = el('p', { id: 'empty-message', class: 'empty', role: 'status' });
  private readonly kpis = el('dl', { id: 'kpis', class: 'kpis', 'aria-label': 'Latest values' });
  private readonly grid = el('section', { id: 'charts', class: 'grid', 'aria-label': 'Charts' });
  private readonly announcer = el('div', { id: 'announce', class: 'sr-only', role: 'status', 'aria-live': 'polite' });

  constructor(app: HTMLElement) {
    this.app = app;
    // @vscode-elements/elements' button: the editor's own button look, focusable, Enter/Space to press.
    const button = (command: Command, label: string, secondary: boolean): VscodeButton => {
      const b = el('vscode-button', { id: `cmd-${command}`, class: `command command-${command}`, disabled: true, secondary }, label);
      b.addEventListener('click', () => this.command(command));
      return b;
    };
    this.buttons = { pause: button('pause', 'Pause', false), resume: button('resume', 'Resume', true), stop: button('stop', 'Stop', true) };
    this.layerSelect.disabled = true;
    this.layerSelect.addEventListener('change', () => {
      this.layerName = this.layerSelect.value || null;
      this.scheduler.mark(['heatmap', 'mesh'], true);
      this.persistSoon();
    });

    const header = el(
      'header',
      { class: 'toolbar' },
      el('div', { class: 'run-info' }, this.title, this.meta),
      this.stateChip,
      el('div', { class: 'controls', role: 'group', 'aria-label': 'Run controls' }, this.buttons.pause, this.buttons.resume, this.buttons.stop),
      el('div', { class: 'layer-picker' }, el('label', { for: 'layer-select' }, 'Sparse layer'), this.layerSelect),
    );
    for (const spec of CARD_SPECS) {
      const card = new ChartCard(spec);
      this.cards.set(spec.kind, card);
      this.grid.append(card.figure);
    }
    this.grid.addEventListener('tabletoggle', () => this.persistSoon());
    this.palette = watchTheme((p) => this.onTheme(p));
    this.spec = new SpecialisationSection(
      this.palette,
      (runId) => post({ type: 'analyze', runId }),
      () => this.persistSoon(),
      () => this.history?.validation ?? [],
    );
    app.replaceChildren(header, this.banner, this.emptyMessage, this.kpis, this.grid, this.spec.element, this.announcer);
    for (const card of this.cards.values()) createChart(card, this.palette);
    this.spec.attach();
    this.scheduler = new FrameScheduler<ChartKind>((kind) => this.draw(kind), (cb) => requestAnimationFrame(cb));
    this.setView('loading', 'Waiting for the run’s data…');

    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.persistNow();
    });
    window.addEventListener('pagehide', () => this.persistNow());
  }

  /** Draws the state a previous session of this panel left, if any. Returns its run id. */
  restore(state: unknown): string | undefined {
    const r = restoreDashboard(state);
    if (!r) return undefined;
    this.history = r.history;
    this.spec.restore((state as { specialisation?: unknown }).specialisation, r.history.runId);
    this.active = isLiveState(r.history.status) && r.history.run.active;
    this.layerName = r.ui.layer;
    for (const kind of r.ui.shownTables) this.cards.get(kind as ChartKind)?.setTableShown(true);
    this.showRun();
    return r.history.runId;
  }

  handle(m: DashboardInbound): void {
    switch (m.type) {
      case 'init': {
        this.history = RunHistory.fromInit(m.run, m.history, m.totalSteps);
        this.active = m.run.active;
        this.clearPending();
        this.showRun();
        const steps = m.history.filter((r) => r.type === 'step');
        this.spec.showRun(m.run.id, this.active, steps[steps.length - 1]?.alerts ?? []);
        this.persistNow();
        break;
      }
      case 'step': {
        if (!this.accepts(m.runId)) return;
        const before = this.history!.layers.length;
        this.scheduler.mark(this.history!.addStep(m.data));
        if (this.history!.layers.length !== before) this.fillLayers();
        this.spec.onStep(m.data.alerts);
        this.queueHeader();
        this.persistSoon();
        break;
      }
      case 'validation': {
        if (!this.accepts(m.runId)) return;
        this.scheduler.mark(this.history!.addValidation(m.data));
        this.spec.onValidation();
        this.queueHeader();
        this.persistSoon();
        break;
      }
      case 'state': {
        if (!this.accepts(m.runId)) return;
        const previous = this.history!.status?.state;
        this.history!.setStatus(m.data);
        const wasLive = this.active;
        // An external run is never the engine's to pause or stop, whatever its status.json says.
        this.active = isLiveState(m.data) && !this.history!.run.external;
        if (wasLive && !this.active) this.spec.onFinished();
        this.clearPending();
        if (previous !== m.data.state) this.announce(`Run ${STATE_LABEL[m.data.state].toLowerCase()}${m.data.message ? `: ${m.data.message}` : ''}`);
        this.updateHeader();
        this.persistNow();
        break;
      }
      case 'analysis':
        this.spec.onAnalysis(m.runId, m.analysis);
        break;
      case 'analysisError':
        this.spec.onError(m.runId, m.message);
        break;
      case 'empty': {
        this.history = null;
        this.active = false;
        this.clearPending();
        this.setView('empty', m.message);
        this.fillLayers();
        this.updateHeader();
        this.scheduler.mark(CHART_KINDS, true);
        vscodeApi().setState(null);
        break;
      }
    }
  }

  private accepts(runId: string): boolean {
    if (this.history?.runId === runId) return true;
    console.debug(`[switchyard ${TAG}] ignoring a message for run ${runId}: showing ${this.history?.runId ?? 'no run'}`);
    return false;
  }

  private showRun(): void {
    this.fillLayers();
    this.setView('run');
    this.updateHeader();
    this.scheduler.mark(CHART_KINDS, true);
  }

  private setView(view: View, message = ''): void {
    this.app.dataset.view = view;
    this.app.dataset.runId = this.history?.runId ?? '';
    this.emptyMessage.textContent = message;
    this.emptyMessage.hidden = view === 'run';
    this.grid.hidden = view !== 'run';
    this.spec.element.hidden = view !== 'run';
    this.kpis.hidden = view !== 'run';
  }

  private fillLayers(): void {
    const layers = this.history?.layers ?? [];
    if (!this.layerName || !layers.includes(this.layerName)) this.layerName = layers[0] ?? null;
    this.layerSelect.replaceChildren(...layers.map((name, i) => el('option', { value: name }, `${i}: ${name}`)));
    this.layerSelect.value = this.layerName ?? '';
    this.layerSelect.disabled = layers.length === 0;
  }

  private get layerIndex(): number {
    const i = this.history && this.layerName ? this.history.layers.indexOf(this.layerName) : -1;
    return Math.max(0, i);
  }

  private draw(kind: ChartKind): void {
    const card = this.cards.get(kind);
    if (card) renderCard(card, { history: this.history, palette: this.palette, layer: this.layerIndex });
  }

  private onTheme(p: Palette): void {
    this.palette = p;
    for (const card of this.cards.values()) applyPalette(card, p);
    this.spec?.setPalette(p);
    this.scheduler.mark(CHART_KINDS, true);
  }

  // ---- Header, controls

  private queueHeader(): void {
    if (this.headerQueued) return;
    this.headerQueued = true;
    requestAnimationFrame(() => {
      this.headerQueued = false;
      this.updateHeader();
    });
  }

  private updateHeader(): void {
    const h = this.history;
    const status = h?.status ?? null;
    this.title.textContent = h ? `Run ${h.runId}` : 'Switchyard';
    this.meta.textContent = h
      ? [h.run.preset, `${h.run.router} router`, `${h.run.numExperts} experts`, `${h.layers.length} sparse layers`, status?.backend].filter(Boolean).join(' · ')
      : '';
    const state = status?.state ?? 'none';
    this.stateChip.dataset.state = state;
    const step = Math.max(status?.step ?? 0, h?.lastStep ?? 0);
    this.stateChip.textContent = h
      ? `${STATE_LABEL[state] ?? 'Unknown'} · step ${formatInt(step)}${status?.steps ? ` / ${formatInt(status.steps)}` : ''}`
      : 'No run';
    this.banner.hidden = !status?.message;
    this.banner.textContent = status?.message ?? '';
    this.app.dataset.state = state;
    this.updateControls();
    this.updateKpis();
  }

  private updateControls(): void {
    const c = controlState(this.history?.status ?? null, this.active, this.pendingCommand !== null);
    for (const k of Object.keys(this.buttons) as Command[]) this.buttons[k].disabled = !c[k];
  }

  private updateKpis(): void {
    const h = this.history;
    if (!h) return this.kpis.replaceChildren();
    const last = h.rows[h.rows.length - 1];
    // Over the layers that logged an overflow rate (a layer without a capacity has none).
    const overflow = last?.layers.flatMap((l) => l?.overflowRate ?? []) ?? [];
    const meanOverflow = overflow.length ? overflow.reduce((s, x) => s + x, 0) / overflow.length : NaN;
    const items: [string, string, string][] = [
      ['step', 'Step', h.lastStep === null ? '–' : formatInt(h.lastStep)],
      h.trainCrossEntropy.length || !h.trainLoss.length ? ['cross-entropy', 'Cross-entropy', lastValue(h.trainCrossEntropy)] : ['loss', 'Loss (total)', lastValue(h.trainLoss)],
      ['val-cross-entropy', 'Validation cross-entropy', lastValue(h.valCrossEntropy)],
      ['throughput', 'Tokens/s', lastValue(h.throughput, (y) => formatInt(y))],
      ['dropped', 'Dropped', Number.isNaN(meanOverflow) ? '–' : formatPercent(meanOverflow)],
      ['mesh', 'Mesh utilization', h.mesh ? formatPercent(h.mesh.data.meshUtilization) : '–'],
    ];
    if (h.totalSteps > h.rows.length) items.push(['history', 'History', `${formatInt(h.rows.length)} of ${formatInt(h.totalSteps)} steps`]);
    this.kpis.replaceChildren(...items.map(([id, k, v]) => el('div', { class: 'kpi', 'data-kpi': id }, el('dt', {}, k), el('dd', {}, v))));
  }

  private command(command: Command): void {
    if (this.buttons[command].disabled) return;
    if (!post({ type: 'command', command })) return;
    // Until the run's new state arrives, no second command.
    this.pendingCommand = setTimeout(() => {
      this.pendingCommand = null;
      this.updateControls();
    }, COMMAND_TIMEOUT_MS);
    this.updateControls();
    this.announce(`${command[0].toUpperCase()}${command.slice(1)} requested`);
  }

  private clearPending(): void {
    if (this.pendingCommand !== null) clearTimeout(this.pendingCommand);
    this.pendingCommand = null;
  }

  private announce(text: string): void {
    this.announcer.textContent = text;
  }

  // ---- Webview state

  private ui(): UiState {
    return { layer: this.layerName, shownTables: [...this.cards.values()].filter((c) => c.tableShown).map((c) => c.spec.kind) };
  }

  private persistSoon(): void {
    if (this.persistTimer !== null) return;
    this.persistTimer = setTimeout(() => this.persistNow(), PERSIST_DELAY_MS);
  }

  private persistNow(): void {
    if (this.persistTimer !== null) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    if (this.history) vscodeApi().setState({ ...persistDashboard(this.history, this.ui()), specialisation: this.spec.state() });
  }
}

function start(): void {
  const app = document.getElementById('app') ?? document.body.appendChild(el('main', { id: 'app' }));
  const dashboard = new Dashboard(app);
  listen(dashboardInboundSchema, TAG, (m) => dashboard.handle(m));
  const runId = dashboard.restore(vscodeApi().getState());
  post(runId ? { type: 'ready', runId } : { type: 'ready' });
}

start();
