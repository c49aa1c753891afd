// The routing side panel: the tokens of an inference result, each colored by the expert it was sent
// to at the selected sparse layer, dropped tokens marked, per-token entropy, the sentinel fills.
// Tokens form a listbox with a roving tabindex: arrows move, Enter reveals the token in the editor.
// Hovering or focusing a token shows a tooltip: what it is and what its expert usually takes (the
// run's analysis, sent by the extension as expert notes).
import '../shared/zodSetup';
import { routingInboundSchema, routingOutboundSchema, type ExpertNote, type InferenceResult, type RoutingInbound } from '../../engine/protocol';
import { el } from '../shared/dom';
import { expertColor, expertTextColor } from '../shared/expertColors';
import { formatInt, formatNumber, formatPercent } from '../shared/format';
import { explainToken, explanationParts } from '../shared/tokenExplanation';
import { watchTheme } from '../shared/theme';
import { listen, poster, vscodeApi } from '../shared/vscode';
import { clampLayer, layerSummary, legendEntries, nextTokenIndex, normalizedEntropy, restoreRouting, tokenViews, type PersistedRouting } from './model';

const TAG = 'routing';
const post = poster(routingOutboundSchema, TAG);

class RoutingPanel {
  private result: InferenceResult | null = null;
  private layer = 0;
  private focused = 0;
  private tokenEls: HTMLSpanElement[] = [];
  /** What the run's experts usually take (null until the extension sends them; `why` when not known). */
  private notes: { runId: string; notes?: ExpertNote[]; why?: string } | null = null;
  /** The token whose tooltip is shown, or null. */
  private tipIndex: number | null = null;

  private readonly app: HTMLElement;
  private readonly meta = el('p', { id: 'routing-meta', class: 'run-meta' });
  private readonly layerSelect = el('select', { id: 'layer-select', disabled: true });
  private readonly emptyMessage = el('p', { id: 'empty-message', class: 'empty', role: 'status' }, 'Select some text and run “Switchyard: Run on Selection” to see how its tokens are routed.');
  private readonly summary = el('p', { id: 'layer-summary', class: 'layer-summary' });
  private readonly legend = el('ul', { id: 'expert-legend', class: 'legend', 'aria-label': 'Expert colors' });
  private readonly tokens = el('div', {
    id: 'tokens',
    class: 'tokens',
    role: 'listbox',
    'aria-label': 'Tokens, colored by expert',
    'aria-describedby': 'layer-summary token-help',
    'aria-orientation': 'horizontal',
  });
  private readonly detail = el('div', { id: 'token-detail', class: 'token-detail', 'aria-live': 'polite' });
  private readonly tip = el('div', { id: 'token-tooltip', class: 'token-tooltip', role: 'tooltip', hidden: true });
  private readonly fills = el('ol', { id: 'fills', class: 'fills' });
  private readonly output = el('p', { id: 'output', class: 'output' });
  private readonly content: HTMLElement;

