// Color arithmetic for the webviews: parsing the colors VS Code's theme variables hold, mixing,
// alpha, and WCAG contrast. No DOM: the webviews resolve theme colors and hand the strings here.

export interface Rgba {
  /** 0..255 */
  r: number;
  g: number;
  b: number;
  /** 0..1 */
  a: number;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(...) and rgba(...) (comma or space syntax); null otherwise. */
export function parseColor(input: string): Rgba | null {
  const s = input.trim().toLowerCase();
  if (s.startsWith('#')) {
    const hex = s.slice(1);
    if (!/^[0-9a-f]+$/.test(hex)) return null;
    if (hex.length === 3 || hex.length === 4) {
      const [r, g, b, a] = [...hex].map((c) => parseInt(c + c, 16));
      return { r, g, b, a: a === undefined ? 1 : a / 255 };
    }
    if (hex.length === 6 || hex.length === 8) {
      const v = (i: number): number => parseInt(hex.slice(i, i + 2), 16);
      return { r: v(0), g: v(2), b: v(4), a: hex.length === 8 ? v(6) / 255 : 1 };
    }
    return null;
  }
  const m = /^rgba?\(([^)]*)\)$/.exec(s);
  if (!m) return null;
  const parts = m[1]
    .replace(/\//g, ' ')
    .split(/[\s,]+/)
    .filter(Boolean);
  if (parts.length !== 3 && parts.length !== 4) return null;
  const channel = (p: string): number => (p.endsWith('%') ? (parseFloat(p) / 100) * 255 : parseFloat(p));
  const [r, g, b] = parts.slice(0, 3).map(channel);
  const a = parts[3] === undefined ? 1 : parts[3].endsWith('%') ? parseFloat(parts[3]) / 100 : parseFloat(parts[3]);
  if ([r, g, b, a].some((x) => !Number.isFinite(x))) return null;
  return { r: clamp(r, 0, 255), g: clamp(g, 0, 255), b: clamp(b, 0, 255), a: clamp(a, 0, 1) };
}

const hex2 = (x: number): string => Math.round(clamp(x, 0, 255)).toString(16).padStart(2, '0');

/** #rrggbb, ignoring alpha. */
export function toHex(c: Rgba): string {
  return `#${hex2(c.r)}${hex2(c.g)}${hex2(c.b)}`;
}

/** rgba(r, g, b, alpha) with the given alpha (default: the color's own). */
export function toRgbaString(c: Rgba, alpha = c.a): string {
  const r = Math.round(c.r);
  const g = Math.round(c.g);
  const b = Math.round(c.b);
  return `rgba(${r}, ${g}, ${b}, ${+clamp(alpha, 0, 1).toFixed(3)})`;
}

/** `color` with `alpha` (its own alpha multiplied); the input unchanged when it cannot be parsed. */
export function withAlpha(color: string, alpha: number): string {
  const c = parseColor(color);
  return c ? toRgbaString(c, c.a * alpha) : color;
}

/** Linear blend of two colors: t = 0 gives a, t = 1 gives b. */
export function mix(a: Rgba, b: Rgba, t: number): Rgba {
  const u = clamp(t, 0, 1);
  return { r: a.r + (b.r - a.r) * u, g: a.g + (b.g - a.g) * u, b: a.b + (b.b - a.b) * u, a: a.a + (b.a - a.a) * u };
}

/** A color seen over an opaque background (alpha composited away). */
export function flatten(c: Rgba, background: Rgba): Rgba {
  return { ...mix(background, { ...c, a: 1 }, c.a), a: 1 };
}

/** WCAG 2 relative luminance, 0 (black) .. 1 (white). */
export function relativeLuminance(c: Rgba): number {
  const lin = (v: number): number => {
    const x = v / 255;
    return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

/** WCAG 2 contrast ratio, 1..21. */
export function contrastRatio(a: Rgba, b: Rgba): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

export const BLACK = '#000000';
export const WHITE = '#ffffff';

/** Black or white, whichever contrasts more with `background` (always at least 4.58:1). */
export function readableTextColor(background: Rgba): typeof BLACK | typeof WHITE {
  const black = contrastRatio(background, { r: 0, g: 0, b: 0, a: 1 });
  const white = contrastRatio(background, { r: 255, g: 255, b: 255, a: 1 });
  return black >= white ? BLACK : WHITE;
}

/** h in degrees, s and l in 0..1. */
export function hslToRgb(h: number, s: number, l: number): Rgba {
  const hh = (((h % 360) + 360) % 360) / 360;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t0: number): number => {
    let t = t0;
    if (t < 0) t += 1;
    if (t > 1) t -= 1;
    if (t < 1 / 6) return p + (q - p) * 6 * t;
    if (t < 1 / 2) return q;
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
    return p;
  };
  return { r: channel(hh + 1 / 3) * 255, g: channel(hh) * 255, b: channel(hh - 1 / 3) * 255, a: 1 };
}

/** CIE L*a*b* (D65), for telling colors apart. */
export function toLab(c: Rgba): [number, number, number] {
  const lin = (v: number): number => {
    const x = v / 255;
    return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = [lin(c.r), lin(c.g), lin(c.b)];
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

/** CIE76 color difference: about 2.3 is just noticeable, 20+ is clearly another color. */
export function deltaE(a: Rgba, b: Rgba): number {
  const [l1, a1, b1] = toLab(a);
  const [l2, a2, b2] = toLab(b);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}
