// The UI checks: the installed switchyard.vsix in code-server, driven through Chromium as a person
// would (command palette, quick picks, the confirmation dialog, the dashboard and Routing webviews,
// the editor, the notifications center, color themes). Called by run.mjs's UI phase: uiChecks declares
// each check with `check(title, fn, { needed })` and run.mjs runs them in order (a failed `needed`
// one ends the phase); screenshots go to test-results/e2e/.
/* global getComputedStyle, document -- in functions that run in the page */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { pollUntil, webviewFrame, Workbench } from './workbench.mjs';

export const JOKE = 'The <extra_id_0> walks into a bar.';

/** Files the UI phase's workspace gets besides the harness's own. */
export const UI_FILES = {
  'joke.txt': `${JOKE}\n`,
  // Two routers at the tiny preset, validated every 5 steps: the experiment the Compare check opens.
  'compare-grid.json': `${JSON.stringify([
    { name: 'switch', model: { router: 'switch' }, training: { validateEvery: 5 } },
    { name: 'top2', model: { router: 'top2' }, training: { validateEvery: 5 } },
  ])}\n`,
};

/** The dashboard's chart figures: data-points and data-last-step of each. */
async function chartStats(dash) {
  return dash.locator('figure[data-chart]').evaluateAll((els) =>
    Object.fromEntries(els.map((e) => [e.dataset.chart, { points: Number(e.dataset.points), lastStep: e.dataset.lastStep === '' ? null : Number(e.dataset.lastStep) }])),
  );
}

/** The palette a Switchyard webview exposes on its body (data-chart-foreground, ..., data-theme-kind). */
async function webviewPalette(frame) {
  return frame.locator('body').evaluate((b) => ({ ...b.dataset }));
}