  constructor(app: HTMLElement) {
    this.app = app;
    this.layerSelect.addEventListener('change', () => {
      const layer = Number(this.layerSelect.value);
      if (!this.result || !Number.isInteger(layer)) return;
      this.layer = clampLayer(this.result, layer);
      this.paint();
      post({ type: 'selectLayer', layer: this.layer });
      this.persist();
    });
    this.tokens.addEventListener('keydown', (e) => this.onKey(e));
    this.tokens.addEventListener('click', (e) => {
      const t = (e.target as Element).closest<HTMLElement>('.token');
      if (!t) return;
      const i = Number(t.dataset.index);
      this.focusToken(i);
      post({ type: 'revealToken', index: i });
    });
    this.tokens.addEventListener('focusin', (e) => {
      const t = (e.target as Element).closest<HTMLElement>('.token');
      if (!t) return;
      this.setFocused(Number(t.dataset.index), false);
      this.showTip(this.focused);
    });
    this.tokens.addEventListener('focusout', (e) => {
      if (!this.tokens.contains(e.relatedTarget as Node | null)) this.hideTip();
    });
    this.tokens.addEventListener('mouseover', (e) => {
      const t = (e.target as Element).closest<HTMLElement>('.token');
      if (t) this.showTip(Number(t.dataset.index));
    });
    this.tokens.addEventListener('mouseleave', () => (this.tokens.contains(document.activeElement) ? this.showTip(this.focused) : this.hideTip()));

    const markLegend = el(
      'ul',
      { class: 'legend legend-marks', 'aria-label': 'Marks' },
      el('li', {}, el('span', { class: 'token token-sample', 'data-dropped': 'true', 'aria-hidden': 'true' }, el('span', { class: 'token-text' }, 'tok')), ' dropped: over the expert’s capacity, passed on by the residual connection'),
      el(
        'li',
        {},
        el('span', { class: 'entropy-sample', 'aria-hidden': 'true' }, el('span', { class: 'token-entropy' }, el('span', { class: 'token-entropy-fill' }))),
        ' bar under a token: router entropy (full width = uniform over the experts, none = certain)',
      ),
    );
    this.content = el(
      'div',
      { class: 'content' },
      el('section', { class: 'legend-section', 'aria-label': 'Legend' }, this.legend, markLegend),
      this.summary,
      el(
        'p',
        { id: 'token-help', class: 'help' },
        'Arrow keys move between tokens; Enter shows the token in the editor; Escape hides the tooltip. Hover or focus a token for what it is and what its expert usually takes; the table below gives its routing at every layer.',
      ),
      this.tokens,
      this.tip,
      this.detail,
      el('section', { class: 'fills-section', 'aria-labelledby': 'fills-title' }, el('h2', { id: 'fills-title' }, 'Sentinel fills'), this.fills, this.output),
    );
    app.replaceChildren(
      el(
        'header',
        { class: 'toolbar' },
        el('div', { class: 'run-info' }, el('h1', {}, 'Routing'), this.meta),
        el('div', { class: 'layer-picker' }, el('label', { for: 'layer-select' }, 'Color by layer'), this.layerSelect),
      ),
      this.emptyMessage,
      this.content,
    );
    watchTheme(() => undefined);
    this.setView('empty');
  }

  restore(raw: unknown): void {
    const s = restoreRouting(raw);
    if (!s) return;
    if (s.notes) this.setNotes(s.notes);
    this.show(s.result, s.layer, s.focused);
  }

  handle(m: RoutingInbound): void {
    if (m.type === 'experts') {
      this.setNotes({ runId: m.runId, ...(m.notes ? { notes: m.notes } : {}), ...(m.why ? { why: m.why } : {}) });
      if (this.tipIndex !== null) this.showTip(this.tipIndex);
      this.persist();
      return;
    }
    this.hideTip();
    if (m.type === 'empty') {
      this.result = null;
      this.setNotes(null);
      this.tokenEls = [];
      this.tokens.replaceChildren();
      this.emptyMessage.textContent = m.message;
      this.setView('empty');
      vscodeApi().setState(null);
      return;
    }
    const same = this.result && this.result.runId === m.result.runId && sameTokens(this.result, m.result);
    if (this.notes && this.notes.runId !== m.result.runId) this.setNotes(null);
    this.show(m.result, m.layer, same ? this.focused : 0);
    this.persist();
  }

  private setView(view: 'empty' | 'result'): void {
    this.app.dataset.view = view;
    this.emptyMessage.hidden = view !== 'empty';
    this.content.hidden = view !== 'result';
    this.layerSelect.disabled = view !== 'result' || !this.result?.layers.length;
  }

