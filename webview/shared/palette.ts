// The colors the charts draw with, resolved from VS Code's theme variables. DOM-free: the webview
// passes a lookup that reads the variables (getComputedStyle) and a normalizer for color strings.
import { parseColor, toHex, toRgbaString } from './color';

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Palette {
  kind: ThemeKind;
  foreground: string;
  background: string;
  /** Secondary text: axis titles, captions. */
  muted: string;
  /** Grid lines. */
  grid: string;
  /** Borders of cells and widgets (the contrast border in high-contrast themes). */
  border: string;
  red: string;
  blue: string;
  yellow: string;
  orange: string;
  green: string;
  purple: string;
  tooltipBackground: string;
  tooltipForeground: string;
  tooltipBorder: string;
  fontFamily: string;
  /** px */
  fontSize: number;
}

/** Body classes VS Code sets: vscode-light, vscode-dark, vscode-high-contrast, vscode-high-contrast-light. */
export function themeKindOf(className: string): ThemeKind {
  const classes = new Set(className.split(/\s+/));
  if (classes.has('vscode-high-contrast-light')) return 'high-contrast-light';
  if (classes.has('vscode-high-contrast')) return 'high-contrast';
  if (classes.has('vscode-light')) return 'light';
  return 'dark';
}

type ColorKey = Exclude<keyof Palette, 'kind' | 'fontFamily' | 'fontSize'>;

/** VS Code's defaults (Dark Modern, Light Modern, the high-contrast themes) for a page that lacks the variables. */
const FALLBACK: Record<ThemeKind, Record<ColorKey, string>> = {
  dark: {
    foreground: '#cccccc', background: '#1f1f1f', muted: '#9d9d9d', grid: 'rgba(204, 204, 204, 0.2)', border: '#2b2b2b',
    red: '#f14c4c', blue: '#3794ff', yellow: '#cca700', orange: '#d18616', green: '#89d185', purple: '#b180d7',
    tooltipBackground: '#202020', tooltipForeground: '#cccccc', tooltipBorder: '#454545',
  },
  light: {
    foreground: '#3b3b3b', background: '#ffffff', muted: '#717171', grid: 'rgba(59, 59, 59, 0.15)', border: '#e5e5e5',
    red: '#e51400', blue: '#1a85ff', yellow: '#bf8803', orange: '#d18616', green: '#388a34', purple: '#652d90',
    tooltipBackground: '#f8f8f8', tooltipForeground: '#3b3b3b', tooltipBorder: '#c8c8c8',
  },
  'high-contrast': {
    foreground: '#ffffff', background: '#000000', muted: '#ffffff', grid: 'rgba(255, 255, 255, 0.35)', border: '#6fc3df',
    red: '#f48771', blue: '#3794ff', yellow: '#ffd700', orange: '#d18616', green: '#89d185', purple: '#b180d7',
    tooltipBackground: '#0c141f', tooltipForeground: '#ffffff', tooltipBorder: '#6fc3df',
  },
  'high-contrast-light': {
    foreground: '#292929', background: '#ffffff', muted: '#292929', grid: 'rgba(41, 41, 41, 0.35)', border: '#0f4a85',
    red: '#b5200d', blue: '#0f4a85', yellow: '#895503', orange: '#b5200d', green: '#1b5e20', purple: '#652d90',
    tooltipBackground: '#ffffff', tooltipForeground: '#292929', tooltipBorder: '#0f4a85',
  },
};

/** For each palette color, the theme variables tried in order. */
const SOURCES: Record<ColorKey, string[]> = {
  foreground: ['--vscode-editor-foreground', '--vscode-foreground'],
  background: ['--vscode-editor-background'],
  muted: ['--vscode-descriptionForeground', '--vscode-editor-foreground'],
  grid: ['--vscode-charts-lines', '--vscode-panel-border'],
  border: ['--vscode-contrastBorder', '--vscode-panel-border', '--vscode-widget-border'],
  red: ['--vscode-charts-red'],
  blue: ['--vscode-charts-blue'],
  yellow: ['--vscode-charts-yellow'],
  orange: ['--vscode-charts-orange'],
  green: ['--vscode-charts-green'],
  purple: ['--vscode-charts-purple'],
  tooltipBackground: ['--vscode-editorHoverWidget-background', '--vscode-editorWidget-background'],
  tooltipForeground: ['--vscode-editorHoverWidget-foreground', '--vscode-editor-foreground'],
  tooltipBorder: ['--vscode-editorHoverWidget-border', '--vscode-contrastBorder', '--vscode-panel-border'],
};