export function uiChecks({ page, server, check, shot, say }) {
  const wb = new Workbench(page);
  const dashboard = webviewFrame(page, 'panel');
  const routing = webviewFrame(page, 'view');
  const state = { palette: null };

  check('the workbench loads with the workspace and the Switchyard extension', async () => {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(server.workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 120_000 });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'sample.txt' }).waitFor({ timeout: 120_000 });
    // The Switchyard view container is in the activity bar from the manifest alone.
    await page.locator('.activitybar [aria-label^="Switchyard"]').first().waitFor({ timeout: 120_000 });
  }, { needed: true });

  check('Switchyard: Restart Engine from the command palette starts the engine', async () => {
    await wb.runCommand('Switchyard: Restart Engine', { screenshot: shot.path('palette.png') });
    // The status bar reads "Switchyard" alone once the engine runs, "Switchyard: engine <state>" before.
    await pollUntil('the status bar says the engine runs', () => wb.statusText(), (t) => /^Switchyard$/.test(t), 120_000);
    await shot('engine-running.png');
  });

  check('Switchyard: Show Engine Log shows the engine starting on a backend', async () => {
    await wb.runCommand('Switchyard: Show Engine Log');
    const output = page.locator('.part.panel .monaco-editor .view-lines');
    await output.waitFor({ state: 'visible', timeout: 60_000 });
    // Monaco renders spaces as no-break spaces: \s matches both.
    await pollUntil('the engine log names its backend', () => output.textContent(), (t) => /engine\s.*\son\s\S+\sat\slocal/.test(t ?? ''), 60_000);
    await shot('engine-log.png');
    await wb.runCommand('View: Hide Panel');
    await page.locator('.part.panel').waitFor({ state: 'hidden', timeout: 30_000 });
  });

  check('the Switchyard views: Runs (welcome) and the Routing webview, two iframes deep', async () => {
    await page.locator('.activitybar [aria-label^="Switchyard"]').first().click();
    await page.locator('.pane-body', { hasText: 'No runs yet.' }).first().waitFor({ timeout: 60_000 });
    // The Routing view is collapsed below Runs when the container first opens: expand it.
    const header = page.locator('.pane-header', { hasText: /^Routing/ }).first();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    await routing
      .locator('#empty-message', { hasText: 'Run on Selection' })
      .waitFor({ timeout: 60_000 })
      .catch(async (e) => {
        const srcs = await page.locator('iframe.webview').evaluateAll((fs) => fs.map((f) => `${f.className} ${f.getAttribute('src')}`));
        throw new Error(`${e.message.split('\n')[0]}; webview iframes: ${srcs.join(' | ') || 'none'}`);
      });
    await shot('switchyard-views.png');
  });

  check('Start Training from the palette: preset, corpus, router, experts, capacity, then Start', async () => {
    await wb.runCommand('Switchyard: Start Training', { then: 'quickPick' });
    await wb.pick('(1/5) preset', 'tiny');
    await wb.pick('(2/5) corpus', 'Brown corpus');
    await wb.pick('(3/5) router', 'switch');
    await wb.pick('(4/5) experts', '4');
    await wb.pick('(5/5) capacity', '1.25');
    const message = await wb.answerDialog('Start');
    const expected = 'Train tiny with switch routing over 4 experts (capacity factor 1.25) on Brown corpus?';
    if (!message.includes(expected)) throw new Error(`the confirmation said ${JSON.stringify(message)}, not ${JSON.stringify(expected)}`);
    // The run appears in the Runs view, and the status bar follows its steps.
    await page.locator('.pane-body .monaco-list-row', { hasText: /-tiny-/ }).first().waitFor({ timeout: 120_000 });
    const status = await pollUntil('the status bar shows training steps', () => wb.statusText(), (t) => /step \d+ · cross-entropy \d/.test(t), 180_000);
    say(`ui:   status bar: ${status}`);
    // Progress toasts would cover the screenshots: Do Not Disturb keeps them in the center.
    await wb.runCommand('Notifications: Toggle Do Not Disturb Mode');
  }, { needed: true });

  check("the Runs view's run row follows the run's steps while it stays as it is (no collapse, no refresh)", async () => {
    const row = page.locator('.pane-body .monaco-list-row', { hasText: /-tiny-/ }).first();
    const read = () => row.evaluate((r) => ({ description: r.querySelector('.label-description')?.textContent ?? '', expanded: r.getAttribute('aria-expanded') }));
    const stepOf = (text) => Number(/step (\d+)/.exec(text)?.[1] ?? NaN);
    const first = await read();
    // Past the step the status bar shows now: the row follows the run's events, not a refresh of the view.
    const target = Math.max(stepOf(first.description), stepOf(await wb.statusText())) + 2;
    const later = await pollUntil(`the run row reaches step ${target}`, read, (d) => stepOf(d.description) >= target, 60_000);
    if (later.expanded !== first.expanded) throw new Error(`the row went from aria-expanded ${first.expanded} to ${later.expanded}`);
    say(`ui:   run row: ${JSON.stringify(first.description)} → ${JSON.stringify(later.description)}`);
  });

  check('Open Dashboard: the charts get data (loss, expert-load heatmap, mesh) and change as steps arrive', async () => {
    await wb.runCommand('Switchyard: Open Dashboard');
    await dashboard.locator('#app[data-view="run"]').waitFor({ timeout: 60_000 });
    const first = await pollUntil(
      'the loss, heatmap and mesh charts have data',
      () => chartStats(dashboard),
      (s) => s.loss?.points > 0 && s.heatmap?.points > 0 && s.mesh?.points > 0 && s.loss.lastStep > 0,
      120_000,
    );
    say(`ui:   charts: ${Object.entries(first).map(([k, v]) => `${k} ${v.points}@${v.lastStep}`).join(', ')}`);
    const later = await pollUntil(
      `the charts move past step ${first.loss.lastStep}`,
      () => chartStats(dashboard),
      (s) => s.loss.lastStep > first.loss.lastStep && s.heatmap.lastStep > first.heatmap.lastStep && s.loss.points > first.loss.points,
      120_000,
    );
    say(`ui:   then: loss ${later.loss.points}@${later.loss.lastStep}, heatmap ${later.heatmap.points}@${later.heatmap.lastStep}`);
    // The data-table alternative of the loss chart ends at the chart's last step (read together: steps keep coming).
    await dashboard.locator('#chart-loss .link-button', { hasText: 'Show data' }).click();
    const table = await pollUntil(
      "the loss data table's last row is the chart's last step",
      () =>
        dashboard.locator('#chart-loss').evaluate((f) => ({
          rows: f.querySelectorAll('table tbody tr').length,
          lastRowStep: Number(f.querySelector('table tbody tr:last-child > :first-child')?.textContent?.replace(/\D/g, '')),
          chartLastStep: Number(f.dataset.lastStep),
        })),
      (t) => t.rows > 0 && t.lastRowStep === t.chartLastStep,
      30_000,
    );
    say(`ui:   loss data table: ${table.rows} rows, the last at step ${table.lastRowStep}`);
    await dashboard.locator('#chart-loss .link-button', { hasText: 'Hide data' }).click();
    const app = dashboard.locator('#app');
    if ((await app.getAttribute('data-state')) !== 'running') throw new Error(`the dashboard's state is ${await app.getAttribute('data-state')}`);
    if (await dashboard.locator('#cmd-pause').isDisabled()) throw new Error('Pause is disabled while the run trains');
    state.palette = await webviewPalette(dashboard);
    const kind = { vs: 'light', 'vs-dark': 'dark', 'hc-black': 'high-contrast', 'hc-light': 'high-contrast-light' }[await wb.themeType()];
    if (state.palette.themeKind !== kind) throw new Error(`the dashboard's theme kind is ${state.palette.themeKind} under a ${kind} theme`);
    // The run in the Runs view, opened down to its experts' load.
    const runRow = page.locator('.pane-body .monaco-list-row', { hasText: /-tiny-/ }).first();
    if ((await runRow.getAttribute('aria-expanded')) === 'false') await runRow.locator('.monaco-tl-twistie').click();
    const layerRow = page.locator('.pane-body .monaco-list-row', { hasText: /encoder\.block\.1/ }).first();
    await layerRow.waitFor({ timeout: 30_000 });
    if ((await layerRow.getAttribute('aria-expanded')) === 'false') await layerRow.locator('.monaco-tl-twistie').click();
    const experts = await pollUntil(
      'the Runs view lists the experts with their load',
      () => page.locator('.pane-body .monaco-list-row', { hasText: /expert \d/ }).allInnerTexts(),
      (t) => t.length === 4 && t.every((x) => /kept \d+ · dropped \d+/.test(x)),
      30_000,
    );
    say(`ui:   Runs view: ${experts.map((t) => t.replace(/\s+/g, ' ')).join(' | ')}`);
    await shot(`dashboard-${kind}.png`);
  });

  check('Run on Selection from the palette: tokens colored by expert in the Routing view and the editor, sentinel fills', async () => {
    // The joke beside the dashboard (Quick Open, Ctrl+Enter: to the side), its sentence selected.
    await wb.quickOpen('joke.txt');
    await page.keyboard.press('Control+Enter');
    await wb.quickInput.waitFor({ state: 'hidden', timeout: 30_000 });
    const editor = page.locator('.editor-group-container .monaco-editor', { hasText: /walks\sinto\sa\sbar/ }).first();
    await editor.waitFor({ timeout: 60_000 });
    // The Routing view gets the side bar's height.
    const runsHeader = page.locator('.pane-header', { hasText: /^Runs/ }).first();
    if ((await runsHeader.getAttribute('aria-expanded')) === 'true') await runsHeader.click();
    await selectJoke(page, editor);
    await wb.runCommand('Switchyard: Run on Selection');
    await routing.locator('#app[data-view="result"]').waitFor({ timeout: 120_000 });
    await page.keyboard.press('End'); // no selection over the colors in the screenshots
    const tokens = await routing.locator('#tokens .token[data-expert]').evaluateAll((els) =>
      els.map((e) => ({
        text: e.textContent ?? '',
        expert: Number(e.dataset.expert),
        dropped: e.dataset.dropped,
        start: Number(e.dataset.start),
        end: Number(e.dataset.end),
        bg: getComputedStyle(e).backgroundColor,
      })),
    );
    if (tokens.length < 5) throw new Error(`${tokens.length} colored tokens`);
    const colorOf = new Map();
    for (const t of tokens) {
      if (!(t.expert >= 0 && t.expert < 4)) throw new Error(`token ${JSON.stringify(t.text)} has expert ${t.expert}`);
      if (/rgba\(0, 0, 0, 0\)|transparent/.test(t.bg)) throw new Error(`token ${JSON.stringify(t.text)} has no background`);
      const known = colorOf.get(t.expert);
      if (known && known !== t.bg) throw new Error(`expert ${t.expert} has two colors: ${known}, ${t.bg}`);
      colorOf.set(t.expert, t.bg);
    }
    const colors = [...colorOf.values()];
    if (new Set(colors).size !== colors.length) throw new Error(`experts share a color: ${JSON.stringify([...colorOf])}`);
    // The legend shows every expert in its own color, used or not.
    const swatches = await routing.locator('#expert-legend li[data-expert] .swatch').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    if (swatches.length !== 4 || new Set(swatches).size !== 4) throw new Error(`legend swatches: ${JSON.stringify(swatches)}`);
    const fills = await routing.locator('#fills li').evaluateAll((els) => els.map((e) => ({ sentinel: e.dataset.sentinel ?? null, text: (e.textContent ?? '').trim() })));
    // One row per sentinel of the selection, in order: the joke has <extra_id_0> only.
    if (fills.map((f) => f.sentinel).join() !== '0') throw new Error(`fill rows for sentinels ${JSON.stringify(fills)}, expected one for <extra_id_0>`);
    if (!/^<extra_id_0> → (no fill|.+)$/.test(fills[0].text)) throw new Error(`fill row reads ${JSON.stringify(fills[0].text)}`);
    say(`ui:   ${tokens.length} tokens over experts ${[...colorOf.keys()].sort().join(',')}; fills: ${fills.map((f) => `<extra_id_${f.sentinel}> → ${JSON.stringify(f.text.split('→')[1]?.trim() ?? '')}`).slice(0, 3).join('; ')}`);
    // The editor paints the same tokens: the joke's first line from column 0, one decoration type per
    // expert (and dropped or not), touching ranges of one type drawn as one.
    const expected = paintedRanges(tokens);
    const decorations = await pollUntil('the editor paints the tokens', () => wb.editorDecorations('joke.txt'), (d) => d && d.length > 0, 30_000);
    const painted = [...decorations].sort((a, b) => a.from - b.from);
    const columns = (rs) => JSON.stringify(rs.map((r) => [r.from, r.to]));
    if (columns(painted) !== columns(expected)) throw new Error(`the editor paints columns ${columns(painted)}, the tokens cover ${columns(expected)}`);
    // One decoration type (class) per expert, and one expert per type.
    const pairs = new Set(painted.map((d, i) => `${d.cls}=${expected[i].key}`));
    if (pairs.size !== new Set(painted.map((d) => d.cls)).size || pairs.size !== new Set(expected.map((r) => r.key)).size)
      throw new Error(`decoration types and experts do not pair up: ${[...pairs].join(', ')}`);
    say(`ui:   editor: ${decorations.length} painted ranges (columns ${columns(painted)}) in ${new Set(decorations.map((d) => d.bg)).size} colors`);
    await shot('routing.png');
  });

  check('Escape in the editor clears the routing colors', async () => {
    const editor = page.locator('.editor-group-container .monaco-editor', { hasText: /walks\sinto\sa\sbar/ }).first();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Escape');
    await pollUntil('the editor paints nothing', () => wb.editorDecorations('joke.txt'), (d) => d && d.length === 0, 30_000);
    await routing.locator('#empty-message', { hasText: 'Cleared.' }).waitFor({ timeout: 30_000 });
  });

  check('Run on Selection with an empty selection: the error is in the notifications center', async () => {
    const editor = page.locator('.editor-group-container .monaco-editor', { hasText: /walks\sinto\sa\sbar/ }).first();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('End');
    await wb.runCommand('Switchyard: Run on Selection');
    const expected = 'Switchyard: the selection is empty: select the text to run the model on.';
    const texts = await pollUntil(
      'the notifications center lists the error',
      async () => {
        const t = await wb.notifications();
        if (!t.includes(expected)) await page.keyboard.press('Escape');
        return t;
      },
      (t) => t.includes(expected),
      30_000,
      500,
    );
    say(`ui:   notifications: ${texts.map((t) => JSON.stringify(t)).join(', ')}`);
    await shot('empty-selection-error.png');
    await wb.hideNotifications();
  });

  check('a light and a dark color theme: the dashboard and the Routing view re-read their colors', async () => {
    // Paint the joke again, for the screenshots.
    const editor = page.locator('.editor-group-container .monaco-editor', { hasText: /walks\sinto\sa\sbar/ }).first();
    await selectJoke(page, editor);
    await wb.runCommand('Switchyard: Run on Selection');
    await routing.locator('#app[data-view="result"]').waitFor({ timeout: 120_000 });
    await page.keyboard.press('End');
    await pollUntil('the editor paints the tokens', () => wb.editorDecorations('joke.txt'), (d) => d && d.length > 0, 30_000);
    const initial = state.palette ?? (await webviewPalette(dashboard));
    const switchTheme = async (name, kind, workbenchType, previous) => {
      await wb.runCommand('Preferences: Color Theme', { then: 'quickPick' });
      await wb.pick('Select Color Theme', name);
      await wb.quickInput.waitFor({ state: 'hidden', timeout: 30_000 });
      await pollUntil(`the workbench takes ${name}`, () => wb.themeType(), (t) => t === workbenchType, 30_000);
      // Both webviews are open while the theme changes: they re-read the colors themselves.
      const p = await pollUntil(
        `the dashboard's palette becomes ${kind}`,
        () => webviewPalette(dashboard),
        (d) => d.themeKind === kind && d.chartForeground !== previous.chartForeground,
        30_000,
      );
      const r = await pollUntil(`the Routing view's palette becomes ${kind}`, () => webviewPalette(routing), (d) => d.themeKind === kind, 30_000);
      if (r.chartForeground !== p.chartForeground) throw new Error(`the views disagree: routing ${r.chartForeground}, dashboard ${p.chartForeground}`);
      // The palette's attributes change before and whether or not the charts repaint: the loss chart's
      // canvas must show text (ticks, legend) in the new foreground and none in the old one.
      const ink = await pollUntil(
        `the loss chart repaints in ${p.chartForeground}`,
        () => canvasInk(dashboard.locator('#chart-loss canvas'), [p.chartForeground, previous.chartForeground]),
        ([now, before]) => now >= 20 && before === 0,
        30_000,
      );
      say(`ui:   ${name}: themeKind ${p.themeKind}, chartForeground ${previous.chartForeground} → ${p.chartForeground} (loss chart pixels: ${ink[0]} new, ${ink[1]} old), chartBackground ${p.chartBackground}`);
      return p;
    };
    // From the default theme (light in a headless browser) to a dark one and to a light one (the
    // other way round if the default is dark).
    const dark = async (previous) => {
      const p = await switchTheme('Dark Modern', 'dark', 'vs-dark', previous);
      await pollUntil('the editor paints the tokens', () => wb.editorDecorations('joke.txt'), (d) => d && d.length > 0, 30_000);
      await shot('switchyard-dark.png');
      // The expert-load heatmap and the mesh, for the screenshot; then back to the top.
      await dashboard.locator('#chart-heatmap').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await pollUntil(
        'the heatmap is at the top of the dashboard',
        () => dashboard.locator('#chart-heatmap').evaluate((e) => Math.round(e.getBoundingClientRect().top)),
        (t) => t >= 0 && t < 40,
        10_000,
        100,
      );
      await shot('experts-dark.png');
      await dashboard.locator('#app').evaluate((e) => e.scrollIntoView({ block: 'start' }));
      return p;
    };
    const light = async (previous) => {
      const p = await switchTheme('Light Modern', 'light', 'vs', previous);
      await pollUntil('the editor paints the tokens', () => wb.editorDecorations('joke.txt'), (d) => d && d.length > 0, 30_000);
      await shot('switchyard-light.png');
      return p;
    };
    if (initial.themeKind === 'dark') await dark(await light(initial));
    else await light(await dark(initial));
  });

  check("the dashboard's Stop button stops the run", async () => {
    await dashboard.locator('#cmd-stop').click();
    await dashboard.locator('#app[data-state="stopped"]').waitFor({ timeout: 120_000 });
    await pollUntil('the status bar says stopped', () => wb.statusText(), (t) => /stopped at step \d+/.test(t), 60_000);
    // The Runs view shows the run stopped.
    const runsHeader = page.locator('.pane-header', { hasText: /^Runs/ }).first();
    if ((await runsHeader.getAttribute('aria-expanded')) === 'false') await runsHeader.click();
    await page.locator('.pane-body .monaco-list-row', { hasText: /-tiny-/ }).locator('.codicon-debug-stop').first().waitFor({ timeout: 30_000 });
  });

  check('after a reload of the window the dashboard comes back on its run, with its history', async () => {
    const runId = await dashboard.locator('#app').getAttribute('data-run-id');
    const before = await chartStats(dashboard);
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 120_000 });
    // The panel is restored by the extension's serializer and refilled from the engine.
    await dashboard.locator(`#app[data-view="run"][data-run-id="${runId}"]`).waitFor({ timeout: 120_000 });
    const after = await pollUntil('the restored charts have the run\'s history', () => chartStats(dashboard), (st) => st.loss?.lastStep === before.loss.lastStep && st.loss.points > 0, 120_000);
    say(`ui:   restored ${runId}: loss ${after.loss.points}@${after.loss.lastStep} (before the reload ${before.loss.points}@${before.loss.lastStep})`);
  });

  check("the dashboard's Specialisation section explains the stopped run: tags per expert, top tokens, what-if, alerts", async () => {
    // A stopped run is analyzed at its newest checkpoint as soon as the dashboard shows it.
    const section = dashboard.locator('#specialisation');
    await dashboard.locator('#specialisation[data-phase="ready"]').waitFor({ timeout: 240_000 });
    const status = await dashboard.locator('#spec-status').innerText();
    if (!/^Checkpoint step \d+ · \d+ validation batches in eval mode · switch router at eval capacity factor ×[\d.]+$/.test(status)) throw new Error(`status reads ${JSON.stringify(status)}`);
    const read = (sel) => section.locator(sel).evaluate((t) => ({ head: [...t.querySelectorAll('thead th')].map((x) => x.textContent), rows: [...t.querySelectorAll('tbody tr')].map((r) => [...r.children].map((c) => c.textContent)) }));
    // Experts × tags of the selected layer: four experts, each row's shares over the 12 tags sum to 100 % (or it took nothing).
    const tags = await read('#chart-tags table');
    if (tags.head.join() !== 'Expert,Tokens,NOUN,VERB,ADJ,ADV,PRON,DET,ADP,NUM,CONJ,PRT,.,X') throw new Error(`tags table columns ${tags.head}`);
    if (tags.rows.map((r) => r[0]).join() !== 'E0,E1,E2,E3') throw new Error(`tags table rows ${tags.rows.map((r) => r[0])}`);
    for (const r of tags.rows) {
      const sum = r.slice(2).reduce((x, c) => x + parseFloat(c), 0);
      if (!(Math.abs(sum - 100) < 1 || (r[1] === '0' && sum === 0))) throw new Error(`${r[0]}'s tag shares sum to ${sum}%: ${r.join(' ')}`);
    }
    // Top tokens per expert: the dominant tag with its share, tokens by count ("text" ×n).
    const top = await read('#spec-top-tokens');
    if (top.rows.length !== 4) throw new Error(`${top.rows.length} top-token rows`);
    for (const r of top.rows) {
      if (r[1] !== '0' && !(/^[A-Z.]+ \d+\.\d%$/.test(r[2]) && /^".*" ×\d+/.test(r[3]))) throw new Error(`top-token row ${JSON.stringify(r)}`);
      // Load before and after capacity, side by side: an expert keeps no more than the tokens that chose it.
      const [first, kept] = [r[5], r[6]].map((c) => Number(c.replace(/\D/g, '')));
      if (!(Number.isInteger(first) && kept <= first)) throw new Error(`load columns of ${JSON.stringify(r)}`);
    }
    if (top.head.slice(5).join() !== 'First choice of (before capacity),Kept (after capacity)') throw new Error(`top-token columns ${top.head}`);
    // The what-if of the selected layer: both rules at factors 0.5 to 4; more capacity never drops more, ntlb never more than switch.
    const whatIf = await read('#chart-whatif table');
    if (whatIf.head.join() !== 'Capacity factor,switch,ntlb') throw new Error(`what-if columns ${whatIf.head}`);
    const factors = whatIf.rows.map((r) => parseFloat(r[0].slice(1)));
    if (factors[0] !== 0.5 || factors.at(-1) !== 4) throw new Error(`what-if factors ${factors}`);
    const pct = (c) => parseFloat(c);
    whatIf.rows.forEach((r, i) => {
      if (!(pct(r[2]) <= pct(r[1]))) throw new Error(`at ${r[0]} ntlb drops ${r[2]}, switch ${r[1]}`);
      if (i && !(pct(r[1]) <= pct(whatIf.rows[i - 1][1]))) throw new Error(`switch drops more at ${r[0]} than at ${whatIf.rows[i - 1][0]}`);
    });
    // Beside the what-if replay, the real thing: the validation cross-entropy re-measured at eval factors 0.5, 1 and 2.
    const remeasured = await section.locator('#whatif-loss').innerText();
    if (!/^Validation cross-entropy re-measured \(a forward pass each\): ×0\.5 [\d.]+ · ×1 [\d.]+ · ×2 [\d.]+$/.test(remeasured)) throw new Error(`re-measured loss reads ${JSON.stringify(remeasured)}`);
    // Under the tags table, why the layer routes as it does: how alike the router's input is across tokens.
    const routerInput = await section.locator('#router-input').innerText();
    const ri = /^Router input: (\d+\.\d)% of its energy is common to all tokens · logits' spread over experts (\d+\.\d{3}) between tokens, (\d+\.\d{3}) shared by all$/.exec(routerInput);
    if (!ri || !(parseFloat(ri[1]) <= 100 && parseFloat(ri[2]) > 0)) throw new Error(`router input reads ${JSON.stringify(routerInput)}`);
    // The alerts list: each alert in force with its step, or that there is none.
    const alerts = await section.locator('#spec-alerts li').allInnerTexts();
    if (!alerts.length || !alerts.every((a) => /^⚠ .+ \(since step \d+\)$/.test(a) || a === 'No alert in force at the latest step.')) throw new Error(`alerts list ${JSON.stringify(alerts)}`);
    say(`ui:   ${status}; E0 ${top.rows[0].slice(2, 4).join(' · ')}; what-if ${whatIf.rows.map((r) => `${r[0]} ${r[1]}/${r[2]}`).join(', ')}; alerts: ${alerts.join(' | ')}; ${remeasured}; ${routerInput}`);
    await section.evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await pollUntil('the section is at the top of the dashboard', () => section.evaluate((e) => Math.round(e.getBoundingClientRect().top)), (t) => t >= 0 && t < 60, 10_000, 100);
    await shot('specialisation.png');
    await dashboard.locator('#app').evaluate((e) => e.scrollIntoView({ block: 'start' }));
  });

  check("the Specialisation section comes back after a reload with the same content (webview state), NMI from every validation", async () => {
    const section = dashboard.locator('#specialisation');
    // Everything the section shows in words: status, every table (the charts' data tables too) and the alerts.
    const read = () =>
      section.evaluate((e) => ({
        step: e.dataset.analysisStep,
        status: e.querySelector('#spec-status')?.textContent ?? '',
        tables: [...e.querySelectorAll('table')].map((t) => t.textContent ?? ''),
        alerts: [...e.querySelectorAll('#spec-alerts li')].map((li) => li.textContent ?? ''),
      }));
    await dashboard.locator('#specialisation[data-phase="ready"]').waitFor({ timeout: 60_000 });
    const before = await read();
    // The NMI curve reads the run's validation records (a point per validation step, from the untrained
    // step 0 on: no checkpoint is kept there), not the few kept checkpoints.
    const nmi = await section.locator('#chart-nmi table').evaluate((t) => ({ caption: t.querySelector('caption')?.textContent ?? '', rows: [...t.querySelectorAll('tbody tr')].map((r) => [...r.children].map((c) => c.textContent)) }));
    if (!/at each validation step$/.test(nmi.caption) || nmi.rows[0]?.[0] !== '0') throw new Error(`NMI table: ${JSON.stringify(nmi)}`);
    if (!nmi.rows.every((r) => r.slice(1).every((c) => c === '–' || (parseFloat(c) >= 0 && parseFloat(c) <= 1)))) throw new Error(`NMI values ${JSON.stringify(nmi.rows)}`);
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 120_000 });
    await dashboard.locator('#specialisation[data-phase="ready"]').waitFor({ timeout: 120_000 });
    const after = await read();
    if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error(`after the reload the section differs: ${JSON.stringify(after).slice(0, 400)} vs ${JSON.stringify(before).slice(0, 400)}`);
    say(`ui:   Specialisation restored at step ${after.step}: ${after.tables.length} tables equal; NMI at ${nmi.rows.length} validation steps (${nmi.rows.map((r) => `${r[0]}: ${r.slice(1).join('/')}`).slice(-3).join('; ')})`);
  });

  check('hovering a routed token in the editor shows its class and what its expert usually takes', async () => {
    await wb.quickOpen('joke.txt');
    await page.keyboard.press('Enter');
    const editor = page.locator('.editor-group-container .monaco-editor', { hasText: /walks\sinto\sa\sbar/ }).first();
    await editor.waitFor({ timeout: 60_000 });
    await selectJoke(page, editor);
    await wb.runCommand('Switchyard: Run on Selection');
    await pollUntil('the editor paints the tokens', () => wb.editorDecorations('joke.txt'), (d) => d && d.length > 0, 60_000);
    await page.keyboard.press('End');
    // The middle of "walks" (columns 17-21 of the joke).
    const line = editor.locator('.view-line').first();
    const box = await line.boundingBox();
    // Monospace: the line's text width over its characters (decorations split it into spans).
    const charWidth = await line.evaluate((e) => {
      const r = document.createRange();
      r.selectNodeContents(e);
      return r.getBoundingClientRect().width / (e.textContent ?? '').length;
    });
    await page.mouse.move(box.x + charWidth * (JOKE.indexOf('walks') + 2.5), box.y + box.height / 2);
    const hover = page.locator('.monaco-hover', { hasText: 'usually takes' }).first();
    await hover.waitFor({ state: 'visible', timeout: 60_000 });
    const text = (await hover.innerText()).replace(/\s+/g, ' ');
    if (!/"[^"]+" is a word token; at encoder\.block\.1\.layer\.1 expert [0-3] took it/.test(text)) throw new Error(`hover reads ${JSON.stringify(text.slice(0, 300))}`);
    if (!/Expert [0-3] usually takes: ([A-Z.]+ \d+%|no tokens)/.test(text)) throw new Error(`hover reads ${JSON.stringify(text.slice(0, 300))}`);
    say(`ui:   hover: ${text.slice(0, 240)}`);
    await shot('routing-hover.png');
  });

  check('hovering or focusing a token in the Routing view shows its class and what its expert usually takes', async () => {
    // The previous check ran Run on Selection on the stopped run: the view has its tokens and the experts' notes.
    await routing.locator('#app[data-view="result"][data-notes="ready"]').waitFor({ timeout: 120_000 });
    const tip = routing.locator('#token-tooltip');
    const tokens = routing.locator('#tokens .token');
    const texts = await tokens.evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    // A whole word with a token after it (the tokenizer splits "walks"): " into".
    const word = texts.findIndex((t, i) => /^\s?[A-Za-z]{3,}$/.test(t) && i + 1 < texts.length);
    if (word < 0) throw new Error(`no word token among ${JSON.stringify(texts)}`);
    const expect = async (i, how) => {
      await pollUntil(`the tooltip is token ${i}'s`, () => tip.evaluate((e) => (e.hidden ? null : e.dataset.index)), (x) => x === String(i), 10_000, 100);
      const text = (await tip.innerText()).replace(/\s+/g, ' ');
      const expert = await tokens.nth(i).getAttribute('data-expert');
      const head = new RegExp(`^"[^"]*" is a (word|punctuation|whitespace|number|identifier|sentinel) token; at encoder\\.block\\.1\\.layer\\.1 expert ${expert} took it`);
      if (!head.test(text)) throw new Error(`${how}: the tooltip reads ${JSON.stringify(text.slice(0, 300))}`);
      if (!new RegExp(`Expert ${expert} usually takes: ([A-Z.]+ \\d+%|no tokens)`).test(text)) throw new Error(`${how}: the tooltip reads ${JSON.stringify(text.slice(0, 300))}`);
      if (!/Most taken: “[^”]*” ×\d+/.test(text) && !/no tokens/.test(text)) throw new Error(`${how}: no top tokens in ${JSON.stringify(text.slice(0, 300))}`);
      const colors = await tip.evaluate((e) => ({ bg: getComputedStyle(e).backgroundColor, fg: getComputedStyle(e).color }));
      if (/rgba\(0, 0, 0, 0\)|transparent/.test(colors.bg) || colors.bg === colors.fg) throw new Error(`${how}: tooltip colors ${JSON.stringify(colors)}`);
      return text;
    };
    await tokens.nth(word).hover();
    const byMouse = await expect(word, 'mouse');
    if (!byMouse.startsWith(`${JSON.stringify(texts[word])} is a word token`)) throw new Error(`mouse: the tooltip reads ${JSON.stringify(byMouse.slice(0, 200))}`);
    await shot('routing-tooltip.png');
    // Keyboard: focus the listbox's token, then the arrow keys move the tooltip with the focus; Escape hides it.
    await tokens.nth(word).focus();
    await page.keyboard.press('ArrowRight');
    const byKey = await expect(word + 1, 'keyboard');
    await page.keyboard.press('Escape');
    await pollUntil('Escape hides the tooltip', () => tip.evaluate((e) => e.hidden), (h) => h === true, 10_000, 100);
    say(`ui:   Routing view tooltip (mouse): ${byMouse.slice(0, 200)}; (keyboard) ${byKey.slice(0, 120)}`);
  });

  check('Open Hugging Face Model… from the palette: the folder picker, then the Runs view row reads imported with its folder', async () => {
    // A tiny random checkpoint in HF's layout, made by the PyTorch reference (Debian's python3-torch).
    const folder = join(mkdtempSync(join(tmpdir(), 'switchyard-ui-hf-')), 'tiny-switch');
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'python', 'hf_reference', 'make_checkpoint.py');
    const made = spawnSync('/usr/bin/python3', [script, folder, '--no-bin'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`make_checkpoint.py failed: ${made.stderr}`);
    await wb.dismiss();
    await wb.runCommand('Switchyard: Open Hugging Face Model…', { then: 'quickPick' });
    // code-server's folder picker is VS Code's simple file dialog, in the quick input: type the path, then its Open Model button.
    await wb.typePath(`${folder}/`);
    // A folder picker lists folders only: the parent's ".." row says the typed folder was read.
    await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: '..' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.quick-input-widget .monaco-button', { hasText: /^\s*Open Model\s*$/ }).first().click();
    await wb.quickInput.waitFor({ state: 'hidden', timeout: 30_000 });
    const row = page.locator('.pane-body .monaco-list-row', { hasText: 'tiny-switch' }).first();
    await row.waitFor({ timeout: 120_000 });
    const description = await row.locator('.label-description').textContent();
    const expected = `imported · switch ×4 · ${folder}`;
    if (description?.trim() !== expected) throw new Error(`the Runs row says ${JSON.stringify(description)}, not ${JSON.stringify(expected)}`);
    say(`ui:   imported row: ${description}`);
    await shot('hf-imported.png');
  });

  check('Open Run Folder… on a folder the PyTorch probe is writing: an external row that follows its steps, and the dashboard', async () => {
    // A real PyTorch job: the probe tests' TinyMoE (Switch router with capacity, Mixtral-style top-2 gate)
    // trains with switchyard_probe attached, a record a step, 0.5 s apart (Debian's python3-torch).
    const folder = join(mkdtempSync(join(tmpdir(), 'sy-ui-ext-')), 'cluster-job');
    const probeDir = fileURLToPath(new URL('../../python/switchyard_probe', import.meta.url));
    const writer = spawn('/usr/bin/python3', ['-m', 'tests.make_run', folder, '--steps', '400', '--every', '1', '--pause', '0.5'], { cwd: probeDir, stdio: 'ignore' });
    try {
      await pollUntil('the probe starts', async () => existsSync(join(folder, 'metrics.jsonl')), (x) => x, 90_000);
      // code-server's folder dialog is a quick input: type the path, accept it.
      await wb.dismiss();
      await wb.runCommand('Switchyard: Open Run Folder…', { then: 'quickPick' });
      await wb.typePath(folder);
      await page.keyboard.press('Enter');
      if (await wb.quickInput.isVisible()) await page.keyboard.press('Enter'); // a dialog that first went into the folder
      const row = page.locator('.pane-body .monaco-list-row', { hasText: /ext-cluster-job-/ }).first();
      await row.waitFor({ timeout: 60_000 });
      const read = () => row.evaluate((r) => r.querySelector('.label-description')?.textContent ?? '');
      const stepOf = (text) => Number(/step (\d+)/.exec(text)?.[1] ?? NaN);
      const first = await pollUntil('the external row shows a step', read, (d) => /^external · pytorch-probe · top-1\/top-2 ×4 · step \d+\/400 · loss \d/.test(d) && stepOf(d) > 0, 30_000);
      const later = await pollUntil('the external row follows new records', read, (d) => stepOf(d) >= stepOf(first) + 3, 30_000);
      say(`ui:   external row: ${JSON.stringify(first)} → ${JSON.stringify(later)}`);
      await row.click();
      await dashboard.locator('#app[data-view="run"][data-run-id^="ext-cluster-job-"]').waitFor({ timeout: 60_000 });
      const a = await pollUntil('the dashboard has the external run', () => chartStats(dashboard), (st) => st.loss?.lastStep > 0, 60_000);
      const b = await pollUntil('the dashboard follows new records', () => chartStats(dashboard), (st) => st.loss?.lastStep >= a.loss.lastStep + 3, 60_000);
      say(`ui:   external dashboard: loss ${a.loss.points}@${a.loss.lastStep} → ${b.loss.points}@${b.loss.lastStep}`);
      // What a user reads: the probe's total loss (no cross-entropy is logged), and why throughput and the mesh are empty.
      const kpi = await dashboard.locator('[data-kpi="loss"]').textContent();
      if (!/^Loss \(total\)\d+\.\d+/.test(kpi ?? '')) throw new Error(`the loss KPI reads ${JSON.stringify(kpi)}`);
      const absent = await dashboard.locator('#chart-throughput-absent').textContent();
      if (absent !== 'Not logged by this run: its records have no tokens per second.') throw new Error(`the throughput card reads ${JSON.stringify(absent)}`);
      if (!(await dashboard.locator('#chart-mesh-absent').textContent())?.startsWith('Not available for this run')) throw new Error('the mesh card does not say why it is empty');
      if (await dashboard.locator('#chart-entropy-absent').isVisible()) throw new Error('the entropy card says not logged, but the probe logs entropy');
      say(`ui:   external dashboard text: ${kpi} · ${absent}`);
      await shot('external-run.png');
    } finally {
      writer.kill();
    }
  });

  check('Compare Runs on an experiment with 2 seeds: legend = entries in the charts\' colours with each seed\'s line, each entry over its seeds and over training, the results table, a load heatmap per run; restored after a reload', async () => {
    // Run Experiment on the workspace's grid file, 20 steps per run, 2 seeds, through the picks and the file dialog.
    await wb.dismiss();
    await wb.runCommand('Switchyard: Run Experiment', { then: 'quickPick' });
    await wb.pick('(1/5) grid', 'Grid file…');
    await wb.typePath(join(server.workspace, 'compare-grid.json'));
    const box = wb.quickInput.locator('input');
    await page.keyboard.press('Enter');
    // The presets, each with its shape and schedule and what the README's study found on it.
    await pollUntil('the preset pick', () => wb.quickInput.locator('.quick-input-title').textContent(), (t) => /\(2\/5\) preset/.test(t ?? ''), 30_000);
    const mini64 = wb.row('mini64');
    await mini64.waitFor({ state: 'visible', timeout: 30_000 });
    const mini64Text = (await mini64.textContent())?.replace(/\s+/g, ' ') ?? '';
    if (!mini64Text.includes('d=64, 2+2 layers · 64 sequences of 64 a step · 1600 steps') || !mini64Text.includes('puts every Switch model ahead of dense'))
      throw new Error(`the mini64 row reads ${JSON.stringify(mini64Text)}`);
    say(`ui:   preset row: ${mini64Text.trim()}`);
    await wb.pick('(2/5) preset', 'tiny');
    await wb.pick('(3/5) budget', 'Steps');
    await pollUntil('the steps input', () => wb.quickInput.locator('.quick-input-title').textContent(), (t) => /\(4\/5\) steps per run/.test(t ?? ''), 30_000);
    // It starts at the preset's steps.
    const offered = await box.inputValue();
    if (offered !== '600') throw new Error(`the steps input offers ${JSON.stringify(offered)}, not tiny's 600 steps`);
    await box.fill('20');
    await page.keyboard.press('Enter');
    await wb.pick('(5/5) seeds', '2 seeds');
    // Both ways estimated; the runs side by side, one core each.
    const message = await wb.answerDialog('Run 2 at a Time');
    const estimate = '(about \\d+ (s|min)|time unknown)';
    const said = new RegExp(`Run experiment compare-grid\\.json on tiny: 4 runs \\(switch, top2, each with seeds 0, 1\\), 20 steps each\\. One after the other: ${estimate}; 2 side by side, one core each: ${estimate}\\. The results are the same either way\\.`);
    if (!said.test(message)) throw new Error(`the confirmation said ${JSON.stringify(message)}`);
    say(`ui:   confirmation: ${message}`);
    // The Experiments node's row says when both runs are done.
    await wb.runCommand('View: Close All Editors');
    const row = await experimentRow(page, 'compare-grid.json');
    await pollUntil('the experiment completes', () => row.locator('.label-description').textContent(), (t) => t === 'completed · 4/4 runs · 2 seeds · 20 steps each · 2 at a time', 600_000, 1000);
    await wb.contextMenu(row, 'Compare Runs');
    const compare = await compareFrame(page, 'opened from the Experiments row');
    await compare.locator('#app[data-view="compare"][data-runs="4"]').waitFor({ timeout: 60_000 });
    const seen = await readCompare(compare);
    const names = ['switch-seed0', 'top2-seed0', 'switch-seed1', 'top2-seed1'];
    say(`ui:   compare: ${JSON.stringify(seen.legend)}; table ${seen.rows.map((r) => r.join(' | ')).join(' / ')}; heatmaps ${JSON.stringify(seen.heatmaps)}`);
    say(`ui:   over seeds: ${seen.entryHead.join(' | ')} / ${seen.entries.map((r) => r.join(' | ')).join(' / ')}`);
    say(`ui:   over training: ${seen.overHead.join(' | ')} / ${seen.over.map((r) => r.join(' | ')).join(' / ')}`);
    // One legend line per entry, in its colour; each seed's curve in a line of its own, named.
    if (JSON.stringify(seen.legend.map((l) => [l.name, l.seeds])) !== JSON.stringify(['switch', 'top2'].map((e) => [e, 'seed 0 solid, seed 1 dashed'])))
      throw new Error(`the legend reads ${JSON.stringify(seen.legend)}`);
    // Each entry over its two seeds: mean [least, greatest], and top2 against switch seed by seed.
    const spread = (signed) => new RegExp(`^${signed ? '[+−]' : ''}\\d\\.\\d{3} \\[${signed ? '[+−]' : ''}\\d\\.\\d{3}, ${signed ? '[+−]' : ''}\\d\\.\\d{3}\\]$`);
    if (seen.entryHead.slice(0, 3).join(' | ') !== 'entry | seeds | val CE @ step 20' || seen.entryHead[5] !== 'late − switch, same seed') throw new Error(`the seeds table's columns: ${JSON.stringify(seen.entryHead)}`);
    if (seen.entries.length !== 2 || !seen.entries.every((r, i) => r[0] === ['switch', 'top2'][i] && r[1] === '0, 1' && spread(false).test(r[2]) && spread(false).test(r[4]) && r[6] === '0'))
      throw new Error(`the seeds table reads ${JSON.stringify(seen.entries)}`);
    if (seen.entries[0][5] !== '—' || !spread(true).test(seen.entries[1][5])) throw new Error(`the paired difference reads ${JSON.stringify(seen.entries.map((r) => r[5]))}`);
    // Over training: top2 against switch in each quarter with validations (every 5 steps of 20); the last quarter is the late window.
    if (JSON.stringify(seen.overHead) !== JSON.stringify(['entry − switch', 'step 5', 'step 10', 'steps 15–20 (2)'])) throw new Error(`the over-training table's columns: ${JSON.stringify(seen.overHead)}`);
    if (seen.over.length !== 1 || seen.over[0][0] !== 'top2' || !seen.over[0].slice(1).every((c) => spread(true).test(c)) || seen.over[0][3] !== seen.entries[1][5])
      throw new Error(`the over-training table reads ${JSON.stringify(seen.over)} (late − switch: ${seen.entries[1][5]})`);
    const palette = await webviewPalette(compare);
    const expected = [palette.chartBlue, palette.chartOrange];
    if (seen.legend.some((l, i) => l.color !== expected[i])) throw new Error(`legend colours ${seen.legend.map((l) => l.color)} are not the charts' ${expected}`);
    if (seen.rows.length !== 4 || !seen.rows.every((r, i) => r[0] === names[i] && r[1] === 'completed' && r[2] === '20' && /^\d+\.\d{3}$/.test(r[3]) && /^\d+\.\d{3}$/.test(r[4])))
      throw new Error(`the results table reads ${JSON.stringify(seen.rows)}`);
    if (seen.heatmaps.length !== 4 || !seen.heatmaps.every((h, i) => h.title === `Expert load of ${names[i]}` && h.points > 0 && h.lastStep === 20))
      throw new Error(`the heatmaps: ${JSON.stringify(seen.heatmaps)}`);
    // The loss chart draws both entries' colours, and no third (a run coloured on its own); its data table has a column per run and series.
    const ink = await canvasInk(compare.locator('#chart-loss-step canvas'), [...expected, palette.chartGreen, palette.chartPurple]);
    if (ink[0] < 50 || ink[1] < 50 || ink[2] > 10 || ink[3] > 10) throw new Error(`the loss chart's pixels in blue, orange, green, purple: ${ink}`);
    await shot('compare.png');
    // The loss chart's PNG button: the save dialog, then the chart's picture, at its canvas's size, on disk.
    const pngPath = join(mkdtempSync(join(tmpdir(), 'sy-ui-png-')), 'loss-by-step.png');
    await compare.locator('#chart-loss-step .png-button').click();
    await wb.typePath(pngPath);
    await page.keyboard.press('Enter');
    const png = await pollUntil('the PNG is written', () => (existsSync(pngPath) ? readFileSync(pngPath) : null), (b) => b !== null && b.length > 2_000, 30_000);
    const canvasSize = await compare.locator('#chart-loss-step canvas').evaluate((c) => [c.width, c.height]);
    if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error(`${pngPath} is not a PNG`);
    if (png.readUInt32BE(16) !== canvasSize[0] || png.readUInt32BE(20) !== canvasSize[1]) throw new Error(`the PNG is ${png.readUInt32BE(16)}×${png.readUInt32BE(20)}, the chart ${canvasSize.join('×')}`);
    say(`ui:   PNG export: ${png.length} bytes, ${canvasSize.join('×')}`);
    await compare.locator('#chart-loss-step .link-button', { hasText: 'Show data' }).click();
    const head = await compare.locator('#chart-loss-step table thead th').allTextContents();
    if (JSON.stringify(head) !== JSON.stringify(['Step', ...names.flatMap((n) => [n, `${n} · validation`])])) throw new Error(`the loss table's columns: ${JSON.stringify(head)}`);
    await compare.locator('#layer-select').selectOption({ index: 1 });
    const layer = await compare.locator('#layer-select').inputValue();
    await pollUntil('both heatmaps show the second layer', () => compare.locator('#heatmaps figure').evaluateAll((fs) => fs.map((f) => f.dataset.layer)), (ls) => ls.every((l) => l === layer), 10_000);
    await compare.locator('#heatmaps').scrollIntoViewIfNeeded();
    await shot('compare-heatmaps.png');
    // Developer: Reload Window (the workbench saves its editors' webview state on the way out): the
    // serializer and the webview's state bring the same comparison back, the second layer still chosen.
    const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 60_000 });
    await wb.runCommand('Developer: Reload Window', { then: 'none' });
    await navigated;
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 120_000 });
    const again = await compareFrame(page, 'restored after the reload', 120_000);
    await again.locator('#app[data-view="compare"][data-runs="4"]').waitFor({ timeout: 120_000 });
    const restored = await readCompare(again);
    if (JSON.stringify(restored.rows) !== JSON.stringify(seen.rows)) throw new Error(`after the reload the table reads ${JSON.stringify(restored.rows)}`);
    if (JSON.stringify(restored.entries) !== JSON.stringify(seen.entries)) throw new Error(`after the reload the seeds table reads ${JSON.stringify(restored.entries)}`);
    if (JSON.stringify(restored.over) !== JSON.stringify(seen.over)) throw new Error(`after the reload the over-training table reads ${JSON.stringify(restored.over)}`);
    if ((await again.locator('#layer-select').inputValue()) !== layer) throw new Error('the chosen layer was not restored');
    if (!(await again.locator('#chart-loss-step .link-button', { hasText: 'Hide data' }).isVisible())) throw new Error("the loss chart's data table was not restored");
  });

  check("Train Experiment Longer… on the Experiments row: the input box offers twice the steps and refuses fewer; the rows then read 30 steps", async () => {
    await wb.dismiss();
    await wb.runCommand('View: Close All Editors');
    const row = await experimentRow(page, 'compare-grid.json');
    const description = () => row.locator('.label-description').textContent();
    await pollUntil('the experiment of the Compare check', description, (t) => t === 'completed · 4/4 runs · 2 seeds · 20 steps each · 2 at a time', 60_000);
    await wb.contextMenu(row, 'Train Experiment Longer…');
    const title = await pollUntil('the steps input', () => wb.quickInput.locator('.quick-input-title').textContent(), (t) => /Train compare-grid\.json Longer/.test(t ?? ''), 30_000);
    const box = wb.quickInput.locator('.quick-input-box input');
    const offered = await box.inputValue();
    if (offered !== '40') throw new Error(`the input box offers ${JSON.stringify(offered)}, not twice the 20 steps`);
    const message = wb.quickInput.locator('.quick-input-message');
    await box.fill('15');
    const refusal = await pollUntil('the refusal of fewer steps', () => message.textContent(), (t) => /a whole number of steps above 20/.test(t ?? ''), 10_000);
    await box.fill('30');
    await page.keyboard.press('Enter');
    say(`ui:   ${title.trim()}: offered ${offered}; 15 reads "${refusal.trim()}"`);
    await pollUntil('the experiment trained on to 30 steps', description, (t) => t === 'completed · 4/4 runs · 2 seeds · 30 steps each · 2 at a time', 300_000, 1000);
    if ((await row.getAttribute('aria-expanded')) === 'false') await row.locator('.monaco-tl-twistie').click();
    const runRows = page.locator('.pane-body .monaco-list-row[aria-level="3"]');
    const names = ['switch-seed0', 'top2-seed0', 'switch-seed1', 'top2-seed1'];
    const read = () => runRows.evaluateAll((rs) => rs.map((r) => [r.querySelector('.label-name')?.textContent?.trim(), r.querySelector('.label-description')?.textContent]));
    const runs = await pollUntil("its four runs' rows at step 30", read, (rs) => names.every((n) => rs.some(([name, d]) => name === n && /^completed · step 30\/30 · cross-entropy \d+\.\d{3}$/.test(d ?? ''))), 20_000);
    say(`ui:   runs: ${runs.filter(([name]) => names.includes(name)).map((r) => r.join(': ')).join(' / ')}`);
  });
}