  private show(result: InferenceResult, layer: number, focused: number): void {
    const hadFocus = this.tokens.contains(document.activeElement);
    this.result = result;
    this.layer = clampLayer(result, layer);
    this.focused = Math.min(Math.max(0, focused), Math.max(0, result.tokens.length - 1));
    this.app.dataset.runId = result.runId;
    this.meta.textContent = `Run ${result.runId} · step ${formatInt(result.step)} · ${formatInt(result.tokens.length)} tokens · ${result.layers.length} sparse layers`;
    this.layerSelect.replaceChildren(
      ...result.layers.map((l, i) => el('option', { value: i }, `${i}: ${l.layer} (${l.numExperts} experts, capacity ${l.capacity})`)),
    );
    this.tokenEls = result.tokens.map((tok, i) => {
      const t = el(
        'span',
        // data-start/-end: the token's offsets in the selection, for the real-editor checks.
        { class: 'token', role: 'option', id: `token-${i}`, 'data-index': i, 'data-start': tok.start, 'data-end': tok.end, tabindex: -1, 'aria-selected': 'false' },
        el('span', { class: 'token-text' }),
        el('span', { class: 'token-entropy', 'aria-hidden': 'true' }, el('span', { class: 'token-entropy-fill' })),
      );
      return t;
    });
    this.tokens.replaceChildren(...this.tokenEls);
    this.tokens.setAttribute('aria-label', `${result.tokens.length} tokens, colored by expert`);
    this.fills.replaceChildren(
      ...(result.fills.length
        ? result.fills.map((f) =>
            el('li', { 'data-sentinel': f.sentinel }, el('code', { class: 'sentinel' }, `<extra_id_${f.sentinel}>`), ' → ', f.text === null ? el('span', { class: 'fill-text no-fill' }, 'no fill') : el('span', { class: 'fill-text' }, f.text || '(empty)')),
          )
        : [el('li', { class: 'none' }, 'The text has no sentinel (<extra_id_0>…) to fill.')]),
    );
    this.output.replaceChildren(el('span', { class: 'output-label' }, 'Model output: '), el('code', {}, result.output || '(empty)'));
    this.setView('result');
    this.paint();
    this.setFocused(this.focused, hadFocus);
  }

  /** Colors, marks and descriptions for the selected layer. */
  private paint(): void {
    const result = this.result;
    if (!result) return;
    this.layerSelect.value = String(this.layer);
    this.app.dataset.layer = String(this.layer);
    const views = tokenViews(result, this.layer);
    views.forEach((v, i) => {
      const t = this.tokenEls[i];
      if (!t) return;
      t.dataset.expert = String(v.expert);
      t.dataset.dropped = String(v.dropped);
      t.setAttribute('aria-description', v.description);
      (t.firstChild as HTMLElement).textContent = v.label;
      if (v.expert >= 0) {
        t.style.setProperty('--expert-bg', expertColor(v.expert));
        t.style.setProperty('--expert-fg', expertTextColor(v.expert));
      }
      (t.lastChild!.firstChild as HTMLElement).style.width = `${(v.normalizedEntropy * 100).toFixed(1)}%`;
    });
    const s = layerSummary(result, this.layer);
    this.summary.textContent = s
      ? `${s.layer}: ${formatInt(s.tokens)} tokens over ${s.numExperts} experts (capacity ${formatInt(s.capacity)} each); ${formatInt(s.dropped)} dropped; mean router entropy ${formatPercent(s.meanNormalizedEntropy, 0)} of the maximum.`
      : 'This result has no sparse layer.';
    this.legend.replaceChildren(
      ...legendEntries(result, this.layer).map((e) => {
        const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
        sw.style.setProperty('--expert-bg', expertColor(e.expert));
        return el(
          'li',
          { 'data-expert': e.expert, class: e.tokens ? '' : 'unused' },
          sw,
          `Expert ${e.expert}: ${e.tokens} token${e.tokens === 1 ? '' : 's'}${e.dropped ? `, ${e.dropped} dropped` : ''}`,
        );
      }),
    );
    this.renderDetail();
    if (this.tipIndex !== null) this.showTip(this.tipIndex);
  }

