// Reads the chart palette from VS Code's theme variables and reads it again whenever the theme
// changes (VS Code swaps body classes and rewrites the variables on <html>).
import { normalizeColor, paletteDataset, resolvePalette, type Palette } from './palette';

let probe: CanvasRenderingContext2D | null | undefined;

/** Any CSS color (named, hsl(), ...) in the canvas's canonical form (#rrggbb or rgba()); null if invalid. */
function normalizeCss(value: string): string | null {
  const direct = normalizeColor(value);
  if (direct) return direct;
  if (probe === undefined) probe = document.createElement('canvas').getContext('2d');
  if (!probe) return null;
  probe.fillStyle = '#010203';
  probe.fillStyle = value;
  const out = String(probe.fillStyle);
  if (out === '#010203' && value.trim().toLowerCase() !== '#010203') return null;
  return normalizeColor(out) ?? out;
}

export function readPalette(): Palette {
  const styles = getComputedStyle(document.body);
  return resolvePalette((v) => styles.getPropertyValue(v), document.body.className, normalizeCss);
}

/** Writes the palette to body data attributes (data-chart-foreground, ...), for tests. */
export function exposePalette(p: Palette): void {
  Object.assign(document.body.dataset, paletteDataset(p));
}

const same = (a: Palette, b: Palette): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Calls `onChange` with the new palette after each theme change (body class, or the variables on
 * <html> or <body>), and exposes it on the body. Returns the current palette.
 */
export function watchTheme(onChange: (p: Palette) => void): Palette {
  let current = readPalette();
  exposePalette(current);
  let queued = false;
  const reread = (): void => {
    queued = false;
    const next = readPalette();
    exposePalette(next);
    if (!same(next, current)) {
      current = next;
      onChange(next);
    }
  };
  const observer = new MutationObserver(() => {
    // Several attributes change together on a theme switch: read once, after them all.
    if (!queued) {
      queued = true;
      queueMicrotask(reread);
    }
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind', 'data-vscode-theme-id'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['class', 'style'] });
  return current;
}