/** The Runs view's row of the experiment `name`, the view and its Experiments node opened. */
async function experimentRow(page, name) {
  const runsHeader = page.locator('.pane-header', { hasText: /^Runs/ }).first();
  if ((await runsHeader.getAttribute('aria-expanded')) === 'false') await runsHeader.click();
  const group = page.locator('.pane-body .monaco-list-row', { hasText: /^\s*Experiments/ }).first();
  await group.waitFor({ timeout: 60_000 });
  if ((await group.getAttribute('aria-expanded')) === 'false') await group.locator('.monaco-tl-twistie').click();
  return page.locator('.pane-body .monaco-list-row', { hasText: name }).first();
}

/** The Compare view's document: the webview frame that holds #compare-title (a dashboard may be open too). */
async function compareFrame(page, when, timeoutMs = 60_000) {
  try {
    return await pollUntil(
      `the Compare view, ${when}`,
      async () => {
        for (const f of page.frames()) if (await f.locator('#compare-title').count().catch(() => 0)) return f;
        return null;
      },
      (f) => f !== null,
      timeoutMs,
      250,
    );
  } catch (e) {
    // What the page has instead, for a failure seen only on another machine: the editor tabs and each frame's body.
    const tabs = await page.locator('.tabs-container .tab').allInnerTexts().catch(() => []);
    const frames = await Promise.all(
      page.frames().map(async (f) => `${f.url().slice(0, 80)}: ${(await f.locator('body').innerText({ timeout: 1000 }).catch(() => '?')).replace(/\s+/g, ' ').slice(0, 80)}`),
    );
    throw new Error(`${e.message}; tabs ${JSON.stringify(tabs)}; frames ${JSON.stringify(frames)}`);
  }
}

