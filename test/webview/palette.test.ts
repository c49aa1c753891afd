import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeColor, paletteDataset, resolvePalette, seriesColor, seriesDash, seriesDashIndex, themeKindOf } from '../../webview/shared/palette';

test('theme kind from the body classes VS Code sets', () => {
  assert.equal(themeKindOf('vscode-light'), 'light');
  assert.equal(themeKindOf('vscode-dark'), 'dark');
  assert.equal(themeKindOf('foo vscode-high-contrast'), 'high-contrast');
  assert.equal(themeKindOf('vscode-high-contrast vscode-high-contrast-light'), 'high-contrast-light');
  assert.equal(themeKindOf(''), 'dark');
});

test('palette colors come from the first theme variable that holds a color', () => {
  const vars: Record<string, string> = {
    '--vscode-editor-foreground': ' #CCCCCC',
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-charts-lines': '',
    '--vscode-panel-border': 'rgba(128, 128, 128, 0.35)',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': 'garbage',
    '--vscode-charts-orange': '#ea5c0055',
    '--vscode-font-family': 'Segoe UI',
    '--vscode-font-size': '14px',
  };
  const p = resolvePalette((v) => vars[v] ?? '', 'vscode-dark');
  assert.equal(p.kind, 'dark');
  assert.equal(p.foreground, '#cccccc');
  assert.equal(p.grid, 'rgba(128, 128, 128, 0.35)');
  assert.equal(p.blue, '#3794ff');
  assert.equal(p.red, '#f14c4c', 'an unparseable value falls back to the theme default');
  assert.equal(p.orange, '#ea5c00', 'a chart hue is drawn opaque (Light Modern\'s charts.orange is translucent)');
  assert.equal(p.fontFamily, 'Segoe UI');
  assert.equal(p.fontSize, 14);
  const light = resolvePalette(() => '', 'vscode-light');
  assert.equal(light.background, '#ffffff');
  assert.equal(light.fontSize, 13);
  assert.notEqual(light.foreground, p.foreground);
});

test('a custom normalizer (the webview uses the canvas) decides what is a color', () => {
  const p = resolvePalette((v) => (v === '--vscode-charts-green' ? 'green' : ''), 'vscode-light', (s) => (s === 'green' ? '#008000' : normalizeColor(s)));
  assert.equal(p.green, '#008000');
});

test('the palette as body data attributes, and series colors and dashes', () => {
  const p = resolvePalette(() => '', 'vscode-high-contrast');
  const d = paletteDataset(p);
  assert.equal(d.themeKind, 'high-contrast');
  assert.equal(d.chartForeground, p.foreground);
  for (const k of ['chartBackground', 'chartGrid', 'chartRed', 'chartBlue', 'chartYellow', 'chartOrange', 'chartGreen', 'chartPurple']) assert.ok(d[k], k);
  assert.equal(seriesColor(p, 0), p.blue);
  assert.equal(seriesColor(p, 6), p.blue);
  assert.deepEqual(seriesDash(0), []);
  assert.notDeepEqual(seriesDash(6), []);
  assert.deepEqual([0, 5, 6, 11, 12].map((i) => seriesDashIndex(i, 2)), [0, 0, 1, 1, 0], 'the next dash each time the six colors wrap, of the dashes given');
});