  private setFocused(index: number, moveFocus: boolean): void {
    if (!this.tokenEls.length) return;
    const i = Math.min(Math.max(0, index), this.tokenEls.length - 1);
    const prev = this.tokenEls[this.focused];
    if (prev) {
      prev.tabIndex = -1;
      prev.setAttribute('aria-selected', 'false');
    }
    this.focused = i;
    const t = this.tokenEls[i];
    t.tabIndex = 0;
    t.setAttribute('aria-selected', 'true');
    if (moveFocus) {
      t.focus();
      t.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
    this.renderDetail();
  }

  private focusToken(i: number): void {
    this.setFocused(i, true);
    this.persist();
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.result) return;
    if (e.key === 'Escape' && this.tipIndex !== null) {
      e.preventDefault();
      this.hideTip();
      return;
    }
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      post({ type: 'revealToken', index: this.focused });
      return;
    }
    const next = nextTokenIndex(e.key, this.focused, this.tokenEls.length);
    if (next === null) return;
    e.preventDefault();
    this.focusToken(next);
    this.showTip(next);
  }

  /** data-notes: "ready" once the tooltips can say what the experts take (for the real-editor checks). */
  private setNotes(n: { runId: string; notes?: ExpertNote[]; why?: string } | null): void {
    this.notes = n;
    this.app.dataset.notes = !n ? '' : n.notes ? 'ready' : 'none';
  }

  /** The tooltip of token i: what it is and what its expert usually takes, under the token. */
  private showTip(i: number): void {
    const r = this.result;
    const t = this.tokenEls[i];
    const x = r && t ? explainToken(r, i, this.layer, this.notes?.notes, this.notes ? this.notes.why : 'loading the run’s analysis…') : undefined;
    if (!x || !t) return this.hideTip();
    const { head, takes, details } = explanationParts(x);
    this.tip.replaceChildren(
      el('p', { class: 'tip-head' }, head),
      el('p', { class: 'tip-takes' }, takes),
      ...(details.length ? [el('ul', { class: 'tip-details' }, ...details.map((d) => el('li', {}, d)))] : []),
    );
    this.tip.dataset.index = String(i);
    this.tip.hidden = false;
    if (this.tipIndex !== null && this.tipIndex !== i) this.tokenEls[this.tipIndex]?.removeAttribute('aria-describedby');
    this.tipIndex = i;
    t.setAttribute('aria-describedby', 'token-tooltip');
    // Fixed, under the token, kept inside the view.
    const box = t.getBoundingClientRect();
    const width = Math.min(360, window.innerWidth - 16);
    this.tip.style.setProperty('--tip-width', `${width}px`);
    this.tip.style.setProperty('--tip-left', `${Math.max(8, Math.min(box.left, window.innerWidth - width - 8))}px`);
    // Below the token, else above it, else as low as the view lets it be seen whole.
    const below = box.bottom + 6;
    const above = box.top - this.tip.offsetHeight - 6;
    const lowest = Math.max(4, window.innerHeight - this.tip.offsetHeight - 4);
    this.tip.style.setProperty('--tip-top', `${below <= lowest ? below : above >= 4 ? above : lowest}px`);
  }

  private hideTip(): void {
    if (this.tipIndex !== null) this.tokenEls[this.tipIndex]?.removeAttribute('aria-describedby');
    this.tipIndex = null;
    this.tip.hidden = true;
  }

  /** The focused token's routing at every layer, as a small table (visible, for keyboard users). */
  private renderDetail(): void {
    const r = this.result;
    const tok = r?.tokens[this.focused];
    if (!r || !tok) return this.detail.replaceChildren();
    const rows = r.layers.map((l, i) => {
      const x = l.tokens[this.focused];
      const row = el(
        'tr',
        { class: i === this.layer ? 'current' : '' },
        el('th', { scope: 'row' }, l.layer),
        el('td', {}, x ? String(x.expert) : '–'),
        el('td', {}, x ? formatPercent(x.prob) : '–'),
        el('td', {}, x ? `${formatNumber(x.entropy, 3)} (${formatPercent(normalizedEntropy(x.entropy, l.numExperts), 0)})` : '–'),
        el('td', {}, x?.dropped ? 'dropped' : 'kept'),
      );
      return row;
    });
    this.detail.replaceChildren(
      el(
        'table',
        { class: 'data' },
        el('caption', {}, `Token ${this.focused} “${tok.text}” (id ${tok.id}, characters ${tok.start}–${tok.end})`),
        el('thead', {}, el('tr', {}, ...['Layer', 'Expert', 'Probability', 'Entropy, nats (of max)', 'Kept or dropped'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, ...rows),
      ),
    );
  }

  private persist(): void {
    if (!this.result) return;
    const state: PersistedRouting = { v: 1, result: this.result, layer: this.layer, focused: this.focused, ...(this.notes ? { notes: this.notes } : {}) };
    vscodeApi().setState(state);
  }
}

function sameTokens(a: InferenceResult, b: InferenceResult): boolean {
  return a.tokens.length === b.tokens.length && a.tokens.every((t, i) => t.id === b.tokens[i].id && t.start === b.tokens[i].start);
}

function start(): void {
  const app = document.getElementById('app') ?? document.body.appendChild(el('main', { id: 'app' }));
  const panel = new RoutingPanel(app);
  listen(routingInboundSchema, TAG, (m) => panel.handle(m));
  panel.restore(vscodeApi().getState());
  post({ type: 'ready' });
}

start();