/** What the Compare view shows: legend names, swatch colours and seeds' lines, the seeds' and over-training tables, the results rows, each heatmap's title and data. */
async function readCompare(frame) {
  return frame.locator('#app').evaluate((app) => {
    const hex = (c) => '#' + (c.match(/\d+/g) ?? []).slice(0, 3).map((x) => Number(x).toString(16).padStart(2, '0')).join('');
    return {
      legend: [...app.querySelectorAll('#legend li')].map((li) => ({
        name: li.querySelector('.legend-name')?.textContent,
        color: hex(getComputedStyle(li.querySelector('.swatch')).backgroundColor),
        seeds: li.querySelector('.legend-seeds')?.textContent ?? null,
      })),
      rows: [...app.querySelectorAll('#results-table tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent)),
      entryHead: app.querySelector('#entries').hidden ? [] : [...app.querySelectorAll('#entries-table thead th')].map((th) => th.textContent),
      entries: app.querySelector('#entries').hidden ? [] : [...app.querySelectorAll('#entries-table tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent)),
      overHead: app.querySelector('#over-training').hidden ? [] : [...app.querySelectorAll('#over-training-table thead th')].map((th) => th.textContent),
      over: app.querySelector('#over-training').hidden ? [] : [...app.querySelectorAll('#over-training-table tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent)),
      heatmaps: [...app.querySelectorAll('#heatmaps figure')].map((f) => ({ title: f.querySelector('.card-title')?.textContent, points: Number(f.dataset.points), lastStep: Number(f.dataset.lastStep) })),
    };
  });
}

/**
 * Columns the editor paints for the routed tokens (offsets in the selection, which starts at column
 * 0): one range per token that covers text, touching ranges of one decoration type (expert, dropped)
 * merged as Monaco draws them.
 */
function paintedRanges(tokens) {
  const out = [];
  for (const t of tokens.filter((x) => x.end > x.start).sort((a, b) => a.start - b.start)) {
    const key = `${t.expert}/${t.dropped}`;
    const last = out.at(-1);
    if (last && last.key === key && last.to >= t.start) last.to = Math.max(last.to, t.end);
    else out.push({ from: t.start, to: t.end, key });
  }
  return out;
}

/** How many opaque-enough pixels of a canvas have each of `colors` (#rrggbb; the canvas is transparent, so text keeps its color). */
async function canvasInk(canvas, colors) {
  return canvas.evaluate((c, hexes) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    const rgb = hexes.map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
    const counts = rgb.map(() => 0);
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] < 128) continue;
      rgb.forEach((col, k) => {
        if (col.every((v, j) => Math.abs(v - data[i + j]) <= 12)) counts[k]++;
      });
    }
    return counts;
  }, colors);
}

/** Selects the joke's sentence (its whole first line) in `editor`. */
async function selectJoke(page, editor) {
  // Keys pressed while the editor is still taking the focus are lost: click and select again until it holds.
  await pollUntil(
    'the sentence is selected',
    async () => {
      await editor.locator('.view-line').first().click();
      await page.keyboard.press('Home');
      await page.keyboard.press('Shift+End');
      await sleep(500);
      return editor.locator('.selected-text').count();
    },
    (n) => n > 0,
    30_000,
    0,
  );
}