/** The chart hues: series lines and swatches, drawn opaque (a light theme's charts.orange is translucent). */
const HUES = new Set<ColorKey>(['red', 'blue', 'yellow', 'orange', 'green', 'purple']);

/** `value` without its alpha, as #rrggbb; unchanged when it cannot be parsed (a custom normalizer's form). */
function opaque(value: string): string {
  const c = parseColor(value);
  return c ? toHex(c) : value;
}

/** Default normalizer: accepts what parseColor understands, as rgba() or #rrggbb. */
export function normalizeColor(value: string): string | null {
  const c = parseColor(value);
  if (!c) return null;
  return c.a === 1 ? `#${[c.r, c.g, c.b].map((x) => Math.round(x).toString(16).padStart(2, '0')).join('')}` : toRgbaString(c);
}

/**
 * The palette for the current theme: each color from the first of its variables that holds a
 * color, else the theme kind's default.
 * @param lookup a variable's value ('' when unset), e.g. getComputedStyle(body).getPropertyValue
 * @param normalize a color string in a canonical form, or null when it is no color
 */
export function resolvePalette(
  lookup: (cssVariable: string) => string,
  className: string,
  normalize: (value: string) => string | null = normalizeColor,
): Palette {
  const kind = themeKindOf(className);
  const colors = {} as Record<ColorKey, string>;
  for (const key of Object.keys(SOURCES) as ColorKey[]) {
    let value: string | null = null;
    for (const v of SOURCES[key]) {
      const raw = lookup(v).trim();
      if (raw && (value = normalize(raw))) break;
    }
    colors[key] = value === null ? FALLBACK[kind][key] : HUES.has(key) ? opaque(value) : value;
  }
  const fontFamily = lookup('--vscode-font-family').trim() || 'system-ui, sans-serif';
  const size = parseFloat(lookup('--vscode-font-size'));
  return { kind, ...colors, fontFamily, fontSize: Number.isFinite(size) && size > 0 ? size : 13 };
}

/** The palette as body data attributes (camelCase keys for `dataset`), for tests to read. */
export function paletteDataset(p: Palette): Record<string, string> {
  return {
    themeKind: p.kind,
    chartForeground: p.foreground,
    chartBackground: p.background,
    chartMuted: p.muted,
    chartGrid: p.grid,
    chartBorder: p.border,
    chartRed: p.red,
    chartBlue: p.blue,
    chartYellow: p.yellow,
    chartOrange: p.orange,
    chartGreen: p.green,
    chartPurple: p.purple,
  };
}

/** The chart colors series take, in order. */
const SERIES_HUES = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'] as const;

/** Colors for series 0, 1, 2, ... (sparse layers): the chart colors in a fixed order. */
export function seriesColor(p: Palette, index: number): string {
  return p[SERIES_HUES[index % SERIES_HUES.length]];
}

/** Line patterns for series that share a color, in the order they are taken, with a legend's word for each. */
export const DASHES: readonly { pattern: number[]; name: string }[] = [
  { pattern: [], name: 'solid' },
  { pattern: [6, 3], name: 'dashed' },
  { pattern: [2, 3], name: 'dotted' },
  { pattern: [8, 3, 2, 3], name: 'dash-dot' },
];

/** Which of the first `dashCount` DASHES series `index` takes: the next each time the colors wrap. */
export function seriesDashIndex(index: number, dashCount = DASHES.length): number {
  return Math.floor(index / SERIES_HUES.length) % dashCount;
}

/** A dash pattern that tells apart series that share a color (past the sixth). */
export function seriesDash(index: number): number[] {
  return DASHES[seriesDashIndex(index)].pattern;
}
